/* cpu_bf16.c: the CPU's bf16 products (bf16 inputs, fp32 sums), and the oneDNN matmul tile they share with int8 and with fp32 on packed weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#ifdef SIFT_DNNL
#include <oneapi/dnnl/dnnl.h>	/* defines: the matmul primitive, dnnl_get_effective_cpu_isa */
#endif

#include "cpu_bf16.h"
#include "hot.h"	/* defines: HOT */
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

/*
 * Nearest, ties to even; a NaN stays a NaN, quieted.  Written without a
 * branch so that the loops below vectorize: with AMX the products run at
 * several hundred GFLOP/s, and a scalar rounding of their inputs took
 * more time than the products themselves.
 */
static inline uint16_t to_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	uint32_t r = (u + 0x7fffu + ((u >> 16) & 1)) >> 16;
	uint32_t q = (u >> 16) | 0x40;
	return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? q : r);
}

float sift_cpu_bf16_float(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

HOT void sift_cpu_bf16_round(uint16_t *y, const float *x, size_t n)
{
#pragma omp simd
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

int sift_cpu_bf16_freeze(const float *w, size_t n)
{
	(void)w, (void)n;
	return 0;
}

void sift_cpu_bf16_thaw(void)
{
}

int sift_cpu_f32_pack(const float *w, int OC, int C)
{
	(void)w, (void)OC, (void)C;
	return 0;
}

void sift_cpu_f32_unpack(void)
{
}

const struct sift_packed *sift_cpu_f32_packed(const float *w, int OC, int C)
{
	(void)w, (void)OC, (void)C;
	return NULL;
}

int sift_cpu_f32_packed_tile(const struct sift_packed *pk, int m, const float *a,
			     const float *bias, float *c)
{
	(void)pk, (void)m, (void)a, (void)bias, (void)c;
	return -1;
}

struct sift_packed *sift_cpu_s8_pack(const int8_t *w, int OC, int C)
{
	(void)w, (void)OC, (void)C;
	return NULL;
}

int sift_cpu_s8_packed_tile(const struct sift_packed *pk, int m, const uint8_t *a, int32_t *c)
{
	(void)pk, (void)m, (void)a, (void)c;
	return -1;
}

void sift_cpu_packed_free(struct sift_packed *pk)
{
	(void)pk;
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
 * One tile's product on the calling thread, as cpu_bf16.h gives it
 * (a transposed a is dout's columns for dweight; a transposed b is a
 * weight (OC,C) read as its transpose).  The primitives are kept per thread (a thread's own
 * stream and memory objects; the inference groups call from several
 * threads at once), made on one thread so that oneDNN's blocking, and
 * with it the bits, depend on the shape alone.
 */
struct prim {
	int kind, m, n, k, bt, at, acc;
	dnnl_primitive_t p;
	dnnl_memory_t a, b, c, s;	/* s: its scratchpad, NULL: none */
	dnnl_memory_t bias;		/* an fp32 kind with a bias, else NULL */
	dnnl_memory_desc_t wmd;		/* a packed kind: the weights' layout */
	size_t sbytes;
};
#define NPRIM 64
static _Thread_local struct prim prims[NPRIM];
static _Thread_local int nprim, nextprim;
static _Thread_local dnnl_stream_t stream;
static _Thread_local struct { void *p; size_t n; } pad;	/* the scratchpad */

static void check(dnnl_status_t s, const char *what)
{
	if (s != dnnl_success)
		sift_die(1, "oneDNN matmul: %s: status %d", what, (int)s);
}

static void prim_free(struct prim *q)
{
	dnnl_primitive_destroy(q->p);
	dnnl_memory_destroy(q->a);
	dnnl_memory_destroy(q->b);
	dnnl_memory_destroy(q->c);
	dnnl_memory_destroy(q->s);
	dnnl_memory_destroy(q->bias);
	q->p = NULL;
	q->bias = NULL;
}

static struct prim *prim_get(int kind, int m, int n, int k, int bt, int at, int acc)
{
	for (int i = 0; i < nprim; i++) {
		struct prim *q = &prims[i];
		if (q->kind == kind && q->m == m && q->n == n && q->k == k && q->bt == bt &&
		    q->at == at && q->acc == acc)
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
	dnnl_memory_desc_t ad, bd, cd, biasd;
	dnnl_dims_t adim = { m, k }, bdim = { k, n }, cdim = { m, n }, biasdim = { 1, n };
	dnnl_dims_t astr = { at ? 1 : k, at ? at : 1 }, bstr = { bt ? 1 : n, bt ? k : 1 };
	int i8 = kind == SIFT_MM_U8S8 || kind == SIFT_MM_U8S8P;
	int f32 = kind == SIFT_MM_F32P || kind == SIFT_MM_F32;
	int packedw = kind == SIFT_MM_F32P || kind == SIFT_MM_U8S8P;
	dnnl_data_type_t in = i8 ? dnnl_u8 : f32 ? dnnl_f32 : dnnl_bf16;
	check(dnnl_memory_desc_init_by_strides(&ad, 2, adim, in, astr), "src");
	if (packedw)	/* the layout oneDNN likes best: the packed one */
		check(dnnl_memory_desc_init_by_tag(&bd, 2, bdim, i8 ? dnnl_s8 : dnnl_f32,
						   dnnl_format_tag_any), "weights");
	else
		check(dnnl_memory_desc_init_by_strides(&bd, 2, bdim, i8 ? dnnl_s8 :
						       f32 ? dnnl_f32 : dnnl_bf16, bstr), "weights");
	check(dnnl_memory_desc_init_by_tag(&cd, 2, cdim, i8 ? dnnl_s32 : dnnl_f32, dnnl_ab),
	      "dst");
	if (f32 && acc)
		check(dnnl_memory_desc_init_by_tag(&biasd, 2, biasdim, dnnl_f32, dnnl_ab),
		      "bias");
	dnnl_matmul_desc_t md;
	check(dnnl_matmul_desc_init(&md, &ad, &bd, f32 && acc ? &biasd : NULL, &cd), "desc");
	dnnl_primitive_attr_t attr;
	check(dnnl_primitive_attr_create(&attr), "attr");
	/* the scratchpad (oneDNN packs the inputs there) is the thread's own
	 * and kept: left to oneDNN it was mapped and zeroed by the kernel at
	 * every call, 9% of a bf16 training step */
	check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
	      "scratchpad");
	if (acc && !f32) {
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
	const dnnl_memory_desc_t *sd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
	q->sbytes = sd ? dnnl_memory_desc_get_size(sd) : 0;
	q->s = NULL;
	if (q->sbytes)
		check(dnnl_memory_create(&q->s, sd, e, DNNL_MEMORY_NONE), "memory");
	q->bias = NULL;
	if (packedw) {
		bd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
		q->wmd = bd;
	}
	if (f32 && acc)
		check(dnnl_memory_create(&q->bias, &biasd, e, DNNL_MEMORY_NONE), "memory");
	dnnl_primitive_desc_destroy(pd);
	check(dnnl_memory_create(&q->a, &ad, e, DNNL_MEMORY_NONE), "memory");
	check(dnnl_memory_create(&q->b, &bd, e, DNNL_MEMORY_NONE), "memory");
	check(dnnl_memory_create(&q->c, &cd, e, DNNL_MEMORY_NONE), "memory");
	q->kind = kind, q->m = m, q->n = n, q->k = k, q->bt = bt, q->at = at, q->acc = acc;
	return q;
}

/* the calling thread's stream, made once */
static dnnl_stream_t get_stream(void)
{
	if (!stream)
		check(dnnl_stream_create(&stream, get_engine(), dnnl_stream_default_flags),
		      "stream");
	return stream;
}

/* runs q on the calling thread over a, b (and bias) into c */
static void prim_run(struct prim *q, const void *a, const void *b, const float *bias, void *c)
{
	dnnl_stream_t st = get_stream();
	check(dnnl_memory_set_data_handle(q->a, (void *)a), "memory");
	check(dnnl_memory_set_data_handle(q->b, (void *)b), "memory");
	check(dnnl_memory_set_data_handle(q->c, c), "memory");
	dnnl_exec_arg_t args[5] = {
		{ DNNL_ARG_SRC, q->a }, { DNNL_ARG_WEIGHTS, q->b }, { DNNL_ARG_DST, q->c },
	};
	int n = 3;
	if (q->bias) {
		check(dnnl_memory_set_data_handle(q->bias, (void *)bias), "memory");
		args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, q->bias };
	}
	if (q->s) {
		if (pad.n < q->sbytes) {
			free(pad.p);
			pad.p = sift_xmalloc(q->sbytes);
			pad.n = q->sbytes;
		}
		check(dnnl_memory_set_data_handle(q->s, pad.p), "memory");
		args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, q->s };
	}
	check(dnnl_primitive_execute(q->p, st, n, args), "execute");
	check(dnnl_stream_wait(st), "wait");
}

void sift_cpu_dnnl_tile(enum sift_mm_kind kind, int m, int n, int k, const void *a,
			int at, const void *b, int bt, int acc, void *c)
{
	/* oneDNN splits a call over omp_get_max_threads() outside a parallel
	 * region (an if (0) region is not one); this ICV is the task's own */
	omp_set_num_threads(1);
	prim_run(prim_get(kind, m, n, k, bt, at, acc), a, b, NULL, c);
}

/*
 * Weights that stay fixed while a program runs (sift-fwd's model),
 * reordered once into the layout oneDNN's matmul reads fastest, so that
 * no product packs them again.  fp32 ones are in a table of
 * sift_cpu_bf16_freeze's kind, found by address and shape, written
 * before the first product; int8 ones belong to their quantised layer.
 */
struct sift_packed {
	int kind;		/* SIFT_MM_F32P or SIFT_MM_U8S8P */
	const void *w;
	int OC, C;
	void *p;		/* the packed copy */
	dnnl_memory_desc_t md;	/* its layout */
};

/* w (OC,C) row-major, the (C,OC) weights read with strides (1,C),
 * packed into pk; 0, or -1 when out of memory */
static int pack(struct sift_packed *pk, int kind, const void *w, int OC, int C)
{
	/* the layout of a tile of the fewest rows; each tile's primitive
	 * is checked for the same (it is the same on avx512_core: the
	 * layout depends on n, k and the ISA, not on the rows) */
	int outer = omp_get_max_threads();
	omp_set_num_threads(1);
	struct prim *q = prim_get(kind, SIFT_CPU_TILE_MIN, OC, C, 1, 0, kind == SIFT_MM_F32P);
	dnnl_memory_desc_t md = q->wmd;
	omp_set_num_threads(outer);
	void *p = malloc(dnnl_memory_desc_get_size(&md));
	if (!p)
		return -1;
	dnnl_engine_t e = get_engine();
	dnnl_memory_desc_t wd;
	dnnl_dims_t dim = { C, OC }, str = { 1, C };
	check(dnnl_memory_desc_init_by_strides(&wd, 2, dim, kind == SIFT_MM_F32P ? dnnl_f32 : dnnl_s8,
					       str), "weights");
	dnnl_memory_t from, to;
	dnnl_primitive_desc_t rpd;
	dnnl_primitive_t r;
	check(dnnl_memory_create(&from, &wd, e, (void *)w), "memory");
	check(dnnl_memory_create(&to, &md, e, p), "memory");
	check(dnnl_reorder_primitive_desc_create(&rpd, &wd, e, &md, e, NULL), "reorder");
	check(dnnl_primitive_create(&r, rpd), "reorder");
	dnnl_primitive_desc_destroy(rpd);
	dnnl_exec_arg_t args[2] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to } };
	check(dnnl_primitive_execute(r, get_stream(), 2, args), "reorder");
	check(dnnl_stream_wait(get_stream()), "wait");
	dnnl_primitive_destroy(r);
	dnnl_memory_destroy(from);
	dnnl_memory_destroy(to);
	*pk = (struct sift_packed){ kind, w, OC, C, p, md };
	return 0;
}

