// attention.cu: fused multi-head self-attention over packed examples (scores, softmax, dropout, weighted sum in one kernel) and its backward pass.
#include <mma.h>		// nvcuda::wmma: bf16 tensor-core tiles

#include "ctx.cuh"

/*
 * Layout (lib/backend.h): rows are packed, example b owns rows
 * offs[b] .. offs[b+1]-1 (len_b of them); qkv (N,3C) holds q | k | v of
 * each row, head h at columns h*hs .. h*hs+hs-1 of each third.  att
 * holds example b's probabilities as (NH, len_b, len_b) from float
 * NH * sum_{b'<b} len_b'^2; dropout element (h,i,j) of example b uses
 * that float's index as its counter.
 *
 * One block per (query tile of QT rows, head, example): the tile's
 * scores against every key of its example sit in shared memory, so the
 * softmax and the product with v never go through device memory.  The
 * padding of a batch never exists here: an example attends to its own
 * len_b keys, which is exactly transformers' additive -inf mask.
 */

#define AT_THREADS 256
#define AT_QT 32	// query rows per block
#define AT_KT 64	// key/value rows per shared-memory tile
#define AT_IT 32	// query rows per tile in the key-side backward kernel
#define AT_KT2 32	// key rows per block in the key-side backward kernel
#define AT_HSMAX 128	// head sizes up to this (BERT: 64, MiniLM: 32)
#define AT_ACC (AT_QT * AT_HSMAX / AT_THREADS)	// outputs per thread

// start of example b's block in att: NH * sum of len^2 over earlier examples
__device__ __forceinline__ size_t att_base(const int32_t *offs, int b, int NH)
{
	size_t s = 0;
	for (int k = 0; k < b; k++) {
		size_t l = (size_t)(offs[k + 1] - offs[k]);
		s += l * l;
	}
	return s * (size_t)NH;
}

__device__ __forceinline__ float drop_factor(float p, float keep, uint64_t seed,
					     uint64_t ctr)
{
	return p > 0.0f ? (sift_dev_hash_uniform(seed, ctr) < p ? 0.0f : keep) : 1.0f;
}

// out (N,C), att (see above), qkv (N,3C), offs (B+1); Tmax = longest example
__global__ void __launch_bounds__(AT_THREADS)
attention_forward_kernel(float *out, float *att, const float *qkv,
			 const int32_t *offs, int C, int NH, int Tmax,
			 float scale, float p, float keep, uint64_t seed)
{
	extern __shared__ float sm[];
	int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * AT_QT;
	int r0 = offs[b], len = offs[b + 1] - r0;
	if (len > Tmax)
		__trap();	// the caller's T was not a bound: stop loudly
	if (i0 >= len)
		return;
	int hs = C / NH, C3 = 3 * C, tid = threadIdx.x;
	int nq = min(AT_QT, len - i0);
	float *Qs = sm;				// (QT, hs)
	float *Ks = Qs + AT_QT * hs;		// (KT, hs+1), k then v tiles
	float *S = Ks + AT_KT * (hs + 1);	// (QT, Tmax)
	size_t base = att_base(offs, b, NH) + (size_t)h * len * len;

	for (int k = tid; k < nq * hs; k += AT_THREADS) {
		int i = k / hs, e = k % hs;
		Qs[k] = qkv[(size_t)(r0 + i0 + i) * C3 + h * hs + e];
	}
	// scores S = q.k * scale, one key tile at a time
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < nk * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			Ks[j * (hs + 1) + e] = qkv[(size_t)(r0 + j0 + j) * C3 + C + h * hs + e];
		}
		__syncthreads();
		for (int k = tid; k < AT_QT * AT_KT; k += AT_THREADS) {
			int i = k / AT_KT, j = k % AT_KT;
			if (i >= nq || j >= nk)
				continue;
			float d = 0.0f;
			for (int e = 0; e < hs; e++)
				d += Qs[i * hs + e] * Ks[j * (hs + 1) + e];
			S[i * Tmax + j0 + j] = d * scale;
		}
	}
	__syncthreads();
	// softmax per row (one warp a row); att gets the probabilities, S
	// keeps them after dropout for the product with v
	int lane = tid % SIFT_WARP, w = tid / SIFT_WARP;
	for (int i = w; i < nq; i += AT_THREADS / SIFT_WARP) {
		float *s = S + i * Tmax;
		float mx = -INFINITY;
		for (int j = lane; j < len; j += SIFT_WARP)
			mx = fmaxf(mx, s[j]);
		mx = warp_max(mx);
		float sum = 0.0f;
		for (int j = lane; j < len; j += SIFT_WARP) {
			float e = expf(s[j] - mx);
			s[j] = e;
			sum += e;
		}
		float inv = 1.0f / warp_sum(sum);
		size_t row = base + (size_t)(i0 + i) * len;
		for (int j = lane; j < len; j += SIFT_WARP) {
			float pr = s[j] * inv;
			att[row + j] = pr;
			s[j] = pr * drop_factor(p, keep, seed, row + j);
		}
	}
	// out = P v, one value tile at a time; thread owns outputs tid + k*THREADS
	float acc[AT_ACC];
