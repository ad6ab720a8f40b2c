/* backend.c: the CPU op table, the lookup of backends by name, op names. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "adamw.h"	/* defines: sift_cpu_sumsq, sift_cpu_scale */
#include "ops_bwd.h"	/* defines: sift_cpu_*_backward, sift_cpu_adamw_update */

static void *cpu_alloc(size_t bytes)
{
	return calloc(1, bytes ? bytes : 1);
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

struct sift_backend sift_backend_cpu = {
	.name = "cpu",
	.supports_op = cpu_supports_op,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_copy,
	.download = cpu_copy,
	.memset0 = cpu_memset0,
	.sync = cpu_sync,
	/* forward: lib/ops_cpu.c */
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
	/* backward and AdamW: lib/ops_bwd.c */
	.embed_backward = sift_cpu_embed_backward,
	.matmul_backward = sift_cpu_matmul_backward,
	.layernorm_backward = sift_cpu_layernorm_backward,
	.gelu_backward = sift_cpu_gelu_backward,
	.tanh_backward = sift_cpu_tanh_backward,
	.attention_backward = sift_cpu_attention_backward,
	.scatter_rows_backward = sift_cpu_scatter_rows_backward,
	.crossentropy_backward = sift_cpu_crossentropy_backward,
	.adamw_update = sift_cpu_adamw_update,
	/* gradient norm and clipping: lib/adamw.c */
	.sumsq = sift_cpu_sumsq,
	.scale = sift_cpu_scale,
	/* lib/ops_bwd.c */
	.residual_layernorm_backward = sift_cpu_residual_layernorm_backward,
};

/* a slot of the table by op, for supports_op */
static const void *slot(const struct sift_backend *be, enum sift_op op)
{
	switch (op) {
	case SIFT_OP_EMBED: return (const void *)be->embed_forward;
	case SIFT_OP_MATMUL: return (const void *)be->matmul_forward;
	case SIFT_OP_LAYERNORM: return (const void *)be->layernorm_forward;
	case SIFT_OP_GELU: return (const void *)be->gelu_forward;
	case SIFT_OP_TANH: return (const void *)be->tanh_forward;
	case SIFT_OP_ATTENTION: return (const void *)be->attention_forward;
	case SIFT_OP_RESIDUAL: return (const void *)be->residual_forward;
	case SIFT_OP_DROPOUT: return (const void *)be->dropout_forward;
	case SIFT_OP_GATHER_ROWS: return (const void *)be->gather_rows_forward;
	case SIFT_OP_SOFTMAX: return (const void *)be->softmax_forward;
	case SIFT_OP_CROSSENTROPY: return (const void *)be->crossentropy_forward;
	case SIFT_OP_RESIDUAL_LAYERNORM: return (const void *)be->residual_layernorm_forward;
	case SIFT_OP_EMBED_BWD: return (const void *)be->embed_backward;
	case SIFT_OP_MATMUL_BWD: return (const void *)be->matmul_backward;
	case SIFT_OP_LAYERNORM_BWD: return (const void *)be->layernorm_backward;
	case SIFT_OP_GELU_BWD: return (const void *)be->gelu_backward;
	case SIFT_OP_TANH_BWD: return (const void *)be->tanh_backward;
	case SIFT_OP_ATTENTION_BWD: return (const void *)be->attention_backward;
	case SIFT_OP_SCATTER_ROWS_BWD: return (const void *)be->scatter_rows_backward;
	case SIFT_OP_CROSSENTROPY_BWD: return (const void *)be->crossentropy_backward;
	case SIFT_OP_ADAMW: return (const void *)be->adamw_update;
	case SIFT_OP_SUMSQ: return (const void *)be->sumsq;
	case SIFT_OP_SCALE: return (const void *)be->scale;
	case SIFT_OP_RESIDUAL_LAYERNORM_BWD: return (const void *)be->residual_layernorm_backward;
	case SIFT_OP_COUNT: break;
	}
	return NULL;
}

static int cpu_supports_op(enum sift_op op)
{
	return slot(&sift_backend_cpu, op) != NULL;
}

const char *sift_op_name(enum sift_op op)
{
	static const char *const names[SIFT_OP_COUNT] = {
		"embed_forward", "matmul_forward", "layernorm_forward",
		"gelu_forward", "tanh_forward", "attention_forward",
		"residual_forward", "dropout_forward", "gather_rows_forward",
		"softmax_forward", "crossentropy_forward",
		"residual_layernorm_forward",
		"embed_backward", "matmul_backward", "layernorm_backward",
		"gelu_backward", "tanh_backward", "attention_backward",
		"scatter_rows_backward", "crossentropy_backward",
		"adamw_update", "sumsq", "scale",
		"residual_layernorm_backward",
	};
	return (unsigned)op < SIFT_OP_COUNT ? names[op] : "unknown";
}

/* the CUDA backend: kernels/backend_cuda.h declares (extern "C")
 * struct sift_backend sift_backend_cuda, defined in kernels/; until that
 * header exists the CUDA table is not linked in */
#if defined(SIFT_CUDA) && defined(__has_include)
#if __has_include("../kernels/backend_cuda.h")
#include "../kernels/backend_cuda.h"
#define SIFT_HAVE_CUDA_TABLE 1
#endif
#endif

struct sift_backend *sift_backend_get(const char *name)
{
	if (strcmp(name, "cpu") == 0)
		return &sift_backend_cpu;
#ifdef SIFT_HAVE_CUDA_TABLE
	if (strcmp(name, "cuda") == 0)
		return &sift_backend_cuda;
#endif
	return NULL;
}
