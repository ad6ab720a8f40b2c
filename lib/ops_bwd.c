/* ops_bwd.c: backward passes of the encoder ops, cross-entropy and dropout on the CPU. */
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>
#include <cblas.h>

#include "ops_bwd.h"
#include "rng.h"	/* defines: sift_hash_uniform */

void matmul_backward(float *dinp, float *dweight, float *dbias,
		     const float *dout, const float *inp, const float *weight,
		     int N, int C, int OC)
{
	/* dinp (N,C) += dout (N,OC) @ weight (OC,C) */
	if (dinp)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC,
			    1.0f, dout, OC, weight, C, 1.0f, dinp, C);
	/* dweight (OC,C) += dout^T (OC,N) @ inp (N,C) */
	if (dweight)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N,
			    1.0f, dout, OC, inp, C, 1.0f, dweight, C);
	/* dbias (OC) += column sums of dout */
	if (dbias) {
		#pragma omp parallel for
		for (int o = 0; o < OC; o++) {
			float s = 0.0f;
			for (int n = 0; n < N; n++)
				s += dout[(size_t)n * OC + o];
			dbias[o] += s;
		}
	}
}

void layernorm_backward(float *dinp, float *dweight, float *dbias,
			const float *dout, const float *inp,
			const float *weight, const float *mean,
			const float *rstd, int N, int C)
{
	if (dinp) {
		#pragma omp parallel for
		for (int n = 0; n < N; n++) {
			const float *x = inp + (size_t)n * C;
			const float *dy = dout + (size_t)n * C;
			float *dx = dinp + (size_t)n * C;
			float mu = mean[n], rs = rstd[n];
			/* dx = rs * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w */
			float gmean = 0.0f, gxmean = 0.0f;
			for (int i = 0; i < C; i++) {
				float g = dy[i] * weight[i];
				gmean += g;
				gxmean += g * (x[i] - mu) * rs;
			}
			gmean /= C;
			gxmean /= C;
			for (int i = 0; i < C; i++) {
				float xhat = (x[i] - mu) * rs;
				float g = dy[i] * weight[i];
				dx[i] += rs * (g - gmean - xhat * gxmean);
			}
		}
	}
	if (dweight || dbias) {
		/* columns in parallel: each thread owns its columns, so the
		 * sums run in row order whatever the thread count */
		#pragma omp parallel for
		for (int i = 0; i < C; i++) {
			float sw = 0.0f, sb = 0.0f;
			for (int n = 0; n < N; n++) {
				float dy = dout[(size_t)n * C + i];
				sw += dy * (inp[(size_t)n * C + i] - mean[n]) * rstd[n];
				sb += dy;
			}
			if (dweight)
				dweight[i] += sw;
			if (dbias)
				dbias[i] += sb;
		}
	}
}

void gelu_backward(float *dinp, const float *inp, const float *dout, int N)
{
	#pragma omp parallel for
	for (int i = 0; i < N; i++) {
		float x = inp[i];
		float cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
		float pdf = expf(-0.5f * x * x) * 0.3989422804014327f;
		dinp[i] += dout[i] * (cdf + x * pdf);
	}
}

