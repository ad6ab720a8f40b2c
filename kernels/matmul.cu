// matmul.cu: torch.nn.Linear forward and backward through cuBLASLt/cuBLAS, with a bias epilogue and a deterministic bias gradient.
#include "ctx.cuh"

// elements an operand spans: the last batch entry's start plus one matrix
static size_t span(int ld, int cols, long long stride, int batch)
{
	return (size_t)stride * (size_t)(batch - 1) + (size_t)ld * (size_t)cols;
}

void cuda_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
	       float alpha, const float *A, int lda, long long sa,
	       const float *B, int ldb, long long sb, float beta, float *Cm,
	       int ldc, long long sc, int batch, int a_weight)
{
	struct sift_cuda_ctx *x = sift_cuda_ctx();
	const void *a = A, *b = B;
	cudaDataType_t t = CUDA_R_32F;
	if (x->bf16) {
		// bf16 tensor cores: inputs rounded to bf16, fp32 accumulation
		// and fp32 output (torch.autocast does the same rounding); a
		// weight comes from its mirror, already rounded
		size_t na = span(lda, ta == CUBLAS_OP_N ? k : m, sa, batch);
		size_t nb = span(ldb, tb == CUBLAS_OP_N ? n : k, sb, batch);
		a = a_weight ? cuda_weight_bf16(SCR_A16, A, na) : cuda_to_bf16(SCR_A16, A, na);
		b = cuda_to_bf16(SCR_B16, B, nb);
		t = CUDA_R_16BF;
	}
	if (batch == 1)
		CUBLAS_CHECK(cublasGemmEx(x->blas, ta, tb, m, n, k, &alpha,
					  a, t, lda, b, t, ldb, &beta, Cm,
					  CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F,
					  CUBLAS_GEMM_DEFAULT));
	else
		CUBLAS_CHECK(cublasGemmStridedBatchedEx(x->blas, ta, tb, m, n, k,
					  &alpha, a, t, lda, sa, b, t, ldb, sb,
					  &beta, Cm, CUDA_R_32F, ldc, sc, batch,
					  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

// out (N,OC) += bias (OC)
__global__ void add_bias_kernel(float *out, const float *bias, int N, int OC)
{
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < (long)N * OC)
		out[i] += bias[i % OC];
}

// the alignment of p in bytes, up to 256 (cuBLASLt's heuristic assumes 256
// unless told otherwise; tensors inside one parameter buffer are less)
static uint32_t align_of(const void *p)
{
	uint32_t a = 256;
	while (a > 4 && (uintptr_t)p % a)
		a >>= 1;
	return a;
}

// cuBLASLt plans (descriptors, layouts and the heuristic's algorithm) by
// shape, type and alignment: the heuristic is a host call of tens of
// microseconds, asked once per shape instead of once per product.  A
// batch stream of one shape (a benchmark, a fixed-length job) always
// hits; packed batches of varying row counts take a slot each, the
// least recently used slot going first.
#define LT_PLANS 32

struct lt_plan {
	int N, C, OC, bf16;
	uint32_t al[3];
	int found;		// 0: cuBLASLt has no algorithm, use cuBLAS
	unsigned long long used;
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulAlgo_t algo;
};

static struct lt_plan plans[LT_PLANS];
static int nplans;
static unsigned long long plan_clock;

static void plan_free(struct lt_plan *p)
{
	cublasLtMatrixLayoutDestroy(p->lc);
	cublasLtMatrixLayoutDestroy(p->lb);
	cublasLtMatrixLayoutDestroy(p->la);
	cublasLtMatmulDescDestroy(p->op);
}

static void plan_make(struct lt_plan *p, int N, int C, int OC, int bf16,
		      const uint32_t al[3])
{
	struct sift_cuda_ctx *x = sift_cuda_ctx();
	cublasOperation_t opT = CUBLAS_OP_T, opN = CUBLAS_OP_N;
	cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
	cublasLtMatmulPreference_t pref;
	cublasLtMatmulHeuristicResult_t h;
	cudaDataType_t t = bf16 ? CUDA_R_16BF : CUDA_R_32F;
	int found = 0;

	p->N = N, p->C = C, p->OC = OC, p->bf16 = bf16;
	for (int i = 0; i < 3; i++)
		p->al[i] = al[i];
	// column-major view: out^T (OC,N) = weight (C,OC)^T . inp^T (C,N)
	CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &opT, sizeof opT));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &opN, sizeof opN));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
	// the bias is the fp32 parameter (the default, D's type, said aloud)
	int32_t bt = CUDA_R_32F;
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->la, t, C, OC, C));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->lb, t, C, N, C));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->lc, CUDA_R_32F, OC, N, OC));
	CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &x->workspace_bytes,
		sizeof x->workspace_bytes));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al[0], sizeof al[0]));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al[1], sizeof al[1]));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al[2], sizeof al[2]));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al[2], sizeof al[2]));
	if (cublasLtMatmulAlgoGetHeuristic(x->lt, p->op, p->la, p->lb, p->lc, p->lc,
					   pref, 1, &h, &found) != CUBLAS_STATUS_SUCCESS)
		found = 0;
	cublasLtMatmulPreferenceDestroy(pref);
	p->found = found > 0;
	if (p->found)
		p->algo = h.algo;
}