#pragma unroll
	for (int m = 0; m < AT_ACC; m++)
		acc[m] = 0.0f;
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < nk * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			Ks[j * (hs + 1) + e] = qkv[(size_t)(r0 + j0 + j) * C3 + 2 * C + h * hs + e];
		}
		__syncthreads();
#pragma unroll
		for (int m = 0; m < AT_ACC; m++) {
			int k = tid + m * AT_THREADS, i = k / hs, e = k % hs;
			if (i >= nq)
				continue;
			const float *s = S + i * Tmax + j0;
			float a = acc[m];
			for (int j = 0; j < nk; j++)
				a += s[j] * Ks[j * (hs + 1) + e];
			acc[m] = a;
		}
	}
#pragma unroll
	for (int m = 0; m < AT_ACC; m++) {
		int k = tid + m * AT_THREADS, i = k / hs, e = k % hs;
		if (i < nq)
			out[(size_t)(r0 + i0 + i) * C + h * hs + e] = acc[m];
	}
}

// ---- bf16 mode: the same forward pass with its two products on the
// tensor cores (wmma 16x16x16, bf16 inputs, fp32 accumulation); the
// softmax, att and the output stay fp32 ----

#define TC_LD(hs) ((hs) + 8)	// bf16 row stride of the q/k/v tiles
// Tp: the longest example rounded up to a whole key tile, and at least
// hs, since the (QT, Tp) score buffer later holds the (QT, hs) output
static __host__ __device__ int tc_tp(int Tmax, int hs)
{
	int t = (Tmax + AT_KT - 1) / AT_KT * AT_KT;
	return t < hs ? hs : t;
}

static __host__ __device__ size_t tc_round(size_t b) { return (b + 127) / 128 * 128; }

// shared memory of attention_forward_tc_kernel, carved in this order
static __host__ __device__ void tc_layout(int hs, int Tmax, size_t *oq, size_t *ok,
					  size_t *os, size_t *op, size_t *total)
{
	int Tp = tc_tp(Tmax, hs);
	*oq = 0;
	*ok = *oq + tc_round((size_t)AT_QT * TC_LD(hs) * 2);	// Qh (QT, hs+8) bf16
	*os = *ok + tc_round((size_t)AT_KT * TC_LD(hs) * 2);	// Kh (KT, hs+8) bf16
	*op = *os + tc_round((size_t)AT_QT * Tp * 4);		// S (QT, Tp) fp32
	*total = *op + tc_round((size_t)AT_QT * (Tp + 8) * 2);	// Ph (QT, Tp+8) bf16
}

