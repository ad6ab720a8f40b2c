/* backend_cpu.c: the CPU backend, the reference: its memory, its threads and its op table (twin of kernels/backend_cuda.cu). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cblas.h>
#include <omp.h>

#include "backend.h"
#include "ops_cpu.h"	/* defines: the sift_cpu_* ops of the table */
#include "cpu_common.h"	/* defines: sift_cpu_has_avx512, SIFT_HOT_CLONES (hot.h) */
#include "profile.h"	/* defines: sift_profile_install */
#include "cpu_bf16.h"	/* defines: sift_cpu_bf16_on, sift_cpu_bf16_name */

/*
 * A large block asks for transparent huge pages (where the kernel's
 * setting is "madvise", the default of most distributions; "never" turns
 * it off, "always" does it anyway): the weights, gradients, moments and
 * activations are walked whole at every step, and with 4 KiB pages a
 * training run takes a fault for each page it first touches and a TLB
 * miss for many it touches again.  20 NER steps on Zen 4 (1 and 2
 * threads): 218k faults down to 31k, 7-8% off the run's time, 0.5% more
 * resident memory; the bits are the same.  Only the 2 MiB-aligned inside
 * of the block, so that nothing outside it is touched.
 */
static void *cpu_alloc(size_t bytes)
{
	void *p = calloc(1, bytes ? bytes : 1);
#ifdef MADV_HUGEPAGE
	if (p && bytes >= ((size_t)4 << 20)) {
		uintptr_t hp = (uintptr_t)2 << 20;
		uintptr_t a = ((uintptr_t)p + hp - 1) & ~(hp - 1);
		uintptr_t e = ((uintptr_t)p + bytes) & ~(hp - 1);
		if (e > a)
			(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
#endif
	return p;
}

/*
 * A buffer used whole at every step: its pages faulted in now, in one
 * call, where the first step would take a fault a page (two for the
 * moments, read before they are written: the zero page, then the copy).
 * 20 NER steps at 2 threads: the first AdamW pass 191 ms, the later ones
 * 3-6 ms.  Only the whole pages inside the block, and only a block large
 * enough to be mapped on its own (calloc's large blocks are, and are
 * zero already); a kernel without MADV_POPULATE_WRITE (before 5.14)
 * refuses it, and the pages fault in on use as before.
 */
static void *cpu_alloc_whole(size_t bytes)
{
	void *p = cpu_alloc(bytes);
#ifdef MADV_POPULATE_WRITE
	if (p && bytes >= ((size_t)4 << 20)) {
		uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
		uintptr_t e = ((uintptr_t)p + bytes) & ~(pg - 1);
		if (e > a)
			(void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
	}
#endif
	return p;
}

static void cpu_free(void *p)
{
	free(p);
}

static void cpu_copy(void *dst, const void *src, size_t bytes)
{
	if (dst != src)
		memcpy(dst, src, bytes);
}

static void cpu_memset0(void *p, size_t bytes)
{
	memset(p, 0, bytes);
}

static void cpu_sync(void)
{
}

static int cpu_supports_op(enum sift_op op);

/* the inference groups: the rows' tile rule (see ops_cpu.h) */
static int cpu_row_groups(int rows, int *cut, int max, int *threads)
{
	int k = sift_cpu_tiles(rows);
	if (k > max)
		k = max;
	for (int i = 0; i <= k; i++)
		cut[i] = i == k ? rows : sift_cpu_tile(rows, k, i);
	int nt = sift_cpu_split_threads();
	*threads = nt > k ? k : nt;
	return k;
}

struct sift_backend sift_backend_cpu = {
	.name = "cpu",
	.host_memory = 1,
	.describe = sift_cpu_describe,
	.row_groups = cpu_row_groups,
	.supports_op = cpu_supports_op,
	.alloc = cpu_alloc,
	.alloc_whole = cpu_alloc_whole,
	.free = cpu_free,
	.upload = cpu_copy,
	.download = cpu_copy,
	.memset0 = cpu_memset0,
	.sync = cpu_sync,
	.embed_forward = sift_cpu_embed_forward,
	.matmul_forward = sift_cpu_matmul_forward,
	.layernorm_forward = sift_cpu_layernorm_forward,
	.gelu_forward = sift_cpu_gelu_forward,
	.tanh_forward = sift_cpu_tanh_forward,
	.attention_forward = sift_cpu_attention_forward,
	.residual_forward = sift_cpu_residual_forward,
	.dropout_forward = sift_cpu_dropout_forward,
	.gather_rows_forward = sift_cpu_gather_rows_forward,
	.softmax_forward = sift_cpu_softmax_forward,
	.crossentropy_forward = sift_cpu_crossentropy_forward,
	.residual_layernorm_forward = sift_cpu_residual_layernorm_forward,
	.embed_backward = sift_cpu_embed_backward,
	.matmul_backward = sift_cpu_matmul_backward,
	.layernorm_backward = sift_cpu_layernorm_backward,
	.gelu_backward = sift_cpu_gelu_backward,
	.tanh_backward = sift_cpu_tanh_backward,
	.attention_backward = sift_cpu_attention_backward,
	.scatter_rows_backward = sift_cpu_scatter_rows_backward,
	.crossentropy_backward = sift_cpu_crossentropy_backward,
	.adamw_update = sift_cpu_adamw_update,
	.sumsq = sift_cpu_sumsq,
	.adamw_update_rows = sift_cpu_adamw_update_rows,
	.sumsq_rows = sift_cpu_sumsq_rows,
	.scale = sift_cpu_scale,
	.residual_layernorm_backward = sift_cpu_residual_layernorm_backward,
};

static int cpu_supports_op(enum sift_op op)
{
	return sift_backend_slot(&sift_backend_cpu, op) != NULL;
}

/* SIFT_PROFILE=1: the table's slots timed, the totals printed at exit
 * (lib/profile.h); unset, the table is left as it is */
__attribute__((constructor)) static void cpu_profile_env(void)
{
	const char *e = getenv("SIFT_PROFILE");
	if (e && *e && strcmp(e, "0") != 0)
		sift_profile_install(&sift_backend_cpu);
}

/* OpenBLAS's own, exported by a DYNAMIC_ARCH build: its core table
 * chosen again from OPENBLAS_CORETYPE, as at its start (weak: absent
 * from other builds) */
__attribute__((weak)) void gotoblas_dynamic_quit(void);
__attribute__((weak)) void gotoblas_dynamic_init(void);

/*
 * The OpenBLAS core for a CPU it does not know.  OpenBLAS 0.3.21 with
 * DYNAMIC_ARCH falls back to Prescott (SSE3 kernels, a third of the
 * speed or less) on CPUs newer than it (Zen 4, Emerald Rapids); when it
 * reports Prescott on a CPU with AVX-512 or AVX2 and FMA, and the user
 * has not set OPENBLAS_CORETYPE, the core is chosen again, once, before
 * any product: SkylakeX (AVX-512), else Zen on AMD or Haswell.  The core
 * stays one for the process, so the bits stay independent of the thread
 * count; describe() names it.  SIFT_OPENBLAS_CORE=detected keeps
 * OpenBLAS's own choice.  A static OpenBLAS without DYNAMIC_ARCH has no
 * such choice: it never reports Prescott on these CPUs.
 */
__attribute__((constructor)) static void cpu_openblas_core(void)
{
	const char *keep = getenv("SIFT_OPENBLAS_CORE");
	if (getenv("OPENBLAS_CORETYPE") || (keep && strcmp(keep, "detected") == 0))
		return;
	if (strcmp(openblas_get_corename(), "Prescott") != 0 ||
	    !gotoblas_dynamic_quit || !gotoblas_dynamic_init)
		return;
	__builtin_cpu_init();
	const char *core = NULL;
	if (sift_cpu_has_avx512())
		core = "SkylakeX";
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		core = __builtin_cpu_is("amd") ? "Zen" : "Haswell";
	if (!core)
		return;
	setenv("OPENBLAS_CORETYPE", core, 1);
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
	unsetenv("OPENBLAS_CORETYPE");	/* not handed down to children */
}


int sift_cpu_split_threads(void)
{
	if (omp_in_parallel())
		return 1;
	/* OpenBLAS splits a call by its own thread count, so it runs on
	 * one: the threads are ours, and share out fixed tiles */
	if (openblas_get_num_threads() != 1)
		openblas_set_num_threads(1);
	return omp_get_max_threads();
}

/* the clone the resolver of a HOT function picks, in target_clones' order */
static const char *hot_clone(void)
{
#ifdef SIFT_HOT_CLONES
	__builtin_cpu_init();
#ifndef SIFT_AVX2_ONLY
	if (__builtin_cpu_supports("x86-64-v4"))
		return "x86-64-v4";
#endif
	if (__builtin_cpu_supports("avx2"))
		return "avx2";
	return "default";
#else
	return "none";
#endif
}

static const char *describe_fp32(void)
{
	/* built at each call: the library may be chosen again (tests) */
	static char buf[256];
	snprintf(buf, sizeof buf, "%s; core %s; clone %s%s%s",
		 openblas_get_config(), openblas_get_corename(),
		 hot_clone(), strncmp(sift_cpu_gemm_name(), "OpenBLAS", 8) ? "; gemm " : "",
		 strncmp(sift_cpu_gemm_name(), "OpenBLAS", 8) ? sift_cpu_gemm_name() : "");
	return buf;
}

const char *sift_cpu_describe(void)
{
	static char buf16[320];
	if (!sift_cpu_bf16_on())
		return describe_fp32();
	/* --precision bf16: the library of its products too */
	if (!buf16[0])
		snprintf(buf16, sizeof buf16, "%s; bf16 %s", describe_fp32(), sift_cpu_bf16_name());
	return buf16;
}
