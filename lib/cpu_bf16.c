/* cpu_bf16.c: the CPU's bf16 products: bf16 inputs, fp32 sums, oneDNN's matmul. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#ifdef SIFT_DNNL
#include <oneapi/dnnl/dnnl.h>	/* defines: the matmul primitive, dnnl_get_effective_cpu_isa */
#endif

#include "cpu_bf16.h"
#include "ops_cpu.h"	/* defines: sift_cpu_tiles, sift_cpu_tile, sift_cpu_gemm_threads */
#include "prog.h"	/* defines: sift_xmalloc, sift_die */

static int bf16_on;

void sift_cpu_bf16_set(int on)
{
	bf16_on = on != 0;
}

int sift_cpu_bf16_on(void)
{
	return bf16_on;
}

static inline uint16_t to_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40);	/* NaN: quiet, kept */
	u += 0x7fffu + ((u >> 16) & 1);		/* nearest, ties to even */
	return (uint16_t)(u >> 16);
}

float sift_cpu_bf16_float(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

void sift_cpu_bf16_round(uint16_t *y, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = to_bf16(x[i]);
}

#ifndef SIFT_DNNL

const char *sift_cpu_bf16_name(void)
{
	return "none";
}

int sift_cpu_bf16_check(char *err, size_t errlen)
{
	snprintf(err, errlen, "bf16 precision on the cpu needs oneDNN (a build with libdnnl-dev)");
	return -1;
}

void sift_cpu_bf16_matmul_forward(float *out, const float *inp,
				  const float *weight, const float *bias,
				  int N, int C, int OC)
{
	(void)out, (void)inp, (void)weight, (void)bias, (void)N, (void)C, (void)OC;
	sift_die(1, "bf16 products without oneDNN");
}

void sift_cpu_bf16_matmul_backward(float *dinp, float *dweight,
				   const float *dout, const float *inp,
				   const float *weight, int N, int C, int OC)
{
	(void)dinp, (void)dweight, (void)dout, (void)inp, (void)weight;
	(void)N, (void)C, (void)OC;
	sift_die(1, "bf16 products without oneDNN");
}

#else

const char *sift_cpu_bf16_name(void)
{
	static char buf[64];
	if (!buf[0]) {
		const dnnl_version_t *v = dnnl_version();
		snprintf(buf, sizeof buf, "oneDNN %d.%d.%d matmul", v->major, v->minor, v->patch);
	}
	return buf;
}

/* oneDNN's name of an ISA, as ONEDNN_MAX_CPU_ISA spells it (lower case) */
static const char *isa_name(dnnl_cpu_isa_t isa)
{
	switch (isa) {
	case dnnl_cpu_isa_sse41: return "sse41";
	case dnnl_cpu_isa_avx: return "avx";
	case dnnl_cpu_isa_avx2: return "avx2";
	case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
	case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
	case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
	case dnnl_cpu_isa_avx512_core: return "avx512_core";
	case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
	case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
	case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
	default: return "unknown";
	}
}

/*
 * Without AVX512-BF16 oneDNN 2.6.3 still runs a bf16 matmul on
 * avx512_core, by emulation (its "gemm:jit", several times slower than
 * fp32), and none below it: both are refused here.  The ISA masks nest,
 * so avx512_core_bf16 "or better" (AMX) is a superset of its bits.
 */
int sift_cpu_bf16_check(char *err, size_t errlen)
{
	dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
	if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) ==
	    (unsigned)dnnl_cpu_isa_avx512_core_bf16)
		return 0;
	snprintf(err, errlen, "bf16 precision on the cpu needs AVX512-BF16 or AMX "
		 "(oneDNN's ISA here: %s)", isa_name(isa));
	return -1;
}

static dnnl_engine_t engine;

/* the engine, made once; oneDNN reports a failure here only when broken */
static dnnl_engine_t get_engine(void)
{
	dnnl_engine_t e;
#pragma omp critical(sift_bf16_engine)
	{
		if (!engine && dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success)
			engine = NULL;
		e = engine;
	}
	if (!e)
		sift_die(1, "oneDNN: cannot make a cpu engine");
	return e;
}

/*
 * One tile's product on the calling thread:
 * c (m,n) = a (m,k) @ b (k,n) + beta c, a and b bf16, c fp32; b stored
 * (k,n) row-major, or (n,k) when bt (a weight (OC,C) read as its
 * transpose).  The primitives are kept per thread (a thread's own
 * stream and memory objects; the inference groups call from several
 * threads at once), made on one thread so that oneDNN's blocking, and
 * with it the bits, depend on the shape alone.
 */