__global__ void __launch_bounds__(AT_THREADS)
attention_forward_tc_kernel(float *out, float *att, const float *qkv,
			    const int32_t *offs, int C, int NH, int Tmax,
			    float scale, float p, float keep, uint64_t seed)
{
	using namespace nvcuda;
	// wmma tiles need 32-byte alignment; the regions are 128-byte aligned
	extern __shared__ __align__(128) float sm[];
	int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * AT_QT;
	int r0 = offs[b], len = offs[b + 1] - r0;
	if (len > Tmax)
		__trap();	// the caller's T was not a bound: stop loudly
	if (i0 >= len)
		return;
	int hs = C / NH, C3 = 3 * C, tid = threadIdx.x, ld = TC_LD(hs);
	int nq = min(AT_QT, len - i0), Tp = tc_tp(Tmax, hs), lp = Tp + 8;
	size_t oq, ok, os, op, total;
	tc_layout(hs, Tmax, &oq, &ok, &os, &op, &total);
	char *base_ = (char *)sm;
	__nv_bfloat16 *Qh = (__nv_bfloat16 *)(base_ + oq);
	__nv_bfloat16 *Kh = (__nv_bfloat16 *)(base_ + ok);
	float *S = (float *)(base_ + os);
	__nv_bfloat16 *Ph = (__nv_bfloat16 *)(base_ + op);
	size_t base = att_base(offs, b, NH) + (size_t)h * len * len;
	int w = tid / SIFT_WARP, lane = tid % SIFT_WARP;
	int nw = AT_THREADS / SIFT_WARP;

	// q tile in bf16; rows past the example are zeros
	for (int k = tid; k < AT_QT * hs; k += AT_THREADS) {
		int i = k / hs, e = k % hs;
		float v = i < nq ? qkv[(size_t)(r0 + i0 + i) * C3 + h * hs + e] : 0.0f;
		Qh[i * ld + e] = __float2bfloat16_rn(v);
	}
	// scores: S (QT x KT per tile) = q k^T, 2 x 4 fragments, one a warp
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < AT_KT * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			float v = j < nk ? qkv[(size_t)(r0 + j0 + j) * C3 + C + h * hs + e] : 0.0f;
			Kh[j * ld + e] = __float2bfloat16_rn(v);
		}
		__syncthreads();
		for (int f = w; f < (AT_QT / 16) * (AT_KT / 16); f += nw) {
			int fr = f / (AT_KT / 16), fc = f % (AT_KT / 16);
			wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
			wmma::fill_fragment(acc, 0.0f);
			for (int e0 = 0; e0 < hs; e0 += 16) {
				wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a;
				wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> kb;
				wmma::load_matrix_sync(a, Qh + fr * 16 * ld + e0, ld);
				// k^T: element (e, j) of the tile sits at Kh[j*ld + e]
				wmma::load_matrix_sync(kb, Kh + fc * 16 * ld + e0, ld);
				wmma::mma_sync(acc, a, kb, acc);
			}
			wmma::store_matrix_sync(S + fr * 16 * Tp + j0 + fc * 16, acc, Tp,
						wmma::mem_row_major);
		}
	}
	__syncthreads();
	// softmax per row; att in fp32, P' (after dropout) in bf16 for the
	// product with v, zeros past the example's keys
	for (int i = w; i < AT_QT; i += nw) {
		__nv_bfloat16 *ph = Ph + i * lp;
		if (i >= nq) {
			for (int j = lane; j < lp; j += SIFT_WARP)
				ph[j] = __float2bfloat16_rn(0.0f);
			continue;
		}
		float *s = S + i * Tp;
		float mx = -INFINITY;
		for (int j = lane; j < len; j += SIFT_WARP)
			mx = fmaxf(mx, s[j] * scale);
		mx = warp_max(mx);
		float sum = 0.0f;
		for (int j = lane; j < len; j += SIFT_WARP) {
			float e = expf(s[j] * scale - mx);
			s[j] = e;
			sum += e;
		}
		float inv = 1.0f / warp_sum(sum);
		size_t row = base + (size_t)(i0 + i) * len;
		for (int j = lane; j < lp; j += SIFT_WARP) {
			float pr = 0.0f;
			if (j < len) {
				pr = s[j] * inv;
				att[row + j] = pr;
				pr *= drop_factor(p, keep, seed, row + j);
			}
			ph[j] = __float2bfloat16_rn(pr);
		}
	}
	// out = P' v: 2 x hs/16 fragments, at most 2 a warp (hs <= 128)
	int nf = (AT_QT / 16) * (hs / 16);
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> o[2];
	wmma::fill_fragment(o[0], 0.0f);
	wmma::fill_fragment(o[1], 0.0f);
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < AT_KT * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			float v = j < nk ? qkv[(size_t)(r0 + j0 + j) * C3 + 2 * C + h * hs + e] : 0.0f;
			Kh[j * ld + e] = __float2bfloat16_rn(v);
		}
		__syncthreads();
		for (int q = 0; q < 2; q++) {
			int f = w + q * nw;
			if (f >= nf)
				break;
			int fr = f / (hs / 16), fc = f % (hs / 16);
			for (int k0 = 0; k0 < AT_KT; k0 += 16) {
				wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a;
				wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> vb;
				wmma::load_matrix_sync(a, Ph + fr * 16 * lp + j0 + k0, lp);
				wmma::load_matrix_sync(vb, Kh + k0 * ld + fc * 16, ld);
				wmma::mma_sync(o[q], a, vb, o[q]);
			}
		}
	}
	__syncthreads();
	// through shared memory (S is free now) to the rows of out
	float *Os = S;
	for (int q = 0; q < 2; q++) {
		int f = w + q * nw;
		if (f >= nf)
			break;
		int fr = f / (hs / 16), fc = f % (hs / 16);
		wmma::store_matrix_sync(Os + fr * 16 * hs + fc * 16, o[q], hs, wmma::mem_row_major);
	}
	__syncthreads();
	for (int k = tid; k < nq * hs; k += AT_THREADS) {
		int i = k / hs, e = k % hs;
		out[(size_t)(r0 + i0 + i) * C + h * hs + e] = Os[k];
	}
}

