/* cpu_embed.c: the embeddings on the CPU: word + type + position rows, and their gradients (twin of kernels/embed.cu). */
#include <stddef.h>
#include <stdint.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */

void sift_cpu_embed_forward(float *out, const int32_t *ids,
			    const int32_t *type_ids, const int32_t *pos,
			    const float *wte, const float *wpe,
			    const float *wtt, int N, int C)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++) {
		const float *w = wte + (size_t)ids[r] * C;
		const float *p = wpe + (size_t)pos[r] * C;
		const float *t = wtt + (size_t)type_ids[r] * C;
		float *o = out + (size_t)r * C;
		/* the order of transformers: (word + type) + position */
		for (int c = 0; c < C; c++)
			o[c] = (w[c] + t[c]) + p[c];
	}
}

void sift_cpu_embed_backward(float *dwte, float *dwpe, float *dwtt,
			     const float *dout, const int32_t *ids,
			     const int32_t *type_ids, const int32_t *pos,
			     int N, int C)
{
	/* parallel over columns, rows in order inside: deterministic and
	 * free of write conflicts whatever ids repeat */
	#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
	for (int i = 0; i < C; i++)
		for (int r = 0; r < N; r++) {
			float g = dout[(size_t)r * C + i];
			if (dwte)
				dwte[(size_t)ids[r] * C + i] += g;
			if (dwpe)
				dwpe[(size_t)pos[r] * C + i] += g;
			if (dwtt)
				dwtt[(size_t)(type_ids ? type_ids[r] : 0) * C + i] += g;
		}
}
