// common.cuh: error checks, bf16 casts and warp/block reductions shared by the CUDA kernels.
#ifndef SIFT_KERNELS_COMMON_CUH
#define SIFT_KERNELS_COMMON_CUH

#include <errno.h>		// program_invocation_short_name
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
#include <cuda_bf16.h>

#define SIFT_WARP 32

// a CUDA error is a device error: "prog: cuda: file:line: message", exit 1
// (exit status SIFT_EXIT_DATA in lib/stream.h)
static inline void sift_cuda_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s: cuda: %s:%d: %s\n", program_invocation_short_name,
		file, line, what);
	exit(1);
}

#define CUDA_CHECK(call) do { \
	cudaError_t e_ = (call); \
	if (e_ != cudaSuccess) sift_cuda_fail(cudaGetErrorString(e_), __FILE__, __LINE__); \
} while (0)

// after every launch: a bad configuration shows here, not three kernels later
#define CUDA_LAUNCHED() CUDA_CHECK(cudaGetLastError())

static inline int sift_ceil_div(long a, long b) { return (int)((a + b - 1) / b); }

// ---- element types: float (fp32 path) and __nv_bfloat16 (bf16 path) ----

template <typename T> __device__ __forceinline__ float to_f(T x);
template <> __device__ __forceinline__ float to_f<float>(float x) { return x; }
template <> __device__ __forceinline__ float to_f<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ float from_f<float>(float x) { return x; }
// round to nearest even: deterministic, so two runs are bit-identical
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// ---- reductions (fixed order: the same result on every run) ----

__device__ __forceinline__ float warp_sum(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

__device__ __forceinline__ float warp_max(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

#endif