// query side of the backward pass: datt = dS (the score gradient, scale
// included) and dq (columns 0..C-1 of dqkv) for one query tile
__global__ void __launch_bounds__(AT_THREADS)
attention_backward_q_kernel(float *dqkv, float *datt, const float *dout,
			    const float *qkv, const float *att,
			    const int32_t *offs, int C, int NH, int Tmax,
			    float scale, float p, float keep, uint64_t seed)
{
	extern __shared__ float sm[];
	int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * AT_QT;
	int r0 = offs[b], len = offs[b + 1] - r0;
	if (len > Tmax)
		__trap();	// the caller's T was not a bound: stop loudly
	if (i0 >= len)
		return;
	int hs = C / NH, C3 = 3 * C, tid = threadIdx.x;
	int nq = min(AT_QT, len - i0);
	float *dOs = sm;			// (QT, hs)
	float *Ks = dOs + AT_QT * hs;		// (KT, hs+1), v then k tiles
	float *D = Ks + AT_KT * (hs + 1);	// (QT, Tmax)
	size_t base = att_base(offs, b, NH) + (size_t)h * len * len;

	for (int k = tid; k < nq * hs; k += AT_THREADS) {
		int i = k / hs, e = k % hs;
		dOs[k] = dout[(size_t)(r0 + i0 + i) * C + h * hs + e];
	}
	// dP' = dout . v (the gradient of the dropped-out probabilities)
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < nk * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			Ks[j * (hs + 1) + e] = qkv[(size_t)(r0 + j0 + j) * C3 + 2 * C + h * hs + e];
		}
		__syncthreads();
		for (int k = tid; k < AT_QT * AT_KT; k += AT_THREADS) {
			int i = k / AT_KT, j = k % AT_KT;
			if (i >= nq || j >= nk)
				continue;
			float d = 0.0f;
			for (int e = 0; e < hs; e++)
				d += dOs[i * hs + e] * Ks[j * (hs + 1) + e];
			D[i * Tmax + j0 + j] = d;
		}
	}
	__syncthreads();
	// dP = dP' * mask; dS = P * (dP - sum_j P dP) * scale
	int lane = tid % SIFT_WARP, w = tid / SIFT_WARP;
	for (int i = w; i < nq; i += AT_THREADS / SIFT_WARP) {
		float *d = D + i * Tmax;
		size_t row = base + (size_t)(i0 + i) * len;
		float dot = 0.0f;
		for (int j = lane; j < len; j += SIFT_WARP) {
			float dp = d[j] * drop_factor(p, keep, seed, row + j);
			d[j] = dp;
			dot += dp * att[row + j];
		}
		dot = warp_sum(dot);
		for (int j = lane; j < len; j += SIFT_WARP) {
			float ds = att[row + j] * (d[j] - dot) * scale;
			d[j] = ds;
			datt[row + j] = ds;
		}
	}
	// dq = dS k
	float acc[AT_ACC];
#pragma unroll
	for (int m = 0; m < AT_ACC; m++)
		acc[m] = 0.0f;
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < nk * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			Ks[j * (hs + 1) + e] = qkv[(size_t)(r0 + j0 + j) * C3 + C + h * hs + e];
		}
		__syncthreads();
#pragma unroll
		for (int m = 0; m < AT_ACC; m++) {
			int k = tid + m * AT_THREADS, i = k / hs, e = k % hs;
			if (i >= nq)
				continue;
			const float *d = D + i * Tmax + j0;
			float a = acc[m];
			for (int j = 0; j < nk; j++)
				a += d[j] * Ks[j * (hs + 1) + e];
			acc[m] = a;
		}
	}
#pragma unroll
	for (int m = 0; m < AT_ACC; m++) {
		int k = tid + m * AT_THREADS, i = k / hs, e = k % hs;
		if (i < nq)
			dqkv[(size_t)(r0 + i0 + i) * C3 + h * hs + e] = acc[m];
	}
}

#define AT_ACC2 (AT_KT2 * AT_HSMAX / AT_THREADS)

