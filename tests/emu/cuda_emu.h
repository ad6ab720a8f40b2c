// cuda_emu.h: just enough of the CUDA runtime, cuBLAS and device intrinsics to run sift's kernels on the CPU (one block at a time, one pthread per GPU thread), to check their logic where there is no GPU.
#ifndef SIFT_CUDA_EMU_H
#define SIFT_CUDA_EMU_H

#include <pthread.h>
#include <sys/mman.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <type_traits>
#include <vector>

using std::max;
using std::min;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// blocks run one after another, so a static is a block's shared memory
#define __shared__ static
#define __restrict__

struct dim3 {
	unsigned x, y, z;
	dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct uint3 { unsigned x, y, z; };
struct alignas(16) int4 { int x, y, z, w; };

inline thread_local uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline void *emu_dynsmem;

// ---- device memory: mmap'd, and PROT_NONE whenever no kernel, copy or
// GEMM runs, so that host code touching a device pointer faults here as
// it would (with a segfault) on a real GPU ----
struct emu_alloc { void *p; size_t n; };
inline std::vector<emu_alloc> emu_allocs;
inline int emu_depth;

inline void emu_protect(int prot)
{
	for (auto &a : emu_allocs)
		mprotect(a.p, a.n, prot);
}
inline void emu_open() { if (emu_depth++ == 0) emu_protect(PROT_READ | PROT_WRITE); }
inline void emu_close() { if (--emu_depth == 0) emu_protect(PROT_NONE); }

// ---- a barrier that threads may leave (a returned GPU thread) ----
struct emu_barrier {
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	int alive = 0, waiting = 0;
	unsigned gen = 0;
};

inline void emu_bar_wait(emu_barrier *b)
{
	pthread_mutex_lock(&b->m);
	unsigned g = b->gen;
	if (++b->waiting == b->alive) {
		b->waiting = 0;
		b->gen++;
		pthread_cond_broadcast(&b->c);
	} else {
		while (g == b->gen)
			pthread_cond_wait(&b->c, &b->m);
	}
	pthread_mutex_unlock(&b->m);
}

inline void emu_bar_exit(emu_barrier *b)
{
	pthread_mutex_lock(&b->m);
	b->alive--;
	if (b->waiting > 0 && b->waiting == b->alive) {
		b->waiting = 0;
		b->gen++;
		pthread_cond_broadcast(&b->c);
	}
	pthread_mutex_unlock(&b->m);
}

struct emu_block {
	emu_barrier bar;
	std::vector<emu_barrier> warp;
	std::vector<float> fx;	// one slot a thread for shuffles
	std::vector<double> dx;
	int orv = 0;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
};
inline emu_block *emu_blk;

inline int emu_tid()
{
	return (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}

inline void __syncthreads() { emu_bar_wait(&emu_blk->bar); }

inline int __syncthreads_or(int p)
{
	emu_bar_wait(&emu_blk->bar);
	pthread_mutex_lock(&emu_blk->m);
	emu_blk->orv |= p != 0;
	pthread_mutex_unlock(&emu_blk->m);
	emu_bar_wait(&emu_blk->bar);
	int r = emu_blk->orv;
	emu_bar_wait(&emu_blk->bar);
	if (emu_tid() == 0)
		emu_blk->orv = 0;
	emu_bar_wait(&emu_blk->bar);
	return r;
}

inline float __shfl_xor_sync(unsigned, float v, int o)
{
	int t = emu_tid(), w = t / 32, lane = t % 32;
	emu_blk->fx[t] = v;
	emu_bar_wait(&emu_blk->warp[w]);
	float r = emu_blk->fx[w * 32 + (lane ^ o)];
	emu_bar_wait(&emu_blk->warp[w]);
	return r;
}

// ---- launches: kernel<<<g, b, smem>>>(args) is rewritten to
// emu_launch(emu_cfg(g, b, smem), kernel, args) by scripts/check-cuda-emu.sh
struct emu_cfg {
	dim3 g, b;
	size_t smem;
	emu_cfg(dim3 g_, dim3 b_, size_t s = 0, int = 0) : g(g_), b(b_), smem(s) {}
};

template <typename F, typename... A>
void emu_launch(emu_cfg c, F f, A... a)
{
	gridDim = c.g;
	blockDim = c.b;
	int nt = (int)(c.b.x * c.b.y * c.b.z);
	unsigned nb = c.g.x * c.g.y * c.g.z;
	// a canary of 4 KiB past the launch's shared memory catches a kernel
	// that carves more than it asked for
	std::vector<unsigned char> smem(c.smem + 4096);
	emu_dynsmem = smem.data();
	emu_block blk;
	blk.warp.resize((nt + 31) / 32);
	blk.fx.resize(nt);
	emu_blk = &blk;
	pthread_barrier_t pool;
	pthread_barrier_init(&pool, NULL, (unsigned)nt);
	emu_open();
	// one pthread per GPU thread for the whole launch; the blocks run
	// one after another, the pool barrier between them
	std::vector<std::thread> th;
	th.reserve(nt);
	for (int t = 0; t < nt; t++)
		th.emplace_back([&, t]() {
			threadIdx.x = t % c.b.x;
			threadIdx.y = (t / c.b.x) % c.b.y;
			threadIdx.z = t / (c.b.x * c.b.y);
			for (unsigned k = 0; k < nb; k++) {
				if (t == 0) {
					// poison shared memory: a read before a write is NaN
					memset(smem.data(), 0xff, c.smem);
					memset(smem.data() + c.smem, 0xa5, 4096);
					blk.bar.alive = nt;
					blk.bar.waiting = 0;
					for (int w = 0; w < (nt + 31) / 32; w++) {
						blk.warp[w].alive = std::min(32, nt - 32 * w);
						blk.warp[w].waiting = 0;
					}
					blk.orv = 0;
				}
				pthread_barrier_wait(&pool);
				blockIdx.x = k % c.g.x;
				blockIdx.y = (k / c.g.x) % c.g.y;
				blockIdx.z = k / (c.g.x * c.g.y);
				f(a...);
				emu_bar_exit(&blk.bar);
				emu_bar_exit(&blk.warp[t / 32]);
				pthread_barrier_wait(&pool);
				if (t == 0)
					for (size_t i = c.smem; i < smem.size(); i++)
						if (smem[i] != 0xa5) {
							fprintf(stderr, "cuda_emu: a kernel wrote past its %zu bytes of shared memory\n", c.smem);
							abort();
						}
			}
		});
	for (auto &x : th)
		x.join();
	emu_close();
	pthread_barrier_destroy(&pool);
}

// ---- bf16 ----
struct __nv_bfloat16 { uint16_t x; };
inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	__nv_bfloat16 h;
	if ((u & 0x7fffffffu) > 0x7f800000u)
		h.x = 0x7fc0;
	else
		h.x = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
	return h;
}
inline float __bfloat162float(__nv_bfloat16 h)
{
	uint32_t u = (uint32_t)h.x << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

// ---- wmma: every thread of the warp holds and computes the whole tile ----
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment { float x[16 * 16]; };

template <typename Use, typename L>
inline void load_matrix_sync(fragment<Use, 16, 16, 16, __nv_bfloat16, L> &f,
			     const __nv_bfloat16 *p, unsigned ldm)
{
	for (int r = 0; r < 16; r++)
		for (int c = 0; c < 16; c++)
			f.x[r * 16 + c] = __bfloat162float(std::is_same<L, row_major>::value ?
				p[r * ldm + c] : p[r + c * ldm]);
}
inline void fill_fragment(fragment<accumulator, 16, 16, 16, float> &f, float v)
{
	for (int i = 0; i < 256; i++)
		f.x[i] = v;
}
template <typename La, typename Lb>
inline void mma_sync(fragment<accumulator, 16, 16, 16, float> &d,
		     const fragment<matrix_a, 16, 16, 16, __nv_bfloat16, La> &a,
		     const fragment<matrix_b, 16, 16, 16, __nv_bfloat16, Lb> &b,
		     const fragment<accumulator, 16, 16, 16, float> &c)
{
	float t[256];
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++) {
			float s = c.x[i * 16 + j];
			for (int k = 0; k < 16; k++)
				s += a.x[i * 16 + k] * b.x[k * 16 + j];
			t[i * 16 + j] = s;
		}
	memcpy(d.x, t, sizeof t);
}
inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, 16, float> &f,
			      unsigned ldm, layout_t l)
{
	for (int r = 0; r < 16; r++)
		for (int c = 0; c < 16; c++)
			(l == mem_row_major ? p[r * ldm + c] : p[r + c * ldm]) = f.x[r * 16 + c];
}
}	// namespace wmma
}	// namespace nvcuda

