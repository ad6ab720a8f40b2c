// elementwise.cu: GELU, tanh, residual add and counter-based dropout, forward and backward.
#include "ctx.cuh"

#define EW_THREADS 256

static int ew_blocks(size_t n)
{
	// a grid-stride loop needs no more blocks than fill the chip a few times
	size_t b = (n + EW_THREADS - 1) / EW_THREADS;
	size_t cap = (size_t)sift_cuda_ctx()->nsm * 16;
	return (int)(b < cap ? (b ? b : 1) : cap);
}

#define GRID_STRIDE(i, n) \
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
	     i += (size_t)gridDim.x * blockDim.x)

// exact GELU (erf), as transformers' "gelu"; out (n), inp (n), may alias
__global__ void gelu_forward_kernel(float *out, const float *inp, size_t n)
{
	GRID_STRIDE(i, n) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
	}
}

// dinp = dout * (Phi(x) + x phi(x)); dinp, inp, dout (n); dinp may alias dout
__global__ void gelu_backward_kernel(float *dinp, const float *inp,
				     const float *dout, size_t n)
{
	GRID_STRIDE(i, n) {
		float x = inp[i];
		float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
		float pdf = expf(-0.5f * x * x) * 0.3989422804014327f;
		dinp[i] = dout[i] * (cdf + x * pdf);
	}
}

__global__ void tanh_forward_kernel(float *out, const float *inp, size_t n)
{
	GRID_STRIDE(i, n) out[i] = tanhf(inp[i]);
}

// from tanh's output: dinp = dout * (1 - out^2)
__global__ void tanh_backward_kernel(float *dinp, const float *out,
				     const float *dout, size_t n)
{
	GRID_STRIDE(i, n) dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
}

__global__ void residual_forward_kernel(float *out, const float *a, const float *b,
					size_t n)
{
	GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

// element i dropped when sift_hash_uniform(seed, counter + i) < p
__global__ void dropout_forward_kernel(float *out, const float *inp, size_t n,
				       float p, float keep, uint64_t seed,
				       uint64_t counter)
{
	GRID_STRIDE(i, n)
		out[i] = sift_dev_hash_uniform(seed, counter + i) < p ? 0.0f : inp[i] * keep;
}

void cuda_gelu_forward(float *out, const float *inp, size_t n)
{
	if (!n)
		return;
	gelu_forward_kernel<<<ew_blocks(n), EW_THREADS>>>(out, inp, n);
	CUDA_LAUNCHED();
}

void cuda_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
	if (!n)
		return;
	gelu_backward_kernel<<<ew_blocks(n), EW_THREADS>>>(dinp, inp, dout, n);
	CUDA_LAUNCHED();
}

void cuda_tanh_forward(float *out, const float *inp, size_t n)
{
	if (!n)
		return;
	tanh_forward_kernel<<<ew_blocks(n), EW_THREADS>>>(out, inp, n);
	CUDA_LAUNCHED();
}

void cuda_tanh_backward(float *dinp, const float *out, const float *dout, size_t n)
{
	if (!n)
		return;
	tanh_backward_kernel<<<ew_blocks(n), EW_THREADS>>>(dinp, out, dout, n);
	CUDA_LAUNCHED();
}

void cuda_residual_forward(float *out, const float *a, const float *b, size_t n)
{
	if (!n)
		return;
	residual_forward_kernel<<<ew_blocks(n), EW_THREADS>>>(out, a, b, n);
	CUDA_LAUNCHED();
}

void cuda_dropout_forward(float *out, const float *inp, size_t n, float p,
			  uint64_t seed, uint64_t counter)
{
	if (!n)
		return;
	if (p <= 0.0f) {
		if (out != inp)
			CUDA_CHECK(cudaMemcpyAsync(out, inp, n * sizeof(float),
						   cudaMemcpyDeviceToDevice, 0));
		return;
	}
	float keep = 1.0f / (1.0f - p);
	dropout_forward_kernel<<<ew_blocks(n), EW_THREADS>>>(out, inp, n, p, keep,
							     seed, counter);
	CUDA_LAUNCHED();
}