void tanh_backward(float *dinp, const float *out, const float *dout, int N)
{
	for (int i = 0; i < N; i++)
		dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

void residual_backward(float *da, float *db, const float *dout, int N)
{
	#pragma omp parallel for
	for (int i = 0; i < N; i++) {
		if (da)
			da[i] += dout[i];
		if (db)
			db[i] += dout[i];
	}
}

void dropout_forward(float *out, const float *inp, int N, float p,
		     uint64_t seed, uint64_t counter)
{
	if (p <= 0.0f) {
		if (out != inp)
			memcpy(out, inp, (size_t)N * sizeof *out);
		return;
	}
	float scale = 1.0f / (1.0f - p);
	#pragma omp parallel for
	for (int i = 0; i < N; i++)
		out[i] = sift_hash_uniform(seed, counter + (uint64_t)i) >= p
			 ? inp[i] * scale : 0.0f;
}

void dropout_backward(float *dinp, const float *dout, int N, float p,
		      uint64_t seed, uint64_t counter)
{
	if (p <= 0.0f) {
		#pragma omp parallel for
		for (int i = 0; i < N; i++)
			dinp[i] += dout[i];
		return;
	}
	float scale = 1.0f / (1.0f - p);
	#pragma omp parallel for
	for (int i = 0; i < N; i++)
		if (sift_hash_uniform(seed, counter + (uint64_t)i) >= p)
			dinp[i] += dout[i] * scale;
}

void attention_forward_train(float *out, float *att, const float *q,
			     const float *k, const float *v, int ld,
			     const uint8_t *mask, int B, int T, int NH, int HS,
			     float p, uint64_t seed, uint64_t counter)
{
	int C = NH * HS;
	float scale = 1.0f / sqrtf((float)HS);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	#pragma omp parallel for collapse(3)
	for (int b = 0; b < B; b++)
	for (int h = 0; h < NH; h++)
	for (int i = 0; i < T; i++) {
		const float *qi = q + ((size_t)b * T + i) * ld + h * HS;
		float *a = att + (((size_t)b * NH + h) * T + i) * T;
		float mx = -INFINITY;
		for (int j = 0; j < T; j++) {
			if (mask && !mask[(size_t)b * T + j]) {
				a[j] = -INFINITY;
				continue;
			}
			const float *kj = k + ((size_t)b * T + j) * ld + h * HS;
			float s = 0.0f;
			for (int d = 0; d < HS; d++)
				s += qi[d] * kj[d];
			a[j] = s * scale;
			if (a[j] > mx)
				mx = a[j];
		}
		float sum = 0.0f;
		for (int j = 0; j < T; j++) {
			a[j] = a[j] == -INFINITY ? 0.0f : expf(a[j] - mx);
			sum += a[j];
		}
		float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
		for (int j = 0; j < T; j++)
			a[j] *= inv;
		float *o = out + ((size_t)b * T + i) * C + h * HS;
		for (int d = 0; d < HS; d++)
			o[d] = 0.0f;
		uint64_t c0 = counter + (((uint64_t)b * NH + h) * T + i) * T;
		for (int j = 0; j < T; j++) {
			float w = a[j];
			if (w == 0.0f)
				continue;
			if (p > 0.0f)
				w = sift_hash_uniform(seed, c0 + j) >= p ? w * keep : 0.0f;
			const float *vj = v + ((size_t)b * T + j) * ld + h * HS;
			for (int d = 0; d < HS; d++)
				o[d] += w * vj[d];
		}
	}
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout,
			const float *q, const float *k, const float *v, int ld,
			const float *att, int B, int T, int NH, int HS,
			float p, uint64_t seed, uint64_t counter,
			float *scratch)
{
	int C = NH * HS;
	float scale = 1.0f / sqrtf((float)HS);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	/* one (b,h) per iteration: it owns rows b of dq, dk, dv in columns
	 * of head h, so no two iterations write the same float */
	#pragma omp parallel for collapse(2)
	for (int b = 0; b < B; b++)
	for (int h = 0; h < NH; h++) {
		float *datt = scratch + (size_t)omp_get_thread_num() * T * T;
		const float *A = att + ((size_t)b * NH + h) * T * T;
		uint64_t cbh = counter + ((uint64_t)b * NH + h) * T * T;
		for (int i = 0; i < T; i++) {
			const float *doi = dout + ((size_t)b * T + i) * C + h * HS;
			const float *a = A + (size_t)i * T;
			float *da = datt + (size_t)i * T;
			/* dP' = dout v^T; dv += P'^T dout */
			for (int j = 0; j < T; j++) {
				if (a[j] == 0.0f) {
					da[j] = 0.0f;
					continue;
				}
				float m = 1.0f;
				if (p > 0.0f)
					m = sift_hash_uniform(seed, cbh + (uint64_t)i * T + j) >= p
					    ? keep : 0.0f;
				const float *vj = v + ((size_t)b * T + j) * ld + h * HS;
				float s = 0.0f;
				for (int d = 0; d < HS; d++)
					s += doi[d] * vj[d];
				da[j] = s * m;	/* dP = dP' * mask / (1-p) */
				if (dv && m != 0.0f) {
					float w = a[j] * m;
					float *dvj = dv + ((size_t)b * T + j) * ld + h * HS;
					for (int d = 0; d < HS; d++)
						dvj[d] += w * doi[d];
				}
			}
			/* softmax: dS = P * (dP - sum(dP * P)) */
			float dot = 0.0f;
			for (int j = 0; j < T; j++)
				dot += da[j] * a[j];
			for (int j = 0; j < T; j++)
				da[j] = a[j] * (da[j] - dot) * scale;
		}
		/* dq_i += sum_j dS_ij k_j; dk_j += sum_i dS_ij q_i */
		for (int i = 0; i < T; i++) {
			const float *da = datt + (size_t)i * T;
			const float *qi = q + ((size_t)b * T + i) * ld + h * HS;
			float *dqi = dq ? dq + ((size_t)b * T + i) * ld + h * HS : NULL;
			for (int j = 0; j < T; j++) {
				float g = da[j];
				if (g == 0.0f)
					continue;
				const float *kj = k + ((size_t)b * T + j) * ld + h * HS;
				if (dqi)
					for (int d = 0; d < HS; d++)
						dqi[d] += g * kj[d];
				if (dk) {
					float *dkj = dk + ((size_t)b * T + j) * ld + h * HS;
					for (int d = 0; d < HS; d++)
						dkj[d] += g * qi[d];
				}
			}
		}
	}
}

void embedding_backward(float *dwte, float *dwpe, float *dwtt,
			const float *dout, const int32_t *ids,
			const int32_t *type_ids, int B, int T, int C)
{
	/* serial over tokens in order: the same sums on every run */
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			const float *g = dout + ((size_t)b * T + t) * C;
			float *we = dwte ? dwte + (size_t)ids[b * T + t] * C : NULL;
			float *wp = dwpe ? dwpe + (size_t)t * C : NULL;
			float *wt = dwtt ? dwtt + (size_t)(type_ids ? type_ids[b * T + t] : 0) * C : NULL;
			for (int i = 0; i < C; i++) {
				if (we)
					we[i] += g[i];
				if (wp)
					wp[i] += g[i];
				if (wt)
					wt[i] += g[i];
			}
		}
}