// ---- runtime ----
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2, cudaErrorInsufficientDriver = 35 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum cudaDeviceAttr { cudaDevAttrMaxSharedMemoryPerBlockOptin };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize };
typedef void *cudaStream_t;
struct cudaDeviceProp { char name[256]; int major, minor, multiProcessorCount; };
inline const char *cudaGetErrorString(cudaError_t e) { return e ? "emulated error" : "no error"; }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaGetDevice(int *d) { *d = 0; return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int)
{
	snprintf(p->name, sizeof p->name, "CPU emulation");
	p->major = 9;
	p->minor = 0;
	p->multiProcessorCount = 4;
	return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr, int) { *v = 227 * 1024; return cudaSuccess; }
inline void __trap() { abort(); }
template <typename F> cudaError_t cudaFuncSetAttribute(F, cudaFuncAttribute, int) { return cudaSuccess; }
inline cudaError_t cudaMalloc(void **p, size_t n)
{
	size_t pg = 4096, len = (n + pg - 1) / pg * pg;
	void *q = mmap(NULL, len ? len : pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return cudaErrorMemoryAllocation;
	memset(q, 0xff, len);	// garbage (NaN), as device memory is
	if (emu_depth == 0)
		mprotect(q, len ? len : pg, PROT_NONE);
	emu_allocs.push_back({ q, len ? len : pg });
	*p = q;
	return cudaSuccess;
}
template <typename T> cudaError_t cudaMalloc(T **p, size_t n) { return cudaMalloc((void **)p, n); }
inline cudaError_t cudaFree(void *p)
{
	for (size_t i = 0; i < emu_allocs.size(); i++)
		if (emu_allocs[i].p == p) {
			munmap(p, emu_allocs[i].n);
			emu_allocs.erase(emu_allocs.begin() + i);
			return cudaSuccess;
		}
	return p ? 1 : cudaSuccess;
}
inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
	emu_open();
	memmove(d, s, n);
	emu_close();
	return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k, cudaStream_t = 0) { return cudaMemcpy(d, s, n, k); }
