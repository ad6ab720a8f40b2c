// crossentropy.cu: the classifier's softmax, its cross-entropy loss and the fused loss gradient.
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

// losses (M) = -log probs[i, targets[i]]; 0 where the target is -100
// (or any label outside [0,L), as the CPU backend)
__global__ void crossentropy_kernel(float *losses, const float *probs,
				    const int32_t *targets, int M, int L)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= M)
		return;
	int t = targets[i];
	losses[i] = t < 0 || t >= L ? 0.0f : -logf(probs[(size_t)i * L + t]);
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

void cuda_softmax_forward(float *probs, const float *logits, int M, int L)
{
	if (M <= 0)
		return;
	softmax_kernel<<<sift_ceil_div(M, 8), 256>>>(probs, logits, M, L);
	CUDA_LAUNCHED();
}

void cuda_crossentropy_forward(float *losses, const float *probs,
			       const int32_t *targets, int M, int L)
{
	if (M <= 0)
		return;
	crossentropy_kernel<<<sift_ceil_div(M, 256), 256>>>(losses, probs, targets, M, L);
	CUDA_LAUNCHED();
}

void cuda_crossentropy_backward(float *dlogits, const float *probs,
				const int32_t *targets, int M, int L, float scale)
{
	if (M <= 0)
		return;
	long n = (long)M * L;
	crossentropy_backward_kernel<<<sift_ceil_div(n, 256), 256>>>(dlogits, probs,
								     targets, M, L, scale);
	CUDA_LAUNCHED();
}
