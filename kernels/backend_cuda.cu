// backend_cuda.cu: the CUDA op table (struct sift_backend sift_backend_cuda) over the kernels of kernels/*.cu.
#include <string.h>

#include "ctx.cuh"		// defines: cuda_<op>_forward/backward launchers
#include "backend_cuda.h"

static void *cu_alloc(size_t bytes)
{
	void *p = NULL;
	sift_cuda_ctx();
	cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
	if (e == cudaErrorMemoryAllocation) {
		cudaGetLastError();
		return NULL;
	}
	CUDA_CHECK(e);
	CUDA_CHECK(cudaMemset(p, 0, bytes ? bytes : 1));
	cuda_mem_track(p, bytes);
	return p;
}

static void cu_free(void *p)
{
	if (p) {
		cuda_mem_untrack(p);
		CUDA_CHECK(cudaFree(p));
	}
}

static void cu_upload(void *dst, const void *src, size_t bytes)
{
	if (bytes) {
		cuda_mem_written(dst);
		CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
	}
}

static void cu_download(void *dst, const void *src, size_t bytes)
{
	if (bytes)
		CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

static void cu_memset0(void *p, size_t bytes)
{
	if (bytes) {
		cuda_mem_written(p);
		CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, 0));
	}
}

static void cu_sync(void)
{
	CUDA_CHECK(cudaDeviceSynchronize());
}

// every slot below is filled, the gradient norm and clipping (sumsq,
// scale) included; the forms over known-zero rows are not (the trainer
// zeroes and reads every row here)
static int cu_supports_op(enum sift_op op)
{
	return (unsigned)op < SIFT_OP_COUNT && op != SIFT_OP_ADAMW_ROWS &&
	       op != SIFT_OP_SUMSQ_ROWS;
}

extern "C" double sift_cuda_sumsq(const float *x, size_t n)
{
	return cuda_sumsq(x, n);
}

extern "C" void sift_cuda_scale(float *x, size_t n, float s)
{
	cuda_scale(x, n, s);
}

// C linkage from the declaration in backend_cuda.h
struct sift_backend sift_backend_cuda = {
	.name = "cuda",
	.supports_op = cu_supports_op,
	.alloc = cu_alloc,
	.free = cu_free,
	.upload = cu_upload,
	.download = cu_download,
	.memset0 = cu_memset0,
	.sync = cu_sync,
	.embed_forward = cuda_embed_forward,
	.matmul_forward = cuda_matmul_forward,
	.layernorm_forward = cuda_layernorm_forward,
	.gelu_forward = cuda_gelu_forward,
	.tanh_forward = cuda_tanh_forward,
	.attention_forward = cuda_attention_forward,
	.residual_forward = cuda_residual_forward,
	.dropout_forward = cuda_dropout_forward,
	.gather_rows_forward = cuda_gather_rows_forward,
	.softmax_forward = cuda_softmax_forward,
	.crossentropy_forward = cuda_crossentropy_forward,
	.residual_layernorm_forward = cuda_residual_layernorm_forward,
	.embed_backward = cuda_embed_backward,
	.matmul_backward = cuda_matmul_backward,
	.layernorm_backward = cuda_layernorm_backward,
	.gelu_backward = cuda_gelu_backward,
	.tanh_backward = cuda_tanh_backward,
	.attention_backward = cuda_attention_backward,
	.scatter_rows_backward = cuda_scatter_rows_backward,
	.crossentropy_backward = cuda_crossentropy_backward,
	.adamw_update = cuda_adamw_update,
	.sumsq = sift_cuda_sumsq,
	.scale = sift_cuda_scale,
	.residual_layernorm_backward = cuda_residual_layernorm_backward,
};