/* one tile from the packed weights, on the calling thread; -1 (nothing
 * written) where this tile's primitive wants another layout */
static int packed_tile(const struct sift_packed *pk, int m, const void *a, const float *bias,
		       void *c)
{
	omp_set_num_threads(1);
	struct prim *q = prim_get(pk->kind, m, pk->OC, pk->C, 1, 0, bias != NULL);
	if (!dnnl_memory_desc_equal(&q->wmd, &pk->md))
		return -1;
	prim_run(q, a, pk->p, bias, c);
	return 0;
}

#define NPACKED 256
static struct sift_packed packed[NPACKED];
static int npacked;

int sift_cpu_f32_pack(const float *w, int OC, int C)
{
	if (!w || OC <= 0 || C <= 0 || sift_cpu_f32_packed(w, OC, C))
		return 0;
	if (npacked == NPACKED)
		return 0;	/* still right: sgemm packs it per call */
	if (pack(&packed[npacked], SIFT_MM_F32P, w, OC, C) < 0)
		return -1;
	npacked++;
	return 0;
}

void sift_cpu_f32_unpack(void)
{
	for (int i = 0; i < npacked; i++)
		free(packed[i].p);
	npacked = 0;
}

const struct sift_packed *sift_cpu_f32_packed(const float *w, int OC, int C)
{
	for (int i = 0; i < npacked; i++)
		if (packed[i].w == w && packed[i].OC == OC && packed[i].C == C)
			return &packed[i];
	return NULL;
}

