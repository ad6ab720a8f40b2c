// ctx.cu: creates the CUDA backend's cuBLAS handles, workspace and scratch buffers once per process.
#include "ctx.cuh"

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
	// no TF32 in fp32 mode: the CPU parity of --precision fp32 stays tight
	CUBLAS_CHECK(cublasSetMathMode(ctx.blas, CUBLAS_PEDANTIC_MATH));
	CUBLAS_CHECK(cublasSetAtomicsMode(ctx.blas, CUBLAS_ATOMICS_NOT_ALLOWED));
	ctx.ready = 1;
	return &ctx;
}

cublasComputeType_t sift_cuda_compute(void)
{
	return sift_cuda_ctx()->bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F;
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

extern "C" int sift_cuda_get_precision(void)
{
	return sift_cuda_ctx()->bf16;
}
