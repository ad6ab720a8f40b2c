/* backend.c: the lookup of backends by name, the slot of an op, op names. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

const void *sift_backend_slot(const struct sift_backend *be, enum sift_op op)
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
	case SIFT_OP_ADAMW_ROWS: return (const void *)be->adamw_update_rows;
	case SIFT_OP_SUMSQ_ROWS: return (const void *)be->sumsq_rows;
	case SIFT_OP_COUNT: break;
	}
	return NULL;
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
		"residual_layernorm_backward", "adamw_update_rows", "sumsq_rows",
	};
	return (unsigned)op < SIFT_OP_COUNT ? names[op] : "unknown";
}

#ifdef SIFT_CUDA
#include "../kernels/backend_cuda.h"	/* defines: sift_backend_cuda */
#endif

struct sift_backend *sift_backend_get(const char *name)
{
	if (strcmp(name, "cpu") == 0)
		return &sift_backend_cpu;
#ifdef SIFT_CUDA
	if (strcmp(name, "cuda") == 0)
		return &sift_backend_cuda;
#endif
	return NULL;
}
