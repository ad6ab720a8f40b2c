// ctx.cuh: the CUDA backend's process-wide state (cuBLAS handles, workspace, scratch, precision) and its kernel launchers.
#ifndef SIFT_KERNELS_CTX_CUH
#define SIFT_KERNELS_CTX_CUH

#include <stddef.h>
#include <stdint.h>
#include <cublas_v2.h>
#include <cublasLt.h>

#include "common.cuh"

/*
 * cuBLAS and cuBLASLt are opened (dlopen) when the backend first calls
 * them, not linked: linked, their libraries cost every sift program,
 * GPU or not, about 0.1 s and 25,000 page faults at start.  Each call
 * below goes through a pointer looked up once (sift_cublas_sym, which
 * ends the program with a device error when a library or function is
 * missing); the signatures are the headers' own.  The CPU emulation
 * (tests/emu) defines these functions itself.
 */
#ifndef SIFT_CUDA_EMU_H
void *sift_cublas_sym(const char *name);
#define SIFT_STR_(x) #x
#define SIFT_STR(x) SIFT_STR_(x)
#define SIFT_CUBLAS(fn) \
	([]() { static decltype(&fn) p_ = (decltype(&fn))sift_cublas_sym(SIFT_STR(fn)); return p_; }())
#undef cublasCreate
#undef cublasSetWorkspace
#define cublasCreate(...) SIFT_CUBLAS(cublasCreate_v2)(__VA_ARGS__)
#define cublasSetWorkspace(...) SIFT_CUBLAS(cublasSetWorkspace_v2)(__VA_ARGS__)
#define cublasSetMathMode(...) SIFT_CUBLAS(cublasSetMathMode)(__VA_ARGS__)
#define cublasSetAtomicsMode(...) SIFT_CUBLAS(cublasSetAtomicsMode)(__VA_ARGS__)
#define cublasGetStatusString(...) SIFT_CUBLAS(cublasGetStatusString)(__VA_ARGS__)
/* the two products have C++ overloads (a cudaDataType compute type):
 * the C functions' types pick theirs, and a wrong one does not compile */
#define SIFT_CUBLAS_AS(T, fn) \
	([]() { (void)sizeof(static_cast<T>(&fn)); /* unevaluated: no link */ \
		static T p_ = (T)sift_cublas_sym(SIFT_STR(fn)); return p_; }())
typedef cublasStatus_t (*sift_gemm_ex_t)(cublasHandle_t, cublasOperation_t, cublasOperation_t,
	int, int, int, const void *, const void *, cudaDataType, int, const void *, cudaDataType,
	int, const void *, void *, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
typedef cublasStatus_t (*sift_gemm_sb_ex_t)(cublasHandle_t, cublasOperation_t, cublasOperation_t,
	int, int, int, const void *, const void *, cudaDataType, int, long long, const void *,
	cudaDataType, int, long long, const void *, void *, cudaDataType, int, long long, int,
	cublasComputeType_t, cublasGemmAlgo_t);
#define cublasGemmEx(...) SIFT_CUBLAS_AS(sift_gemm_ex_t, cublasGemmEx)(__VA_ARGS__)
#define cublasGemmStridedBatchedEx(...) \
	SIFT_CUBLAS_AS(sift_gemm_sb_ex_t, cublasGemmStridedBatchedEx)(__VA_ARGS__)
#define cublasLtCreate(...) SIFT_CUBLAS(cublasLtCreate)(__VA_ARGS__)
#define cublasLtMatmul(...) SIFT_CUBLAS(cublasLtMatmul)(__VA_ARGS__)
#define cublasLtMatmulAlgoGetHeuristic(...) SIFT_CUBLAS(cublasLtMatmulAlgoGetHeuristic)(__VA_ARGS__)
#define cublasLtMatmulDescCreate(...) SIFT_CUBLAS(cublasLtMatmulDescCreate)(__VA_ARGS__)
#define cublasLtMatmulDescDestroy(...) SIFT_CUBLAS(cublasLtMatmulDescDestroy)(__VA_ARGS__)
#define cublasLtMatmulDescSetAttribute(...) SIFT_CUBLAS(cublasLtMatmulDescSetAttribute)(__VA_ARGS__)
#define cublasLtMatmulPreferenceCreate(...) SIFT_CUBLAS(cublasLtMatmulPreferenceCreate)(__VA_ARGS__)
#define cublasLtMatmulPreferenceDestroy(...) SIFT_CUBLAS(cublasLtMatmulPreferenceDestroy)(__VA_ARGS__)
#define cublasLtMatmulPreferenceSetAttribute(...) SIFT_CUBLAS(cublasLtMatmulPreferenceSetAttribute)(__VA_ARGS__)
#define cublasLtMatrixLayoutCreate(...) SIFT_CUBLAS(cublasLtMatrixLayoutCreate)(__VA_ARGS__)
#define cublasLtMatrixLayoutDestroy(...) SIFT_CUBLAS(cublasLtMatrixLayoutDestroy)(__VA_ARGS__)
#endif

#define CUBLAS_CHECK(call) do { \
	cublasStatus_t s_ = (call); \
	if (s_ != CUBLAS_STATUS_SUCCESS) sift_cuda_fail(cublasGetStatusString(s_), __FILE__, __LINE__); \
} while (0)

