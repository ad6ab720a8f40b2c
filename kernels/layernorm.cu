// layernorm.cu: LayerNorm forward and backward, one warp per row, with deterministic weight and bias gradients.
#include "ctx.cuh"

// out (N,C), mean (N), rstd (N), inp (N,C), weight (C), bias (C)
__global__ void layernorm_forward_kernel(float *out, float *mean, float *rstd,
					 const float *inp, const float *weight,
					 const float *bias, int N, int C, float eps)
{
	int lane = threadIdx.x % SIFT_WARP;
	long r = (long)blockIdx.x * (blockDim.x / SIFT_WARP) + threadIdx.x / SIFT_WARP;
	if (r >= N)
		return;
	const float *x = inp + r * C;
	float s = 0.0f;
	for (int c = lane; c < C; c += SIFT_WARP)
		s += x[c];
	float m = warp_sum(s) / C;
	float v = 0.0f;
	for (int c = lane; c < C; c += SIFT_WARP) {
		float d = x[c] - m;
		v += d * d;
	}
	float rs = 1.0f / sqrtf(warp_sum(v) / C + eps);
	float *o = out + r * C;
	for (int c = lane; c < C; c += SIFT_WARP)
		o[c] = (x[c] - m) * rs * weight[c] + bias[c];
	if (lane == 0) {
		if (mean)
			mean[r] = m;
		if (rstd)
			rstd[r] = rs;
	}
}

void cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
			    const float *weight, const float *bias, int N, int C,
			    float eps)
{
	if (N == 0)
		return;
	const int warps = 8;
	layernorm_forward_kernel<<<sift_ceil_div(N, warps), warps * SIFT_WARP>>>(
		out, mean, rstd, inp, weight, bias, N, C, eps);
	CUDA_LAUNCHED();
}

// dinp (N,C) = layernorm'(dout), overwritten; one warp per row
__global__ void layernorm_dinp_kernel(float *dinp, const float *dout,
				      const float *inp, const float *weight,
				      const float *mean, const float *rstd,
				      int N, int C)
{
	int lane = threadIdx.x % SIFT_WARP;
	long r = (long)blockIdx.x * (blockDim.x / SIFT_WARP) + threadIdx.x / SIFT_WARP;
	if (r >= N)
		return;
	const float *x = inp + r * C, *g = dout + r * C;
	float m = mean[r], rs = rstd[r];
	// the two row means of the LayerNorm gradient
	float a = 0.0f, b = 0.0f;
	for (int c = lane; c < C; c += SIFT_WARP) {
		float dn = g[c] * weight[c];
		a += dn;
		b += dn * (x[c] - m) * rs;
	}
	a = warp_sum(a) / C;
	b = warp_sum(b) / C;
	float *d = dinp + r * C;
	for (int c = lane; c < C; c += SIFT_WARP) {
		float n = (x[c] - m) * rs;
		d[c] = (g[c] * weight[c] - a - n * b) * rs;
	}
}

// dweight (C) += sum over rows of dout * norm; dbias (C) += sum of dout.
// 32 columns per block, rows split over threadIdx.y in a fixed order.
__global__ void layernorm_dparam_kernel(float *dweight, float *dbias,
					const float *dout, const float *inp,
					const float *mean, const float *rstd,
					int N, int C)
{
	__shared__ float pw[32][33], pb[32][33];
	int c = blockIdx.x * 32 + threadIdx.x;
	float sw = 0.0f, sb = 0.0f;
	if (c < C)
		for (int r = threadIdx.y; r < N; r += 32) {
			float g = dout[(long)r * C + c];
			sw += g * (inp[(long)r * C + c] - mean[r]) * rstd[r];
			sb += g;
		}
	pw[threadIdx.y][threadIdx.x] = sw;
	pb[threadIdx.y][threadIdx.x] = sb;
	__syncthreads();
	if (threadIdx.y == 0 && c < C) {
		float tw = 0.0f, tb = 0.0f;
		for (int k = 0; k < 32; k++) {
			tw += pw[k][threadIdx.x];
			tb += pb[k][threadIdx.x];
		}
		if (dweight)
			dweight[c] += tw;
		if (dbias)
			dbias[c] += tb;
	}
}

void cuda_layernorm_backward(float *dinp, float *dweight, float *dbias,
			     const float *dout, const float *inp,
			     const float *weight, const float *mean,
			     const float *rstd, int N, int C)
{
	if (N == 0)
		return;
	if (dinp) {
		const int warps = 8;
		layernorm_dinp_kernel<<<sift_ceil_div(N, warps), warps * SIFT_WARP>>>(
			dinp, dout, inp, weight, mean, rstd, N, C);
		CUDA_LAUNCHED();
	}
	if (dweight || dbias) {
		layernorm_dparam_kernel<<<sift_ceil_div(C, 32), dim3(32, 32)>>>(
			dweight, dbias, dout, inp, mean, rstd, N, C);
		CUDA_LAUNCHED();
	}
}
