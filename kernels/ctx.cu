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

__nv_bfloat16 *cuda_to_bf16(int slot, const float *x, size_t n)
{
	__nv_bfloat16 *y = (__nv_bfloat16 *)sift_cuda_scratch(slot, n * sizeof *y);
	size_t blocks = (n + 255) / 256, cap = (size_t)sift_cuda_ctx()->nsm * 16;
	if (n) {
		to_bf16_kernel<<<(int)(blocks < cap ? blocks : cap), 256>>>(y, x, n);
		CUDA_LAUNCHED();
	}
	return y;
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
