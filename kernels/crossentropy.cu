// crossentropy.cu: the classifier's softmax, its cross-entropy loss and the fused loss gradient.
#include <float.h>	// defines: FLT_MIN

#include "ctx.cuh"

// probs (M,L) = softmax(logits (M,L)) per row; one warp per row
__global__ void softmax_kernel(float *probs, const float *logits, int M, int L)
{
	int lane = threadIdx.x % SIFT_WARP;
	long r = (long)blockIdx.x * (blockDim.x / SIFT_WARP) + threadIdx.x / SIFT_WARP;
	if (r >= M)
		return;
	const float *x = logits + r * L;
	float *o = probs + r * L;
	float mx = -INFINITY;
	for (int l = lane; l < L; l += SIFT_WARP)
		mx = fmaxf(mx, x[l]);
	mx = warp_max(mx);
	float s = 0.0f;
	for (int l = lane; l < L; l += SIFT_WARP)
		s += expf(x[l] - mx);
	s = warp_sum(s);
	for (int l = lane; l < L; l += SIFT_WARP)
		o[l] = expf(x[l] - mx) / s;
}

// -log p, finite where p underflowed to 0 (as the CPU backend)
__device__ __forceinline__ float nlog(float p)
{
	return -logf(p > FLT_MIN ? p : FLT_MIN);
}

// losses (M) = (1-eps) w[t] (-log probs[i,t]) + eps/L sum_c w[c] (-log probs[i,c])
// with t = targets[i] and w = weight (L) (NULL: all 1); 0 where the target
// is -100 (or any label outside [0,L), as the CPU backend); one thread per row
__global__ void crossentropy_kernel(float *losses, const float *probs,
				    const int32_t *targets, int M, int L,
				    const float *weight, float eps)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= M)
		return;
	int t = targets[i];
	const float *p = probs + (size_t)i * L;
	if (t < 0 || t >= L) {
		losses[i] = 0.0f;
		return;
	}
	if (!weight && eps == 0.0f) {
		losses[i] = -logf(p[t]);
		return;
	}
	float wt = weight ? weight[t] : 1.0f, s = 0.0f;
	if (eps != 0.0f)
		for (int c = 0; c < L; c++)
			s += (weight ? weight[c] : 1.0f) * nlog(p[c]);
	losses[i] = (1.0f - eps) * wt * nlog(p[t]) + eps / (float)L * s;
}

// dlogits (M,L) = (probs - onehot(targets)) * scale, 0 on ignored rows
__global__ void crossentropy_backward_kernel(float *dlogits, const float *probs,
					     const int32_t *targets, int M, int L,
					     float scale)
{
	size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (k >= (size_t)M * L)
		return;
	int i = (int)(k / L), j = (int)(k % L);
	int t = targets[i];
	dlogits[k] = t < 0 || t >= L ? 0.0f :
		(probs[k] - (j == t ? 1.0f : 0.0f)) * scale;
}

// with class weights (L) or smoothing eps, one warp per row:
// dlogits (M,L) = (probs a - b [j == t] - eps/L w[j]) * scale with
// b = (1-eps) w[t], a = b + eps/L sum_c w[c]; 0 on ignored rows
__global__ void crossentropy_smooth_backward_kernel(float *dlogits, const float *probs,
						    const int32_t *targets, int M, int L,
						    const float *weight, float eps,
						    float scale)
{
	int lane = threadIdx.x % SIFT_WARP;
	long r = (long)blockIdx.x * (blockDim.x / SIFT_WARP) + threadIdx.x / SIFT_WARP;
	if (r >= M)
		return;
	float *d = dlogits + r * L;
	const float *pr = probs + r * L;
	int t = targets[r];
	if (t < 0 || t >= L) {
		for (int j = lane; j < L; j += SIFT_WARP)
			d[j] = 0.0f;
		return;
	}
	float sw = (float)L;
	if (weight) {
		sw = 0.0f;
		for (int c = lane; c < L; c += SIFT_WARP)
			sw += weight[c];
		sw = warp_sum(sw);
	}
	float el = eps / (float)L;
	float b = (1.0f - eps) * (weight ? weight[t] : 1.0f);
	float a = b + el * sw;
	for (int j = lane; j < L; j += SIFT_WARP)
		d[j] = (pr[j] * a - (j == t ? b : 0.0f) -
			el * (weight ? weight[j] : 1.0f)) * scale;
}

void cuda_softmax_forward(float *probs, const float *logits, int M, int L)
{
	if (M <= 0)
		return;
	softmax_kernel<<<sift_ceil_div(M, 8), 256>>>(probs, logits, M, L);
	CUDA_LAUNCHED();
}

void cuda_crossentropy_forward(float *losses, const float *probs,
			       const int32_t *targets, int M, int L,
			       const float *weight, float eps)
{
	if (M <= 0)
		return;
	crossentropy_kernel<<<sift_ceil_div(M, 256), 256>>>(losses, probs, targets, M, L,
							    weight, eps);
	CUDA_LAUNCHED();
}

void cuda_crossentropy_backward(float *dlogits, const float *probs,
				const int32_t *targets, int M, int L,
				const float *weight, float eps, float scale)
{
	if (M <= 0)
		return;
	if (weight || eps != 0.0f) {
		crossentropy_smooth_backward_kernel<<<sift_ceil_div(M, 8), 256>>>(
			dlogits, probs, targets, M, L, weight, eps, scale);
		CUDA_LAUNCHED();
		return;
	}
	long n = (long)M * L;
	crossentropy_backward_kernel<<<sift_ceil_div(n, 256), 256>>>(dlogits, probs,
								     targets, M, L, scale);
	CUDA_LAUNCHED();
}