struct sift_cuda_ctx {
	int ready;
	int bf16;		// GEMM inputs rounded to bf16, fp32 accumulation and output
	int nsm;		// multiprocessors
	cublasHandle_t blas;
	cublasLtHandle_t lt;
	void *workspace;	// cuBLAS / cuBLASLt workspace
	size_t workspace_bytes;
};

// initialises on first use (device 0); every launcher calls it
struct sift_cuda_ctx *sift_cuda_ctx(void);

// scratch buffers that grow on demand and are kept: one per slot
enum {
	SCR_A16, SCR_B16,	// bf16 copies of GEMM inputs
	SCR_NORM,		// gradient-norm partial sums
	SCR_COLSUM,		// column-sum partials (bias and LayerNorm gradients)
	SCR_COUNT
};
void *sift_cuda_scratch(int slot, size_t bytes);

// ---- launchers, one family per kernels/<op>.cu; shapes as in lib/backend.h ----

// embed.cu
void cuda_embed_forward(float *out, const int32_t *ids, const int32_t *type_ids,
			const int32_t *pos, const float *wte, const float *wpe,
			const float *wtt, int N, int C);
void cuda_embed_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
			 const int32_t *ids, const int32_t *type_ids,
			 const int32_t *pos, int N, int C);
// matmul.cu
void cuda_matmul_forward(float *out, const float *inp, const float *weight,
			 const float *bias, int N, int C, int OC);
void cuda_matmul_backward(float *dinp, float *dweight, float *dbias,
			  const float *dout, const float *inp,
			  const float *weight, int N, int C, int OC);
// column-major GEMM: C(m,n) = alpha * op(A) op(B) + beta * C, batched
// with strides; in bf16 mode A and B are rounded to bf16 first, A
// through its mirror when a_weight says it is a parameter
void cuda_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
	       float alpha, const float *A, int lda, long long sa,
	       const float *B, int ldb, long long sb, float beta, float *Cm,
	       int ldc, long long sc, int batch, int a_weight);
// layernorm.cu
void cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
			    const float *weight, const float *bias, int N, int C,
			    float eps);
void cuda_layernorm_backward(float *dinp, float *dweight, float *dbias,
			     const float *dout, const float *inp,
			     const float *weight, const float *mean,
			     const float *rstd, int N, int C);
void cuda_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
				     const float *a, const float *b, const float *weight,
				     const float *bias, int N, int C, float eps);
void cuda_residual_layernorm_backward(float *dinp, float *dweight, float *dbias,
				      float *da, const float *db, const float *inp,
				      const float *weight, const float *mean,
				      const float *rstd, int N, int C);