double crossentropy_forward_backward(float *dlogits, const float *logits,
				     const int32_t *labels, int N, int L,
				     float scale, int *count)
{
	int cnt = 0;
	for (int n = 0; n < N; n++) {
		if (labels[n] == -100)
			continue;
		if (labels[n] < 0 || labels[n] >= L)
			return NAN;
		cnt++;
	}
	if (count)
		*count = cnt;
	double loss = 0.0;
	float inv = cnt ? scale / cnt : 0.0f;
	for (int n = 0; n < N; n++) {
		const float *x = logits + (size_t)n * L;
		float *dx = dlogits ? dlogits + (size_t)n * L : NULL;
		if (labels[n] == -100) {
			if (dx)
				memset(dx, 0, (size_t)L * sizeof *dx);
			continue;
		}
		float mx = x[0];
		for (int j = 1; j < L; j++)
			if (x[j] > mx)
				mx = x[j];
		double sum = 0.0;
		for (int j = 0; j < L; j++)
			sum += exp((double)x[j] - mx);
		double lse = mx + log(sum);
		loss += lse - x[labels[n]];
		if (dx)
			for (int j = 0; j < L; j++)
				dx[j] = (float)(exp((double)x[j] - lse)) * inv
					- (j == labels[n] ? inv : 0.0f);
	}
	return cnt ? loss / cnt : 0.0;
}