struct prim {
	int m, n, k, bt, acc;
	dnnl_primitive_t p;
	dnnl_memory_t a, b, c;
};
#define NPRIM 64
static _Thread_local struct prim prims[NPRIM];
static _Thread_local int nprim, nextprim;
static _Thread_local dnnl_stream_t stream;

static void check(dnnl_status_t s, const char *what)
{
	if (s != dnnl_success)
		sift_die(1, "oneDNN bf16 matmul: %s: status %d", what, (int)s);
}

static void prim_free(struct prim *q)
{
	dnnl_primitive_destroy(q->p);
	dnnl_memory_destroy(q->a);
	dnnl_memory_destroy(q->b);
	dnnl_memory_destroy(q->c);
	q->p = NULL;
}

static struct prim *prim_get(int m, int n, int k, int bt, int acc)
{
	for (int i = 0; i < nprim; i++) {
		struct prim *q = &prims[i];
		if (q->m == m && q->n == n && q->k == k && q->bt == bt && q->acc == acc)
			return q;
	}
	struct prim *q;
	if (nprim < NPRIM) {
		q = &prims[nprim++];
	} else {
		q = &prims[nextprim];
		nextprim = (nextprim + 1) % NPRIM;
		prim_free(q);
	}
	dnnl_engine_t e = get_engine();
	dnnl_memory_desc_t ad, bd, cd;
	dnnl_dims_t adim = { m, k }, bdim = { k, n }, cdim = { m, n };
	dnnl_dims_t bstr = { bt ? 1 : n, bt ? k : 1 };
	check(dnnl_memory_desc_init_by_tag(&ad, 2, adim, dnnl_bf16, dnnl_ab), "src");
	check(dnnl_memory_desc_init_by_strides(&bd, 2, bdim, dnnl_bf16, bstr), "weights");
	check(dnnl_memory_desc_init_by_tag(&cd, 2, cdim, dnnl_f32, dnnl_ab), "dst");
	dnnl_matmul_desc_t md;
	check(dnnl_matmul_desc_init(&md, &ad, &bd, NULL, &cd), "desc");
	dnnl_primitive_attr_t attr;
	check(dnnl_primitive_attr_create(&attr), "attr");
	if (acc) {
		dnnl_post_ops_t po;
		check(dnnl_post_ops_create(&po), "post-ops");
		check(dnnl_post_ops_append_sum(po, 1.0f), "sum");
		check(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
		dnnl_post_ops_destroy(po);
	}
	dnnl_primitive_desc_t pd;
	check(dnnl_primitive_desc_create(&pd, &md, attr, e, NULL), "primitive");
	dnnl_primitive_attr_destroy(attr);
	check(dnnl_primitive_create(&q->p, pd), "primitive");
	dnnl_primitive_desc_destroy(pd);
	check(dnnl_memory_create(&q->a, &ad, e, DNNL_MEMORY_NONE), "memory");
	check(dnnl_memory_create(&q->b, &bd, e, DNNL_MEMORY_NONE), "memory");
	check(dnnl_memory_create(&q->c, &cd, e, DNNL_MEMORY_NONE), "memory");
	q->m = m, q->n = n, q->k = k, q->bt = bt, q->acc = acc;
	return q;
}

static void tile_gemm(int m, int n, int k, const uint16_t *a,
		      const uint16_t *b, int bt, int acc, float *c)
{
	/* oneDNN splits a call over omp_get_max_threads() outside a parallel
	 * region (an if (0) region is not one); this ICV is the task's own */
	omp_set_num_threads(1);
	if (!stream)
		check(dnnl_stream_create(&stream, get_engine(), dnnl_stream_default_flags),
		      "stream");
	struct prim *q = prim_get(m, n, k, bt, acc);
	check(dnnl_memory_set_data_handle(q->a, (void *)a), "memory");
	check(dnnl_memory_set_data_handle(q->b, (void *)b), "memory");
	check(dnnl_memory_set_data_handle(q->c, c), "memory");
	dnnl_exec_arg_t args[3] = {
		{ DNNL_ARG_SRC, q->a }, { DNNL_ARG_WEIGHTS, q->b }, { DNNL_ARG_DST, q->c },
	};
	check(dnnl_primitive_execute(q->p, stream, 3, args), "execute");
	check(dnnl_stream_wait(stream), "wait");
}

/* the calling thread's bf16 copies of the inputs, grown as needed */
static _Thread_local struct { uint16_t *p; size_t n; } scr[3];

static uint16_t *scratch(int slot, size_t n)
{
	if (scr[slot].n < n) {
		free(scr[slot].p);
		scr[slot].p = sift_xmalloc(n * sizeof(uint16_t));
		scr[slot].n = n;
	}
	return scr[slot].p;
}

/* y = bf16(x), n values, over nt threads (each element on its own: the
 * same bits for any split) */
static void round_par(uint16_t *y, const float *x, size_t n, int nt)
{
	const size_t chunk = 1 << 14;
	long nch = (long)((n + chunk - 1) / chunk);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (long i = 0; i < nch; i++) {
		size_t a = (size_t)i * chunk, b = a + chunk < n ? a + chunk : n;
		sift_cpu_bf16_round(y + a, x + a, b - a);
	}
}

/* yt (cols,rows) = bf16(x (rows,cols))^T, in 16 x 16 blocks */
static void round_t_par(uint16_t *yt, const float *x, int rows, int cols, int nt)
{
	int nb = (cols + 15) / 16;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int cb = 0; cb < nb; cb++) {
		int c0 = cb * 16, c1 = c0 + 16 < cols ? c0 + 16 : cols;
		for (int r0 = 0; r0 < rows; r0 += 16) {
			int r1 = r0 + 16 < rows ? r0 + 16 : rows;
			for (int c = c0; c < c1; c++)
				for (int r = r0; r < r1; r++)
					yt[(size_t)c * rows + r] = to_bf16(x[(size_t)r * cols + c]);
		}
	}
}