// elementwise.cu
void cuda_gelu_forward(float *out, const float *inp, size_t n);
void cuda_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
void cuda_tanh_forward(float *out, const float *inp, size_t n);
void cuda_tanh_backward(float *dinp, const float *out, const float *dout, size_t n);
void cuda_residual_forward(float *out, const float *a, const float *b, size_t n);
void cuda_dropout_forward(float *out, const float *inp, size_t n, float p,
			  uint64_t seed, uint64_t counter);
// attention.cu
void cuda_attention_forward(float *out, float *att, const float *qkv,
			    const int32_t *offs, int B, int T, int C, int NH,
			    float p, uint64_t seed);
void cuda_attention_backward(float *dqkv, float *datt, const float *dout,
			     const float *qkv, const float *att,
			     const int32_t *offs, int B, int T, int C, int NH,
			     float p, uint64_t seed);
// rows.cu
void cuda_gather_rows_forward(float *out, const float *inp, const int32_t *rows,
			      int M, int C);
void cuda_scatter_rows_backward(float *dinp, const float *dout,
				const int32_t *rows, int M, int C);
// crossentropy.cu
void cuda_softmax_forward(float *probs, const float *logits, int M, int L);
void cuda_crossentropy_forward(float *losses, const float *probs,
			       const int32_t *targets, int M, int L,
			       const float *weight, float eps);
void cuda_crossentropy_backward(float *dlogits, const float *probs,
				const int32_t *targets, int M, int L,
				const float *weight, float eps, float scale);
// adamw.cu
void cuda_adamw_update(float *params, const float *grads, float *m, float *v,
		       size_t n, float lr, float beta1, float beta2, float eps,
		       float weight_decay, int t, float gscale);
double cuda_sumsq(const float *x, size_t n);
void cuda_scale(float *x, size_t n, float s);

// bf16 copy of n floats (round to nearest even) in a scratch slot
__nv_bfloat16 *cuda_to_bf16(int slot, const float *x, size_t n);

// ---- column sums over rows (bias and LayerNorm gradients), ctx.cu ----
// In two stages, so that more than C/32 blocks share the rows: stage one
// sums row chunk k of 32 columns into part[k*C + c]; stage two adds the
// chunks in order.  The chunking is a function of N alone, so the bits
// are the same every run.
#define COLSUM_ROWS 256		// rows per chunk, at least
int cuda_colsum_chunks(int N);
// add[c] += sum over k < chunks of part[k*C + c]
void cuda_colsum_finish(float *add, const float *part, int chunks, int C);

// ---- bf16 mirrors of the parameters (ctx.cu) ----
// Every allocation of the backend is tracked.  The first time a matmul
// reads its weight from an allocation in bf16 mode, that allocation gets
// a bf16 mirror, cast once; AdamW keeps it current as it writes each
// parameter, and upload or memset0 into the allocation marks it stale
// (cast again at the next use).  So a step casts no weights at all,
// where it used to cast each one three times.  A weight is therefore
// written only through upload, memset0 and adamw_update (lib/backend.h).
void cuda_mem_track(void *p, size_t bytes);
void cuda_mem_untrack(void *p);
void cuda_mem_written(const void *p);
// the bf16 copy of weight[0 .. n-1]: the mirror where there can be one,
// else a fresh cast into scratch slot
const __nv_bfloat16 *cuda_weight_bf16(int slot, const float *w, size_t n);
// the valid mirror of p[0 .. n-1] for AdamW to write, or NULL
__nv_bfloat16 *cuda_mirror_of(const float *p, size_t n);

// the dropout hash of lib/rng.c, on the device: sift_hash_uniform(seed, i)
__device__ __forceinline__ uint64_t sift_dev_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

__device__ __forceinline__ float sift_dev_hash_uniform(uint64_t seed, uint64_t counter)
{
	uint64_t h = sift_dev_mix(sift_dev_mix(seed + 0x9e3779b97f4a7c15ULL) ^
				  (counter * 0xd1b54a32d192ed03ULL));
	return (float)(h >> 40) * (1.0f / 16777216.0f);
}

#endif
