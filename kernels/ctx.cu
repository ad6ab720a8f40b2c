// ctx.cu: creates the CUDA backend's cuBLAS handles, workspace and scratch buffers once per process.
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.cuh"

#ifndef SIFT_CUDA_EMU_H
/* the sonames of the toolkit sift was built with; the executable's
 * run path (the toolkit's lib64) and LD_LIBRARY_PATH find them */
static const char *const blas_so[2] = {
	"libcublas.so." SIFT_STR(CUBLAS_VER_MAJOR),
	"libcublasLt.so." SIFT_STR(CUBLAS_VER_MAJOR),
};

static pthread_mutex_t blas_mu = PTHREAD_MUTEX_INITIALIZER;
static void *blas_lib[2];

/* the function name of cuBLAS (lt 0) or cuBLASLt (1), or NULL with the
 * reason in why */
static void *blas_find(const char *name, char *why, size_t n)
{
	int lt = strncmp(name, "cublasLt", 8) == 0;
	pthread_mutex_lock(&blas_mu);
	if (!blas_lib[lt])
		blas_lib[lt] = dlopen(blas_so[lt], RTLD_NOW | RTLD_LOCAL);
	void *h = blas_lib[lt];
	const char *err = h ? NULL : dlerror();
	void *p = h ? dlsym(h, name) : NULL;
	pthread_mutex_unlock(&blas_mu);
	if (!h)
		snprintf(why, n, "cannot load %s: %s", blas_so[lt], err ? err : "unknown error");
	else if (!p)
		snprintf(why, n, "%s has no %s", blas_so[lt], name);
	return p;
}

void *sift_cublas_sym(const char *name)
{
	char why[512];
	void *p = blas_find(name, why, sizeof why);
	if (!p)
		sift_cuda_fail(why, __FILE__, __LINE__);
	return p;
}

/* every function of ctx.cuh's list */
extern "C" int sift_cuda_blas_find(char *why, size_t n)
{
	static const char *const fns[] = {
		"cublasCreate_v2", "cublasSetWorkspace_v2", "cublasSetMathMode",
		"cublasSetAtomicsMode", "cublasGetStatusString", "cublasGemmEx",
		"cublasGemmStridedBatchedEx", "cublasLtCreate", "cublasLtMatmul",
		"cublasLtMatmulAlgoGetHeuristic", "cublasLtMatmulDescCreate",
		"cublasLtMatmulDescDestroy", "cublasLtMatmulDescSetAttribute",
		"cublasLtMatmulPreferenceCreate", "cublasLtMatmulPreferenceDestroy",
		"cublasLtMatmulPreferenceSetAttribute", "cublasLtMatrixLayoutCreate",
		"cublasLtMatrixLayoutDestroy",
	};
	for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
		if (!blas_find(fns[i], why, n))
			return -1;
	return 0;
}
#endif

static struct sift_cuda_ctx ctx;
static void *scratch[SCR_COUNT];
static size_t scratch_bytes[SCR_COUNT];

struct sift_cuda_ctx *sift_cuda_ctx(void)
{
	if (ctx.ready)
		return &ctx;
	cudaDeviceProp p;
	CUDA_CHECK(cudaSetDevice(0));
	CUDA_CHECK(cudaGetDeviceProperties(&p, 0));
	ctx.nsm = p.multiProcessorCount;
	CUBLAS_CHECK(cublasCreate(&ctx.blas));
	CUBLAS_CHECK(cublasLtCreate(&ctx.lt));
	// 32 MiB, as cuBLAS recommends for Hopper; one fixed workspace keeps
	// the algorithm choice, and so the results, the same run to run
	ctx.workspace_bytes = 32u << 20;
	CUDA_CHECK(cudaMalloc(&ctx.workspace, ctx.workspace_bytes));
	CUBLAS_CHECK(cublasSetWorkspace(ctx.blas, ctx.workspace, ctx.workspace_bytes));
	// CUBLAS_COMPUTE_32F with the default math mode never uses TF32
	// (unless NVIDIA_TF32_OVERRIDE=1 is set): fp32 stays fp32
	CUBLAS_CHECK(cublasSetMathMode(ctx.blas, CUBLAS_DEFAULT_MATH));
	CUBLAS_CHECK(cublasSetAtomicsMode(ctx.blas, CUBLAS_ATOMICS_NOT_ALLOWED));
	ctx.ready = 1;
	return &ctx;
}

__global__ void to_bf16_kernel(__nv_bfloat16 *y, const float *x, size_t n)
{
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		y[i] = __float2bfloat16_rn(x[i]);
}