static struct lt_plan *plan_get(int N, int C, int OC, int bf16, const uint32_t al[3])
{
	struct lt_plan *p = NULL;
	for (int i = 0; i < nplans; i++) {
		struct lt_plan *q = &plans[i];
		if (q->N == N && q->C == C && q->OC == OC && q->bf16 == bf16 &&
		    q->al[0] == al[0] && q->al[1] == al[1] && q->al[2] == al[2]) {
			p = q;
			break;
		}
	}
	if (!p) {
		if (nplans < LT_PLANS) {
			p = &plans[nplans++];
		} else {
			p = &plans[0];
			for (int i = 1; i < LT_PLANS; i++)
				if (plans[i].used < p->used)
					p = &plans[i];
			plan_free(p);
		}
		plan_make(p, N, C, OC, bf16, al);
	}
	p->used = ++plan_clock;
	return p;
}

// out = inp @ weight^T + bias through cuBLASLt's BIAS epilogue: the bias
// rides on the GEMM's store instead of a second pass over out.
// Returns 0 when cuBLASLt has no algorithm for this shape and type.
static int lt_linear_bias(float *out, const float *inp, const float *weight,
			  const float *bias, int N, int C, int OC)
{
	struct sift_cuda_ctx *x = sift_cuda_ctx();
	float one = 1.0f, zero = 0.0f;
	const void *a = weight, *b = inp;
	if (x->bf16) {
		a = cuda_weight_bf16(SCR_A16, weight, (size_t)OC * C);
		b = cuda_to_bf16(SCR_B16, inp, (size_t)N * C);
	}
	uint32_t al[3] = { align_of(a), align_of(b), align_of(out) };
	struct lt_plan *p = plan_get(N, C, OC, x->bf16, al);
	if (!p->found)
		return 0;
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
						    &bias, sizeof bias));
	// a refusal here is not fatal: the caller falls back to cuBLAS
	if (cublasLtMatmul(x->lt, p->op, &one, a, p->la, b, p->lb, &zero, out, p->lc,
			   out, p->lc, &p->algo, x->workspace, x->workspace_bytes,
			   0) != CUBLAS_STATUS_SUCCESS) {
		p->found = 0;
		return 0;
	}
	return 1;
}

void cuda_matmul_forward(float *out, const float *inp, const float *weight,
			 const float *bias, int N, int C, int OC)
{
	if (N == 0)
		return;
	// the epilogue reads the bias in vectors: only an aligned one goes there
	if (bias && (uintptr_t)bias % 16 == 0 &&
	    lt_linear_bias(out, inp, weight, bias, N, C, OC))
		return;
	// out^T (OC,N) = weight^T . inp^T in column-major terms
	cuda_gemm(CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, 1.0f, weight, C, 0, inp, C,
		  0, 0.0f, out, OC, 0, 1, 1);
	if (bias) {
		long n = (long)N * OC;
		add_bias_kernel<<<sift_ceil_div(n, 256), 256>>>(out, bias, N, OC);
		CUDA_LAUNCHED();
	}
}

// stage one of dbias (OC) += column sums of dout (N,OC): block (32,32)
// takes 32 columns of row chunk blockIdx.y; thread row ty sums rows ty,
// ty+32, ... of the chunk in order, then the 32 partial sums are added in
// a fixed order into out[chunk*OC + c]: the same bits every run
__global__ void bias_grad_part_kernel(float *out, const float *dout, int N, int OC,
				      int rows)
{
	__shared__ float part[32][33];
	int c = blockIdx.x * 32 + threadIdx.x;
	int r0 = blockIdx.y * rows, r1 = min(N, r0 + rows);
	float s = 0.0f;
	if (c < OC)
		for (int r = r0 + threadIdx.y; r < r1; r += 32)
			s += dout[(long)r * OC + c];
	part[threadIdx.y][threadIdx.x] = s;
	__syncthreads();
	if (threadIdx.y == 0 && c < OC) {
		float t = 0.0f;
		for (int k = 0; k < 32; k++)
			t += part[k][threadIdx.x];
		out[(size_t)blockIdx.y * OC + c] = t;
	}
}

void cuda_matmul_backward(float *dinp, float *dweight, float *dbias,
			  const float *dout, const float *inp,
			  const float *weight, int N, int C, int OC)
{
	if (N == 0)
		return;
	// dinp (N,C) = dout (N,OC) @ weight (OC,C): dinp^T = weight^T . dout^T
	if (dinp)
		cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC, 1.0f, weight, C, 0,
			  dout, OC, 0, 0.0f, dinp, C, 0, 1, 1);
	// dweight (OC,C) += dout^T @ inp: dweight^T (C,OC) += inp^T . dout
	if (dweight)
		cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, 1.0f, inp, C, 0,
			  dout, OC, 0, 1.0f, dweight, C, 0, 1, 0);
	if (dbias) {
		int k = cuda_colsum_chunks(N), rows = sift_ceil_div(N, k);
		float *part = (float *)sift_cuda_scratch(SCR_COLSUM, (size_t)k * OC * sizeof(float));
		bias_grad_part_kernel<<<dim3(sift_ceil_div(OC, 32), k), dim3(32, 32)>>>(part,
			dout, N, OC, rows);
		CUDA_LAUNCHED();
		cuda_colsum_finish(dbias, part, k, OC);
	}
}
