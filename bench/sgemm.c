/* sgemm.c: GFLOP/s of plain OpenBLAS sgemm at the shapes of a BERT layer, the ceiling for bench-fwd.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* usage: sgemm threads N C FF: out (N,OC) = inp (N,C) @ weight (OC,C)^T
 * for the four products of a layer (3C, C, I, and C from I) */
int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: sgemm threads N C FF\n");
		return 2;
	}
	int th = atoi(argv[1]), N = atoi(argv[2]), C = atoi(argv[3]), FF = atoi(argv[4]);
	openblas_set_num_threads(th);
	int shapes[4][2] = { { C, 3 * C }, { C, C }, { C, FF }, { FF, C } };
	size_t big = (size_t)(FF > 3 * C ? FF : 3 * C);
	float *a = malloc(sizeof(float) * N * big), *w = malloc(sizeof(float) * big * big),
	      *o = malloc(sizeof(float) * N * big);
	if (!a || !w || !o)
		return 1;
	for (size_t i = 0; i < (size_t)N * big; i++)
		a[i] = (float)(i % 13) * 0.01f;
	for (size_t i = 0; i < big * big; i++)
		w[i] = (float)(i % 7) * 0.01f;
	double flops = 0, t = 0;
	for (int rep = 0; rep < 2; rep++) {	/* the first round warms up */
		flops = 0;
		double t0 = now();
		for (int it = 0; it < 20; it++)
			for (int s = 0; s < 4; s++) {
				int k = shapes[s][0], oc = shapes[s][1];
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, oc, k,
					    1.0f, a, k, w, k, 0.0f, o, oc);
				flops += 2.0 * N * k * oc;
			}
		t = now() - t0;
	}
	printf("%.1f\n", flops / t / 1e9);
	free(a);
	free(w);
	free(o);
	return 0;
}