void sift_cpu_bf16_matmul_forward(float *out, const float *inp,
				  const float *weight, const float *bias,
				  int N, int C, int OC)
{
	if (N == 0)
		return;
	/* the tiles and threads of sift_cpu_matmul_forward */
	int k = sift_cpu_tiles(N);
	int nt = sift_cpu_gemm_threads((size_t)N * C * OC, k);
	uint16_t *x = scratch(0, (size_t)N * C), *w = scratch(1, (size_t)OC * C);
	round_par(x, inp, (size_t)N * C, nt);
	round_par(w, weight, (size_t)OC * C, nt);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int t = 0; t < k; t++) {
		int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
		if (r1 <= r0)
			continue;
		if (bias)
			for (int r = r0; r < r1; r++)
				memcpy(out + (size_t)r * OC, bias, sizeof(float) * OC);
		/* out (n,OC) = inp (n,C) @ weight^T, weight (OC,C) */
		tile_gemm(r1 - r0, OC, C, x + (size_t)r0 * C, w, 1, bias != NULL,
			  out + (size_t)r0 * OC);
	}
}

void sift_cpu_bf16_matmul_backward(float *dinp, float *dweight,
				   const float *dout, const float *inp,
				   const float *weight, int N, int C, int OC)
{
	if (N <= 0 || (!dinp && !dweight))
		return;
	size_t work = (size_t)N * C * OC;
	int nt = sift_cpu_gemm_threads(work, SIFT_CPU_TILES_MAX);
	/* dinp (N,C) = dout (N,OC) @ weight (OC,C): tiles of rows */
	if (dinp) {
		int k = sift_cpu_tiles(N);
		int ntk = nt < k ? nt : k;
		uint16_t *d = scratch(0, (size_t)N * OC), *w = scratch(1, (size_t)OC * C);
		round_par(d, dout, (size_t)N * OC, ntk);
		round_par(w, weight, (size_t)OC * C, ntk);
#pragma omp parallel for schedule(static) num_threads(ntk) if (ntk > 1)
		for (int t = 0; t < k; t++) {
			int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
			if (r1 > r0)
				tile_gemm(r1 - r0, C, OC, d + (size_t)r0 * OC, w, 0, 0,
					  dinp + (size_t)r0 * C);
		}
	}
	/* dweight (OC,C) += dout^T (OC,N) @ inp (N,C): tiles of output rows,
	 * dout^T copied (OC,N) so that each tile's rows are contiguous */
	if (dweight) {
		int k = sift_cpu_tiles(OC);
		int ntk = nt < k ? nt : k;
		uint16_t *dt = scratch(0, (size_t)OC * N), *x = scratch(2, (size_t)N * C);
		round_t_par(dt, dout, N, OC, ntk);
		round_par(x, inp, (size_t)N * C, ntk);
#pragma omp parallel for schedule(static) num_threads(ntk) if (ntk > 1)
		for (int t = 0; t < k; t++) {
			int o0 = sift_cpu_tile(OC, k, t), o1 = sift_cpu_tile(OC, k, t + 1);
			if (o1 > o0)
				tile_gemm(o1 - o0, C, N, dt + (size_t)o0 * N, x, 0, 1,
					  dweight + (size_t)o0 * C);
		}
	}
}

#endif