int sift_cpu_f32_packed_tile(const struct sift_packed *pk, int m, const float *a,
			     const float *bias, float *c)
{
	return packed_tile(pk, m, a, bias, c);
}

struct sift_packed *sift_cpu_s8_pack(const int8_t *w, int OC, int C)
{
	struct sift_packed *pk = malloc(sizeof *pk);
	if (!pk || pack(pk, SIFT_MM_U8S8P, w, OC, C) < 0) {
		free(pk);
		return NULL;
	}
	return pk;
}

int sift_cpu_s8_packed_tile(const struct sift_packed *pk, int m, const uint8_t *a, int32_t *c)
{
	return packed_tile(pk, m, a, NULL, c);
}

void sift_cpu_f32_tile(int m, int n, int k, const float *a, const float *w,
		       const float *bias, float *c)
{
	omp_set_num_threads(1);
	prim_run(prim_get(SIFT_MM_F32, m, n, k, 1, 0, bias != NULL), a, w, bias, c);
}

void sift_cpu_packed_free(struct sift_packed *pk)
{
	if (pk)
		free(pk->p);
	free(pk);
}

static void tile_gemm(int m, int n, int k, const uint16_t *a, int at,
		      const uint16_t *b, int bt, int acc, float *c)
{
	sift_cpu_dnnl_tile(SIFT_MM_BF16, m, n, k, a, at, b, bt, acc, c);
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

/*
 * Weights that stay fixed while a program runs (sift-fwd's model):
 * rounded once, where a training step must round them at every call.
 * A weight is found by its address; the table is written before the
 * first product and only read by the products.
 */
#define NFROZEN 256
static struct frozen { const float *w; size_t n; uint16_t *b; } frozen[NFROZEN];
static int nfrozen;

int sift_cpu_bf16_freeze(const float *w, size_t n)
{
	if (!w || n == 0)
		return 0;
	for (int i = 0; i < nfrozen; i++)
		if (frozen[i].w == w && frozen[i].n == n)
			return 0;
	if (nfrozen == NFROZEN)
		return 0;	/* still right: the others are rounded per call */
	uint16_t *b = malloc(n * sizeof *b);
	if (!b)
		return -1;
	round_par(b, w, n, omp_get_max_threads());
	frozen[nfrozen++] = (struct frozen){ w, n, b };
	return 0;
}

void sift_cpu_bf16_thaw(void)
{
	for (int i = 0; i < nfrozen; i++)
		free(frozen[i].b);
	nfrozen = 0;
}

static const uint16_t *frozen_get(const float *w, size_t n)
{
	for (int i = 0; i < nfrozen; i++)
		if (frozen[i].w == w && frozen[i].n == n)
			return frozen[i].b;
	return NULL;
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
	uint16_t *x = scratch(0, (size_t)N * C);
	const uint16_t *w = frozen_get(weight, (size_t)OC * C);
	round_par(x, inp, (size_t)N * C, nt);
	if (!w) {
		uint16_t *wr = scratch(1, (size_t)OC * C);
		round_par(wr, weight, (size_t)OC * C, nt);
		w = wr;
	}
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int t = 0; t < k; t++) {
		int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
		if (r1 <= r0)
			continue;
		if (bias)
			for (int r = r0; r < r1; r++)
				memcpy(out + (size_t)r * OC, bias, sizeof(float) * OC);
		/* out (n,OC) = inp (n,C) @ weight^T, weight (OC,C) */
		tile_gemm(r1 - r0, OC, C, x + (size_t)r0 * C, 0, w, 1, bias != NULL,
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
				tile_gemm(r1 - r0, C, OC, d + (size_t)r0 * OC, 0, w, 0, 0,
					  dinp + (size_t)r0 * C);
		}
	}
	/* dweight (OC,C) += dout^T (OC,N) @ inp (N,C): tiles of output rows,
	 * each tile's rows read as columns of the rounded dout (transposed by
	 * oneDNN as it packs them: an explicit transposed copy cost more than
	 * the product) */
	if (dweight) {
		int k = sift_cpu_tiles(OC);
		int ntk = nt < k ? nt : k;
		uint16_t *d = scratch(0, (size_t)N * OC), *x = scratch(2, (size_t)N * C);
		if (!dinp)
			round_par(d, dout, (size_t)N * OC, ntk);
		round_par(x, inp, (size_t)N * C, ntk);
#pragma omp parallel for schedule(static) num_threads(ntk) if (ntk > 1)
		for (int t = 0; t < k; t++) {
			int o0 = sift_cpu_tile(OC, k, t), o1 = sift_cpu_tile(OC, k, t + 1);
			if (o1 > o0)
				tile_gemm(o1 - o0, C, N, d + o0, OC, x, 0, 1,
					  dweight + (size_t)o0 * C);
		}
	}
}

#endif