inline cudaError_t cudaMemset(void *p, int v, size_t n)
{
	emu_open();
	memset(p, v, n);
	emu_close();
	return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t = 0) { return cudaMemset(p, v, n); }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

// ---- cuBLAS: a plain column-major GEMM; cuBLASLt finds no algorithm ----
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_SUPPORTED = 15 };
typedef enum { CUBLAS_OP_N, CUBLAS_OP_T } cublasOperation_t;
typedef enum { CUDA_R_32F, CUDA_R_16BF } cudaDataType_t;
typedef enum { CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_16BF } cublasComputeType_t;
enum { CUBLAS_GEMM_DEFAULT = -1, CUBLAS_DEFAULT_MATH = 0, CUBLAS_ATOMICS_NOT_ALLOWED = 0 };
typedef void *cublasHandle_t, *cublasLtHandle_t, *cublasLtMatmulDesc_t,
	*cublasLtMatrixLayout_t, *cublasLtMatmulPreference_t;
typedef int cublasLtEpilogue_t;
enum { CUBLASLT_EPILOGUE_BIAS = 4 };
enum {
	CUBLASLT_MATMUL_DESC_TRANSA, CUBLASLT_MATMUL_DESC_TRANSB,
	CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
	CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
	CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
	CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
	CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
};
struct cublasLtMatmulAlgo_t { int x; };
struct cublasLtMatmulHeuristicResult_t { cublasLtMatmulAlgo_t algo; };
inline const char *cublasGetStatusString(cublasStatus_t) { return "emulated cuBLAS error"; }
inline cublasStatus_t cublasCreate(cublasHandle_t *h) { *h = (void *)1; return 0; }
inline cublasStatus_t cublasLtCreate(cublasLtHandle_t *h) { *h = (void *)1; return 0; }
inline cublasStatus_t cublasSetWorkspace(cublasHandle_t, void *, size_t) { return 0; }
inline cublasStatus_t cublasSetMathMode(cublasHandle_t, int) { return 0; }
inline cublasStatus_t cublasSetAtomicsMode(cublasHandle_t, int) { return 0; }
inline cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t, cudaDataType_t) { *d = 0; return 0; }
inline cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t, int, const void *, size_t) { return 0; }
inline cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType_t, uint64_t, uint64_t, int64_t) { *l = 0; return 0; }
inline cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) { *p = 0; return 0; }
inline cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t, int, const void *, size_t) { return 0; }
inline cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t,
	cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
	cublasLtMatmulPreference_t, int, cublasLtMatmulHeuristicResult_t *, int *found)
{
	*found = 0;
	return 0;
}
inline cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t, const void *, const void *,
	cublasLtMatrixLayout_t, const void *, cublasLtMatrixLayout_t, const void *, void *,
	cublasLtMatrixLayout_t, void *, cublasLtMatrixLayout_t, const cublasLtMatmulAlgo_t *, void *,
	size_t, cudaStream_t) { return CUBLAS_STATUS_NOT_SUPPORTED; }
