// adamw.cu: the AdamW step as torch.optim.AdamW, and the gradient norm and clipping scale.
#include <math.h>

#include "ctx.cuh"

// params, grads, m, v are (n); the scalars are rounded on the host in
// the order of lib/cpu_adamw.c (sift_cpu_adamw_update)
// mirror, when not NULL, gets each new parameter rounded to bf16;
// each gradient is taken times gscale (the clip's coefficient) first
__global__ void adamw_kernel(float *params, __nv_bfloat16 *mirror, const float *grads,
			     float *m, float *v, size_t n, float step_size,
			     float bc2_sqrt, float wd, float w1, float beta2,
			     float w2, float eps, int decay, float gscale)
{
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float g = grads[i] * gscale;	// clip_grad_norm_'s grad.mul_
		float p = params[i];
		if (decay)
			p *= wd;
		float mi = m[i] + w1 * (g - m[i]);	// exp_avg.lerp_(grad, 1 - beta1)
		float vi = v[i] * beta2 + w2 * g * g;
		m[i] = mi;
		v[i] = vi;
		float denom = sqrtf(vi) / bc2_sqrt + eps;
		p -= step_size * (mi / denom);
		params[i] = p;
		if (mirror)
			mirror[i] = __float2bfloat16_rn(p);
	}
}

void cuda_adamw_update(float *params, const float *grads, float *m, float *v,
		       size_t n, float lr, float beta1, float beta2, float eps,
		       float weight_decay, int t, float gscale)
{
	if (!n)
		return;
	// the betas back to the decimals they were written as (0.999f ->
	// 0.999, as torch's Python floats), as the CPU backend does
	double b1 = round((double)beta1 * 1e7) / 1e7;
	double b2 = round((double)beta2 * 1e7) / 1e7;
	double bc1 = 1.0 - pow(b1, (double)t);
	double bc2 = 1.0 - pow(b2, (double)t);
	float step_size = (float)((double)lr / bc1);
	float bc2_sqrt = (float)sqrt(bc2);
	float wd = (float)(1.0 - (double)lr * (double)weight_decay);
	float w1 = (float)(1.0 - b1), w2 = (float)(1.0 - b2);
	size_t blocks = (n + 255) / 256, cap = (size_t)sift_cuda_ctx()->nsm * 16;
	adamw_kernel<<<(int)(blocks < cap ? blocks : cap), 256>>>(params,
		cuda_mirror_of(params, n), grads, m, v, n,
		step_size, bc2_sqrt, wd, w1, beta2, w2, eps, weight_decay != 0.0f, gscale);
	CUDA_LAUNCHED();
}

#define NORM_BLOCKS 1024

// part[block] = sum of x[i]^2 over a fixed grid-stride partition, in double
// (lib/adamw.c sums in double); the partials are then added in block order
__global__ void sumsq_kernel(double *part, const float *x, size_t n)
{
	__shared__ double red[256];
	double s = 0.0;
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		s += (double)x[i] * x[i];
	red[threadIdx.x] = s;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w >>= 1) {
		if ((int)threadIdx.x < w)
			red[threadIdx.x] += red[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		part[blockIdx.x] = red[0];
}

__global__ void sumsq_final_kernel(double *out, const double *part, int nparts)
{
	__shared__ double red[NORM_BLOCKS];
	red[threadIdx.x] = (int)threadIdx.x < nparts ? part[threadIdx.x] : 0.0;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w >>= 1) {
		if ((int)threadIdx.x < w)
			red[threadIdx.x] += red[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		*out = red[0];
}

// sum of squares of x (n), in a fixed order: the same bits every run
double cuda_sumsq(const float *x, size_t n)
{
	double *part = (double *)sift_cuda_scratch(SCR_NORM, (NORM_BLOCKS + 1) * sizeof(double));
	double r = 0.0;
	if (!n)
		return 0.0;
	// no more blocks than 256-float pieces of x: a bias is one block,
	// not 1024 (the partition is still a function of n alone)
	size_t want = (n + 255) / 256;
	int nb = want < NORM_BLOCKS ? (int)want : NORM_BLOCKS;
	sumsq_kernel<<<nb, 256>>>(part, x, n);
	CUDA_LAUNCHED();
	sumsq_final_kernel<<<1, NORM_BLOCKS>>>(part + NORM_BLOCKS, part, nb);
	CUDA_LAUNCHED();
	CUDA_CHECK(cudaMemcpy(&r, part + NORM_BLOCKS, sizeof r, cudaMemcpyDeviceToHost));
	return r;
}

__global__ void scale_kernel(float *x, size_t n, float s)
{
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		x[i] *= s;
}

void cuda_scale(float *x, size_t n, float s)
{
	if (!n)
		return;
	size_t blocks = (n + 255) / 256, cap = (size_t)sift_cuda_ctx()->nsm * 16;
	scale_kernel<<<(int)(blocks < cap ? blocks : cap), 256>>>(x, n, s);
	CUDA_LAUNCHED();
}
