// layernorm.cu: LayerNorm forward and backward, one warp per row, with deterministic weight and bias gradients.
#include "ctx.cuh"

// out (N,C), mean (N), rstd (N), inp (N,C), weight (C), bias (C).
// With b (RES): inp = a + b is formed here and written to res first, so
// that the statistics read the very floats layernorm_forward would.
template <int RES>
__global__ void layernorm_forward_kernel(float *out, float *mean, float *rstd,
					 float *res, const float *inp, const float *b,
					 const float *weight, const float *bias,
					 int N, int C, float eps)
{
	int lane = threadIdx.x % SIFT_WARP;
	long r = (long)blockIdx.x * (blockDim.x / SIFT_WARP) + threadIdx.x / SIFT_WARP;
	if (r >= N)
		return;
	const float *x = inp + r * C;
	if (RES) {
		// each lane reads back only the columns it wrote
		float *y = res + r * C;
		const float *yb = b + r * C;
		for (int c = lane; c < C; c += SIFT_WARP)
			y[c] = x[c] + yb[c];
		x = y;
	}
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
	layernorm_forward_kernel<0><<<sift_ceil_div(N, warps), warps * SIFT_WARP>>>(
		out, mean, rstd, (float *)NULL, inp, (const float *)NULL, weight, bias,
		N, C, eps);
	CUDA_LAUNCHED();
}

void cuda_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
				     const float *a, const float *b, const float *weight,
				     const float *bias, int N, int C, float eps)
{
	if (N == 0)
		return;
	const int warps = 8;
	layernorm_forward_kernel<1><<<sift_ceil_div(N, warps), warps * SIFT_WARP>>>(
		out, mean, rstd, res, a, b, weight, bias, N, C, eps);
	CUDA_LAUNCHED();
}

// the gradient at column c of row r: dout, or with RES the sum of the two
// residual branches, added as residual_forward adds them
template <int RES>
__device__ __forceinline__ float grad_at(const float *dout, const float *d2, long i)
{
	return RES ? dout[i] + d2[i] : dout[i];
}

// dinp (N,C) = layernorm'(dout), overwritten; one warp per row.  Each
// lane reads only its own columns before writing them, so dinp may
// alias d2.
template <int RES>
__global__ void layernorm_dinp_kernel(float *dinp, const float *dout, const float *d2,
				      const float *inp, const float *weight,
				      const float *mean, const float *rstd,
				      int N, int C)
{
	int lane = threadIdx.x % SIFT_WARP;
	long r = (long)blockIdx.x * (blockDim.x / SIFT_WARP) + threadIdx.x / SIFT_WARP;
	if (r >= N)
		return;
	const float *x = inp + r * C;
	long g = r * C;
	float m = mean[r], rs = rstd[r];
	// the two row means of the LayerNorm gradient
	float a = 0.0f, b = 0.0f;
	for (int c = lane; c < C; c += SIFT_WARP) {
		float dn = grad_at<RES>(dout, d2, g + c) * weight[c];
		a += dn;
		b += dn * (x[c] - m) * rs;
	}
	a = warp_sum(a) / C;
	b = warp_sum(b) / C;
	float *d = dinp + r * C;
	for (int c = lane; c < C; c += SIFT_WARP) {
		float n = (x[c] - m) * rs;
		d[c] = (grad_at<RES>(dout, d2, g + c) * weight[c] - a - n * b) * rs;
	}
}

// stage one of dweight (C) += sum over rows of dout * norm and dbias (C)
// += sum of dout: 32 columns of row chunk blockIdx.y per block, rows
// split over threadIdx.y in a fixed order; the chunk's sums go to
// pw_out/pb_out[chunk*C + c] (see cuda_colsum_chunks)
template <int RES>
__global__ void layernorm_dparam_kernel(float *pw_out, float *pb_out,
					const float *dout, const float *d2, const float *inp,
					const float *mean, const float *rstd,
					int N, int C, int rows)
{
	__shared__ float pw[32][33], pb[32][33];
	int c = blockIdx.x * 32 + threadIdx.x;
	int r0 = blockIdx.y * rows, r1 = min(N, r0 + rows);
	float sw = 0.0f, sb = 0.0f;
	if (c < C)
		for (int r = r0 + threadIdx.y; r < r1; r += 32) {
			float g = grad_at<RES>(dout, d2, (long)r * C + c);
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
		pw_out[(size_t)blockIdx.y * C + c] = tw;
		pb_out[(size_t)blockIdx.y * C + c] = tb;
	}
}

// the parameter gradients first: dinp may alias d2, which they read
static void layernorm_backward(float *dinp, float *dweight, float *dbias,
			       const float *dout, const float *d2, const float *inp,
			       const float *weight, const float *mean,
			       const float *rstd, int N, int C)
{
	if (N == 0)
		return;
	if (dweight || dbias) {
		int k = cuda_colsum_chunks(N), rows = sift_ceil_div(N, k);
		float *pw = (float *)sift_cuda_scratch(SCR_COLSUM, 2 * (size_t)k * C * sizeof(float));
		float *pb = pw + (size_t)k * C;
		dim3 grid(sift_ceil_div(C, 32), k), block(32, 32);
		if (d2)
			layernorm_dparam_kernel<1><<<grid, block>>>(pw, pb, dout, d2, inp,
				mean, rstd, N, C, rows);
		else
			layernorm_dparam_kernel<0><<<grid, block>>>(pw, pb, dout, (const float *)NULL, inp,
				mean, rstd, N, C, rows);
		CUDA_LAUNCHED();
		cuda_colsum_finish(dweight, pw, k, C);
		cuda_colsum_finish(dbias, pb, k, C);
	}
	if (dinp) {
		const int warps = 8;
		int nb = sift_ceil_div(N, warps);
		if (d2)
			layernorm_dinp_kernel<1><<<nb, warps * SIFT_WARP>>>(dinp, dout, d2,
				inp, weight, mean, rstd, N, C);
		else
			layernorm_dinp_kernel<0><<<nb, warps * SIFT_WARP>>>(dinp, dout, (const float *)NULL,
				inp, weight, mean, rstd, N, C);
		CUDA_LAUNCHED();
	}
}

void cuda_layernorm_backward(float *dinp, float *dweight, float *dbias,
			     const float *dout, const float *inp,
			     const float *weight, const float *mean,
			     const float *rstd, int N, int C)
{
	layernorm_backward(dinp, dweight, dbias, dout, NULL, inp, weight, mean, rstd, N, C);
}

// da is left as it was: the sum is formed where it is read
void cuda_residual_layernorm_backward(float *dinp, float *dweight, float *dbias,
				      float *da, const float *db, const float *inp,
				      const float *weight, const float *mean,
				      const float *rstd, int N, int C)
{
	layernorm_backward(dinp, dweight, dbias, da, db, inp, weight, mean, rstd, N, C);
}