inline cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t) { return 0; }
inline cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t) { return 0; }
inline cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t) { return 0; }

inline float emu_ld(const void *p, cudaDataType_t t, size_t i)
{
	return t == CUDA_R_16BF ? __bfloat162float(((const __nv_bfloat16 *)p)[i]) : ((const float *)p)[i];
}

inline cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t, cublasOperation_t ta,
	cublasOperation_t tb, int m, int n, int k, const void *alpha, const void *A,
	cudaDataType_t at, int lda, long long sa, const void *B, cudaDataType_t bt,
	int ldb, long long sb, const void *beta, void *C, cudaDataType_t, int ldc,
	long long sc, int batch, cublasComputeType_t, int)
{
	float al = *(const float *)alpha, be = *(const float *)beta;
	emu_open();
	for (int q = 0; q < batch; q++)
		for (int j = 0; j < n; j++)
			for (int i = 0; i < m; i++) {
				double s = 0.0;
				for (int l = 0; l < k; l++) {
					size_t ia = q * sa + (ta == CUBLAS_OP_N ? i + (size_t)l * lda : l + (size_t)i * lda);
					size_t ib = q * sb + (tb == CUBLAS_OP_N ? l + (size_t)j * ldb : j + (size_t)l * ldb);
					s += (double)emu_ld(A, at, ia) * emu_ld(B, bt, ib);
				}
				float *c = (float *)C + q * sc + i + (size_t)j * ldc;
				*c = (float)(al * s + (be != 0.0f ? be * *c : 0.0f));
			}
	emu_close();
	return 0;
}

inline cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
	int m, int n, int k, const void *alpha, const void *A, cudaDataType_t at, int lda,
	const void *B, cudaDataType_t bt, int ldb, const void *beta, void *C, cudaDataType_t ct,
	int ldc, cublasComputeType_t comp, int algo)
{
	return cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, alpha, A, at, lda, 0, B, bt, ldb, 0,
					  beta, C, ct, ldc, 0, 1, comp, algo);
}

#endif