// bf16 mode, query side on the tensor cores: dP' = dout v^T and dq = dS k
// as wmma products (the layout of attention_forward_tc_kernel, dout in
// place of q); the softmax gradient and datt stay fp32
__global__ void __launch_bounds__(AT_THREADS)
attention_backward_q_tc_kernel(float *dqkv, float *datt, const float *dout,
			       const float *qkv, const float *att,
			       const int32_t *offs, int C, int NH, int Tmax,
			       float scale, float p, float keep, uint64_t seed)
{
	using namespace nvcuda;
	extern __shared__ __align__(128) float sm[];
	int b = blockIdx.z, h = blockIdx.y, i0 = blockIdx.x * AT_QT;
	int r0 = offs[b], len = offs[b + 1] - r0;
	if (len > Tmax)
		__trap();	// the caller's T was not a bound: stop loudly
	if (i0 >= len)
		return;
	int hs = C / NH, C3 = 3 * C, tid = threadIdx.x, ld = TC_LD(hs);
	int nq = min(AT_QT, len - i0), Tp = tc_tp(Tmax, hs), lp = Tp + 8;
	size_t oq, ok, os, op, total;
	tc_layout(hs, Tmax, &oq, &ok, &os, &op, &total);
	char *base_ = (char *)sm;
	__nv_bfloat16 *Gh = (__nv_bfloat16 *)(base_ + oq);	// dout tile
	__nv_bfloat16 *Kh = (__nv_bfloat16 *)(base_ + ok);	// v, then k tiles
	float *D = (float *)(base_ + os);
	__nv_bfloat16 *Dh = (__nv_bfloat16 *)(base_ + op);	// dS in bf16
	size_t base = att_base(offs, b, NH) + (size_t)h * len * len;
	int w = tid / SIFT_WARP, lane = tid % SIFT_WARP;
	int nw = AT_THREADS / SIFT_WARP;

	for (int k = tid; k < AT_QT * hs; k += AT_THREADS) {
		int i = k / hs, e = k % hs;
		float v = i < nq ? dout[(size_t)(r0 + i0 + i) * C + h * hs + e] : 0.0f;
		Gh[i * ld + e] = __float2bfloat16_rn(v);
	}
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < AT_KT * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			float v = j < nk ? qkv[(size_t)(r0 + j0 + j) * C3 + 2 * C + h * hs + e] : 0.0f;
			Kh[j * ld + e] = __float2bfloat16_rn(v);
		}
		__syncthreads();
		for (int f = w; f < (AT_QT / 16) * (AT_KT / 16); f += nw) {
			int fr = f / (AT_KT / 16), fc = f % (AT_KT / 16);
			wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
			wmma::fill_fragment(acc, 0.0f);
			for (int e0 = 0; e0 < hs; e0 += 16) {
				wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a;
				wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> vb;
				wmma::load_matrix_sync(a, Gh + fr * 16 * ld + e0, ld);
				wmma::load_matrix_sync(vb, Kh + fc * 16 * ld + e0, ld);
				wmma::mma_sync(acc, a, vb, acc);
			}
			wmma::store_matrix_sync(D + fr * 16 * Tp + j0 + fc * 16, acc, Tp,
						wmma::mem_row_major);
		}
	}
	__syncthreads();
	for (int i = w; i < AT_QT; i += nw) {
		__nv_bfloat16 *dh = Dh + i * lp;
		if (i >= nq) {
			for (int j = lane; j < lp; j += SIFT_WARP)
				dh[j] = __float2bfloat16_rn(0.0f);
			continue;
		}
		float *d = D + i * Tp;
		size_t row = base + (size_t)(i0 + i) * len;
		float dot = 0.0f;
		for (int j = lane; j < len; j += SIFT_WARP) {
			float dp = d[j] * drop_factor(p, keep, seed, row + j);
			d[j] = dp;
			dot += dp * att[row + j];
		}
		dot = warp_sum(dot);
		for (int j = lane; j < lp; j += SIFT_WARP) {
			float ds = 0.0f;
			if (j < len) {
				ds = att[row + j] * (d[j] - dot) * scale;
				datt[row + j] = ds;
			}
			dh[j] = __float2bfloat16_rn(ds);
		}
	}
	int nf = (AT_QT / 16) * (hs / 16);
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> o[2];
	wmma::fill_fragment(o[0], 0.0f);
	wmma::fill_fragment(o[1], 0.0f);
	for (int j0 = 0; j0 < len; j0 += AT_KT) {
		int nk = min(AT_KT, len - j0);
		__syncthreads();
		for (int k = tid; k < AT_KT * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			float v = j < nk ? qkv[(size_t)(r0 + j0 + j) * C3 + C + h * hs + e] : 0.0f;
			Kh[j * ld + e] = __float2bfloat16_rn(v);
		}
		__syncthreads();
		for (int q = 0; q < 2; q++) {
			int f = w + q * nw;
			if (f >= nf)
				break;
			int fr = f / (hs / 16), fc = f % (hs / 16);
			for (int k0 = 0; k0 < AT_KT; k0 += 16) {
				wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a;
				wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> kb;
				wmma::load_matrix_sync(a, Dh + fr * 16 * lp + j0 + k0, lp);
				wmma::load_matrix_sync(kb, Kh + k0 * ld + fc * 16, ld);
				wmma::mma_sync(o[q], a, kb, o[q]);
			}
		}
	}
	__syncthreads();
	float *Os = D;
	for (int q = 0; q < 2; q++) {
		int f = w + q * nw;
		if (f >= nf)
			break;
		int fr = f / (hs / 16), fc = f % (hs / 16);
		wmma::store_matrix_sync(Os + fr * 16 * hs + fc * 16, o[q], hs, wmma::mem_row_major);
	}
	__syncthreads();
	for (int k = tid; k < nq * hs; k += AT_THREADS) {
		int i = k / hs, e = k % hs;
		dqkv[(size_t)(r0 + i0 + i) * C3 + h * hs + e] = Os[k];
	}
}

