// embed.cu: word + token type + position embeddings, and their deterministic scatter-add gradient.
#include "ctx.cuh"

// out (N,C) = (wte[ids] + wtt[type_ids]) + wpe[pos], the order of transformers;
// ids, type_ids, pos (N); type_ids NULL means all zeros
__global__ void embed_forward_kernel(float *out, const int32_t *ids,
				     const int32_t *type_ids, const int32_t *pos,
				     const float *wte, const float *wpe,
				     const float *wtt, int N, int C)
{
	int r = blockIdx.x;
	const float *w = wte + (size_t)ids[r] * C;
	const float *p = wpe + (size_t)pos[r] * C;
	const float *t = wtt + (size_t)(type_ids ? type_ids[r] : 0) * C;
	float *o = out + (size_t)r * C;
	for (int c = threadIdx.x; c < C; c += blockDim.x)
		o[c] = (w[c] + t[c]) + p[c];
}

void cuda_embed_forward(float *out, const int32_t *ids, const int32_t *type_ids,
			const int32_t *pos, const float *wte, const float *wpe,
			const float *wtt, int N, int C)
{
	if (N <= 0)
		return;
	embed_forward_kernel<<<N, 256>>>(out, ids, type_ids, pos, wte, wpe, wtt, N, C);
	CUDA_LAUNCHED();
}

#define EB_THREADS 128
#define EB_PER 8	// columns per thread per pass: 1024 columns a pass

// d[idx[r]] += dout[r] for the rows r of one table (blockIdx.y: 0 word,
// 1 position, 2 token type). The block of row r works only when r is the
// first row with its index; it then adds every row with that index, in
// row order, to the table row: the CPU's order, with no atomics.
__global__ void embed_backward_kernel(float *dwte, float *dwpe, float *dwtt,
				      const float *dout, const int32_t *ids,
				      const int32_t *type_ids, const int32_t *pos,
				      int N, int C)
{
	int r = blockIdx.x, tab = blockIdx.y;
	float *d = tab == 0 ? dwte : tab == 1 ? dwpe : dwtt;
	const int32_t *idx = tab == 0 ? ids : tab == 1 ? pos : type_ids;
	if (!d)
		return;
#define IDX(k) (idx ? idx[k] : 0)
	int v = IDX(r);
	int seen = 0;
	for (int k = threadIdx.x; k < r && !seen; k += blockDim.x)
		seen = IDX(k) == v;
	if (__syncthreads_or(seen))
		return;
	float *dst = d + (size_t)v * C;
	for (int c0 = 0; c0 < C; c0 += EB_THREADS * EB_PER) {
		float acc[EB_PER];
#pragma unroll
		for (int k = 0; k < EB_PER; k++) {
			int c = c0 + threadIdx.x + k * EB_THREADS;
			acc[k] = c < C ? dst[c] : 0.0f;
		}
		for (int r2 = r; r2 < N; r2++) {
			if (IDX(r2) != v)
				continue;
			const float *g = dout + (size_t)r2 * C;
#pragma unroll
			for (int k = 0; k < EB_PER; k++) {
				int c = c0 + threadIdx.x + k * EB_THREADS;
				if (c < C)
					acc[k] += g[c];
			}
		}
#pragma unroll
		for (int k = 0; k < EB_PER; k++) {
			int c = c0 + threadIdx.x + k * EB_THREADS;
			if (c < C)
				dst[c] = acc[k];
		}
	}
#undef IDX
}

void cuda_embed_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
			 const int32_t *ids, const int32_t *type_ids,
			 const int32_t *pos, int N, int C)
{
	if (N <= 0)
		return;
	embed_backward_kernel<<<dim3(N, 3), EB_THREADS>>>(dwte, dwpe, dwtt, dout, ids,
							  type_ids, pos, N, C);
	CUDA_LAUNCHED();
}