// y = x rounded to bf16, n values
static void to_bf16(__nv_bfloat16 *y, const float *x, size_t n)
{
	size_t blocks = (n + 255) / 256, cap = (size_t)sift_cuda_ctx()->nsm * 16;
	if (n) {
		to_bf16_kernel<<<(int)(blocks < cap ? blocks : cap), 256>>>(y, x, n);
		CUDA_LAUNCHED();
	}
}

__nv_bfloat16 *cuda_to_bf16(int slot, const float *x, size_t n)
{
	__nv_bfloat16 *y = (__nv_bfloat16 *)sift_cuda_scratch(slot, n * sizeof *y);
	to_bf16(y, x, n);
	return y;
}

int cuda_colsum_chunks(int N)
{
	int k = (N + COLSUM_ROWS - 1) / COLSUM_ROWS;
	return k < 1 ? 1 : k > 64 ? 64 : k;
}

__global__ void colsum_finish_kernel(float *add, const float *part, int chunks, int C)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	if (c >= C)
		return;
	float s = 0.0f;
	for (int k = 0; k < chunks; k++)
		s += part[(size_t)k * C + c];
	add[c] += s;
}

void cuda_colsum_finish(float *add, const float *part, int chunks, int C)
{
	if (!add)
		return;
	colsum_finish_kernel<<<sift_ceil_div(C, 256), 256>>>(add, part, chunks, C);
	CUDA_LAUNCHED();
}

// the tracked allocations, unsorted: a model has a few dozen
struct mem_rec {
	char *p;
	size_t bytes;
	__nv_bfloat16 *mirror;	// bytes/4 values, or NULL
	int valid;		// mirror equals the floats
};
static struct mem_rec *recs;
static size_t nrecs, caprecs;

void cuda_mem_track(void *p, size_t bytes)
{
	if (nrecs == caprecs) {
		size_t c = caprecs ? 2 * caprecs : 64;
		struct mem_rec *r = (struct mem_rec *)realloc(recs, c * sizeof *r);
		if (!r)
			sift_cuda_fail("out of host memory", __FILE__, __LINE__);
		recs = r;
		caprecs = c;
	}
	recs[nrecs].p = (char *)p;
	recs[nrecs].bytes = bytes;
	recs[nrecs].mirror = NULL;
	recs[nrecs].valid = 0;
	nrecs++;
}

// the record of the allocation holding [p, p + bytes), or NULL
static struct mem_rec *mem_find(const void *p, size_t bytes)
{
	const char *c = (const char *)p;
	for (size_t i = 0; i < nrecs; i++)
		if (c >= recs[i].p && c + bytes <= recs[i].p + recs[i].bytes)
			return &recs[i];
	return NULL;
}

void cuda_mem_untrack(void *p)
{
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].p == (char *)p) {
			if (recs[i].mirror)
				CUDA_CHECK(cudaFree(recs[i].mirror));
			recs[i] = recs[--nrecs];
			return;
		}
}

void cuda_mem_written(const void *p)
{
	struct mem_rec *r = mem_find(p, 0);
	if (r)
		r->valid = 0;
}

const __nv_bfloat16 *cuda_weight_bf16(int slot, const float *w, size_t n)
{
	struct mem_rec *r = mem_find(w, n * sizeof *w);
	if (!r || (uintptr_t)w % sizeof *w || (uintptr_t)r->p % sizeof *w)
		return cuda_to_bf16(slot, w, n);
	size_t all = r->bytes / sizeof *w;
	if (!r->mirror) {
		if (cudaMalloc(&r->mirror, all * sizeof *r->mirror) != cudaSuccess) {
			cudaGetLastError();	// no room: cast per call
			r->mirror = NULL;
			return cuda_to_bf16(slot, w, n);
		}
		r->valid = 0;
	}
	if (!r->valid) {
		to_bf16(r->mirror, (const float *)r->p, all);
		r->valid = 1;
	}
	return r->mirror + (w - (const float *)r->p);
}

__nv_bfloat16 *cuda_mirror_of(const float *p, size_t n)
{
	struct mem_rec *r = mem_find(p, n * sizeof *p);
	if (!r || !r->mirror || !r->valid)
		return NULL;
	return r->mirror + (p - (const float *)r->p);
}

void *sift_cuda_scratch(int slot, size_t bytes)
{
	if (bytes <= scratch_bytes[slot])
		return scratch[slot];
	if (scratch[slot])
		CUDA_CHECK(cudaFree(scratch[slot]));
	// grow by half again, so that a slowly growing T does not reallocate every batch
	size_t n = bytes + bytes / 2;
	CUDA_CHECK(cudaMalloc(&scratch[slot], n));
	scratch_bytes[slot] = n;
	return scratch[slot];
}

extern "C" void sift_cuda_set_precision(int bf16)
{
	sift_cuda_ctx()->bf16 = bf16 != 0;
}