// bf16 mode, key side on the tensor cores: dk = dS^T q and dv = P'^T dout
// for one tile of KT2 keys, over query tiles of IT rows
#define TC_LS (AT_KT2 + 8)	// bf16 row stride of the dS and P' tiles

static __host__ __device__ size_t tc_kv_bytes(int hs)
{
	return 2 * tc_round((size_t)AT_IT * TC_LD(hs) * 2) +
	       2 * tc_round((size_t)AT_IT * TC_LS * 2) +
	       tc_round((size_t)AT_KT2 * hs * 4);
}

__global__ void __launch_bounds__(AT_THREADS)
attention_backward_kv_tc_kernel(float *dqkv, const float *datt, const float *dout,
				const float *qkv, const float *att,
				const int32_t *offs, int C, int NH,
				float p, float keep, uint64_t seed)
{
	using namespace nvcuda;
	extern __shared__ __align__(128) float sm[];
	int b = blockIdx.z, h = blockIdx.y, j0 = blockIdx.x * AT_KT2;
	int r0 = offs[b], len = offs[b + 1] - r0;
	if (j0 >= len)
		return;
	int hs = C / NH, C3 = 3 * C, tid = threadIdx.x, ld = TC_LD(hs);
	int nj = min(AT_KT2, len - j0);
	char *p_ = (char *)sm;
	__nv_bfloat16 *Qh = (__nv_bfloat16 *)p_;
	p_ += tc_round((size_t)AT_IT * ld * 2);
	__nv_bfloat16 *Gh = (__nv_bfloat16 *)p_;		// dout
	p_ += tc_round((size_t)AT_IT * ld * 2);
	__nv_bfloat16 *Sh = (__nv_bfloat16 *)p_;		// dS (IT, KT2)
	p_ += tc_round((size_t)AT_IT * TC_LS * 2);
	__nv_bfloat16 *Ph = (__nv_bfloat16 *)p_;		// P' (IT, KT2)
	p_ += tc_round((size_t)AT_IT * TC_LS * 2);
	float *Os = (float *)p_;				// (KT2, hs)
	size_t base = att_base(offs, b, NH) + (size_t)h * len * len;
	int w = tid / SIFT_WARP, nw = AT_THREADS / SIFT_WARP;
	int nf = (AT_KT2 / 16) * (hs / 16);
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> dk[2], dv[2];
	for (int q = 0; q < 2; q++) {
		wmma::fill_fragment(dk[q], 0.0f);
		wmma::fill_fragment(dv[q], 0.0f);
	}
	for (int i0 = 0; i0 < len; i0 += AT_IT) {
		int ni = min(AT_IT, len - i0);
		__syncthreads();
		for (int k = tid; k < AT_IT * hs; k += AT_THREADS) {
			int i = k / hs, e = k % hs;
			size_t r = (size_t)(r0 + i0 + i);
			Qh[i * ld + e] = __float2bfloat16_rn(i < ni ? qkv[r * C3 + h * hs + e] : 0.0f);
			Gh[i * ld + e] = __float2bfloat16_rn(i < ni ? dout[r * C + h * hs + e] : 0.0f);
		}
		for (int k = tid; k < AT_IT * AT_KT2; k += AT_THREADS) {
			int i = k / AT_KT2, j = k % AT_KT2;
			float ds = 0.0f, pd = 0.0f;
			if (i < ni && j < nj) {
				size_t at = base + (size_t)(i0 + i) * len + j0 + j;
				ds = datt[at];
				pd = att[at] * drop_factor(p, keep, seed, at);
			}
			Sh[i * TC_LS + j] = __float2bfloat16_rn(ds);
			Ph[i * TC_LS + j] = __float2bfloat16_rn(pd);
		}
		__syncthreads();
		for (int q = 0; q < 2; q++) {
			int f = w + q * nw;
			if (f >= nf)
				break;
			int fr = f / (hs / 16), fc = f % (hs / 16);
			for (int k0 = 0; k0 < AT_IT; k0 += 16) {
				// dS^T and P'^T: element (j, i) sits at [i*TC_LS + j]
				wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::col_major> a;
				wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> x;
				wmma::load_matrix_sync(a, Sh + k0 * TC_LS + fr * 16, TC_LS);
				wmma::load_matrix_sync(x, Qh + k0 * ld + fc * 16, ld);
				wmma::mma_sync(dk[q], a, x, dk[q]);
				wmma::load_matrix_sync(a, Ph + k0 * TC_LS + fr * 16, TC_LS);
				wmma::load_matrix_sync(x, Gh + k0 * ld + fc * 16, ld);
				wmma::mma_sync(dv[q], a, x, dv[q]);
			}
		}
	}
	for (int part = 0; part < 2; part++) {
		__syncthreads();
		for (int q = 0; q < 2; q++) {
			int f = w + q * nw;
			if (f >= nf)
				break;
			int fr = f / (hs / 16), fc = f % (hs / 16);
			wmma::store_matrix_sync(Os + fr * 16 * hs + fc * 16, part ? dv[q] : dk[q],
						hs, wmma::mem_row_major);
		}
		__syncthreads();
		for (int k = tid; k < nj * hs; k += AT_THREADS) {
			int j = k / hs, e = k % hs;
			dqkv[(size_t)(r0 + j0 + j) * C3 + (1 + part) * C + h * hs + e] = Os[k];
		}
	}
}



