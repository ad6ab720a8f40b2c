/* cpu_rows.c: row gathers on the CPU (the [CLS] rows of a batch) and their scatter back (twin of kernels/rows.cu). */
#include <stdint.h>
#include <string.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */

void sift_cpu_gather_rows_forward(float *out, const float *inp,
				  const int32_t *rows, int M, int C)
{
	for (int i = 0; i < M; i++)
		memcpy(out + (size_t)i * C, inp + (size_t)rows[i] * C,
		       sizeof(float) * C);
}

void sift_cpu_scatter_rows_backward(float *dinp, const float *dout,
				    const int32_t *rows, int M, int C)
{
	for (int i = 0; i < M; i++) {
		float *d = dinp + (size_t)rows[i] * C;
		const float *g = dout + (size_t)i * C;
		for (int c = 0; c < C; c++)
			d[c] += g[c];
	}
}