// key side: dk = dS^T q and dv = P'^T dout for one tile of KT2 keys
// (columns C..3C-1 of dqkv); reads datt written by the query side
__global__ void __launch_bounds__(AT_THREADS)
attention_backward_kv_kernel(float *dqkv, const float *datt, const float *dout,
			     const float *qkv, const float *att,
			     const int32_t *offs, int C, int NH,
			     float p, float keep, uint64_t seed)
{
	extern __shared__ float sm[];
	int b = blockIdx.z, h = blockIdx.y, j0 = blockIdx.x * AT_KT2;
	int r0 = offs[b], len = offs[b + 1] - r0;
	if (j0 >= len)
		return;
	int hs = C / NH, C3 = 3 * C, tid = threadIdx.x;
	int nj = min(AT_KT2, len - j0);
	float *Qs = sm;				// (IT, hs)
	float *dOs = Qs + AT_IT * hs;		// (IT, hs)
	float *dSs = dOs + AT_IT * hs;		// (IT, KT2+1)
	float *Ps = dSs + AT_IT * (AT_KT2 + 1);	// (IT, KT2+1), after dropout
	size_t base = att_base(offs, b, NH) + (size_t)h * len * len;
	float ak[AT_ACC2], av[AT_ACC2];
#pragma unroll
	for (int m = 0; m < AT_ACC2; m++)
		ak[m] = av[m] = 0.0f;
	for (int i0 = 0; i0 < len; i0 += AT_IT) {
		int ni = min(AT_IT, len - i0);
		__syncthreads();
		for (int k = tid; k < ni * hs; k += AT_THREADS) {
			int i = k / hs, e = k % hs;
			size_t r = (size_t)(r0 + i0 + i);
			Qs[k] = qkv[r * C3 + h * hs + e];
			dOs[k] = dout[r * C + h * hs + e];
		}
		for (int k = tid; k < ni * AT_KT2; k += AT_THREADS) {
			int i = k / AT_KT2, j = k % AT_KT2;
			if (j >= nj)
				continue;
			size_t at = base + (size_t)(i0 + i) * len + j0 + j;
			dSs[i * (AT_KT2 + 1) + j] = datt[at];
			Ps[i * (AT_KT2 + 1) + j] = att[at] * drop_factor(p, keep, seed, at);
		}
		__syncthreads();
#pragma unroll
		for (int m = 0; m < AT_ACC2; m++) {
			int k = tid + m * AT_THREADS, j = k / hs, e = k % hs;
			if (j >= nj)
				continue;
			float a = ak[m], c = av[m];
			for (int i = 0; i < ni; i++) {
				a += dSs[i * (AT_KT2 + 1) + j] * Qs[i * hs + e];
				c += Ps[i * (AT_KT2 + 1) + j] * dOs[i * hs + e];
			}
			ak[m] = a;
			av[m] = c;
		}
	}
#pragma unroll
	for (int m = 0; m < AT_ACC2; m++) {
		int k = tid + m * AT_THREADS, j = k / hs, e = k % hs;
		if (j >= nj)
			continue;
		size_t r = (size_t)(r0 + j0 + j);
		dqkv[r * C3 + C + h * hs + e] = ak[m];
		dqkv[r * C3 + 2 * C + h * hs + e] = av[m];
	}
}

// checks the sizes these kernels handle and returns the shared memory
// they need.  T, the caller's bound on every example's length (the
// batch's padded length), sizes the grid and the score buffers, so that
// no call reads offs back to the host: a read-back would stall the
// stream twice a layer.  Blocks past an example's end return at once.
static int optin = -1;	// the device's shared memory per block, opted in

static int attention_plan(int T, int C, int NH, size_t *smem)
{
	int hs = C / NH;
	if (hs > AT_HSMAX || hs * NH != C)
		sift_cuda_fail("attention: head size over 128 or C not a multiple of NH",
			       __FILE__, __LINE__);
	*smem = sizeof(float) * ((size_t)AT_QT * hs + (size_t)AT_KT * (hs + 1) +
				 (size_t)AT_QT * T);
	if (optin < 0) {
		int dev;
		CUDA_CHECK(cudaGetDevice(&dev));
		CUDA_CHECK(cudaDeviceGetAttribute(&optin,
			cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
	}
	if (*smem > (size_t)optin)
		sift_cuda_fail("attention: example too long for shared memory", __FILE__, __LINE__);
	return T > 0;
}

// cudaFuncSetAttribute only when a kernel needs more dynamic shared
// memory than it was last given (a host call, not free at 24 a step)
static void smem_allow(const void *fn, size_t bytes)
{
	static const void *fns[8];
	static size_t have[8];
	int i = 0;
	while (i < 8 && fns[i] && fns[i] != fn)
		i++;
	if (i < 8 && fns[i] == fn && have[i] >= bytes)
		return;
	CUDA_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
					(int)bytes));
	if (i < 8) {
		fns[i] = fn;
		have[i] = bytes;
	}
}

void cuda_attention_forward(float *out, float *att, const float *qkv,
			    const int32_t *offs, int B, int Tmax, int C, int NH,
			    float p, uint64_t seed)
{
	size_t smem;
	if (B <= 0 || !attention_plan(Tmax, C, NH, &smem))
		return;
	float scale = 1.0f / sqrtf((float)(C / NH));
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	dim3 grid(sift_ceil_div(Tmax, AT_QT), NH, B);
	size_t oq, ok, os, op, total;
	tc_layout(C / NH, Tmax, &oq, &ok, &os, &op, &total);
	// the tensor-core tiles take more shared memory than the fp32 ones:
	// an example too long for them runs the fp32 kernel
	if (sift_cuda_ctx()->bf16 && (C / NH) % 16 == 0 && total <= (size_t)optin) {
		smem_allow((const void *)attention_forward_tc_kernel, total);
		attention_forward_tc_kernel<<<grid, AT_THREADS, total>>>(out, att, qkv, offs,
			C, NH, Tmax, scale, p, keep, seed);
		CUDA_LAUNCHED();
		return;
	}
	smem_allow((const void *)attention_forward_kernel, smem);
	attention_forward_kernel<<<grid, AT_THREADS, smem>>>(out, att, qkv, offs, C, NH,
							     Tmax, scale, p, keep, seed);
	CUDA_LAUNCHED();
}

void cuda_attention_backward(float *dqkv, float *datt, const float *dout,
			     const float *qkv, const float *att,
			     const int32_t *offs, int B, int Tmax, int C, int NH,
			     float p, uint64_t seed)
{
	size_t smem;
	if (B <= 0 || !attention_plan(Tmax, C, NH, &smem))
		return;
	int hs = C / NH;
	float scale = 1.0f / sqrtf((float)hs);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	size_t oq, ok, os, op, total, kv = tc_kv_bytes(hs);
	tc_layout(hs, Tmax, &oq, &ok, &os, &op, &total);
	if (sift_cuda_ctx()->bf16 && hs % 16 == 0 && total <= (size_t)optin &&
	    kv <= (size_t)optin) {
		smem_allow((const void *)attention_backward_q_tc_kernel, total);
		dim3 grid(sift_ceil_div(Tmax, AT_QT), NH, B);
		attention_backward_q_tc_kernel<<<grid, AT_THREADS, total>>>(dqkv, datt, dout,
			qkv, att, offs, C, NH, Tmax, scale, p, keep, seed);
		CUDA_LAUNCHED();
		smem_allow((const void *)attention_backward_kv_tc_kernel, kv);
		dim3 grid2(sift_ceil_div(Tmax, AT_KT2), NH, B);
		attention_backward_kv_tc_kernel<<<grid2, AT_THREADS, kv>>>(dqkv, datt, dout,
			qkv, att, offs, C, NH, p, keep, seed);
		CUDA_LAUNCHED();
		return;
	}
	smem_allow((const void *)attention_backward_q_kernel, smem);
	dim3 grid(sift_ceil_div(Tmax, AT_QT), NH, B);
	attention_backward_q_kernel<<<grid, AT_THREADS, smem>>>(dqkv, datt, dout, qkv,
		att, offs, C, NH, Tmax, scale, p, keep, seed);
	CUDA_LAUNCHED();
	size_t smem2 = sizeof(float) * (2 * (size_t)AT_IT * hs + 2 * (size_t)AT_IT * (AT_KT2 + 1));
	smem_allow((const void *)attention_backward_kv_kernel, smem2);
	dim3 grid2(sift_ceil_div(Tmax, AT_KT2), NH, B);
	attention_backward_kv_kernel<<<grid2, AT_THREADS, smem2>>>(dqkv, datt, dout, qkv,
		att, offs, C, NH, p, keep, seed);
	CUDA_LAUNCHED();
}
