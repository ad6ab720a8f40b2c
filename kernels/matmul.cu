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
	       int ldc, long long sc, int batch)
{
	struct sift_cuda_ctx *x = sift_cuda_ctx();
	const void *a = A, *b = B;
	cudaDataType_t t = CUDA_R_32F;
	if (x->bf16) {
		// bf16 tensor cores: inputs rounded to bf16, fp32 accumulation
		// and fp32 output (torch.autocast does the same rounding)
		a = cuda_to_bf16(SCR_A16, A, span(lda, ta == CUBLAS_OP_N ? k : m, sa, batch));
		b = cuda_to_bf16(SCR_B16, B, span(ldb, tb == CUBLAS_OP_N ? n : k, sb, batch));
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

// out = inp @ weight^T + bias through cuBLASLt's BIAS epilogue: the bias
// rides on the GEMM's store instead of a second pass over out.
// Returns 0 when cuBLASLt has no algorithm for this shape and type.
static int lt_linear_bias(float *out, const float *inp, const float *weight,
			  const float *bias, int N, int C, int OC)
{
	struct sift_cuda_ctx *x = sift_cuda_ctx();
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulPreference_t pref;
	cublasLtMatmulHeuristicResult_t h;
	cublasOperation_t opT = CUBLAS_OP_T, opN = CUBLAS_OP_N;
	cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
	int found = 0;
	float one = 1.0f, zero = 0.0f;
	const void *a = weight, *b = inp;
	cudaDataType_t t = CUDA_R_32F;
	if (x->bf16) {
		a = cuda_to_bf16(SCR_A16, weight, (size_t)OC * C);
		b = cuda_to_bf16(SCR_B16, inp, (size_t)N * C);
		t = CUDA_R_16BF;
	}

	// column-major view: out^T (OC,N) = weight (C,OC)^T . inp^T (C,N)
	CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &opT, sizeof opT));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &opN, sizeof opN));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, t, C, OC, C));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, t, C, N, C));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, OC, N, OC));
	CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &x->workspace_bytes,
		sizeof x->workspace_bytes));
	uint32_t al[3] = { align_of(a), align_of(b), align_of(out) };
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al[0], sizeof al[0]));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al[1], sizeof al[1]));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al[2], sizeof al[2]));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al[2], sizeof al[2]));
	if (cublasLtMatmulAlgoGetHeuristic(x->lt, op, la, lb, lc, lc, pref, 1, &h,
					   &found) != CUBLAS_STATUS_SUCCESS)
		found = 0;
	// a refusal here is not fatal: the caller falls back to cuBLAS
	if (found && cublasLtMatmul(x->lt, op, &one, a, la, b, lb, &zero, out, lc,
				    out, lc, &h.algo, x->workspace,
				    x->workspace_bytes, 0) != CUBLAS_STATUS_SUCCESS)
		found = 0;
	cublasLtMatmulPreferenceDestroy(pref);
	cublasLtMatrixLayoutDestroy(lc);
	cublasLtMatrixLayoutDestroy(lb);
	cublasLtMatrixLayoutDestroy(la);
	cublasLtMatmulDescDestroy(op);
	return found;
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
		  0, 0.0f, out, OC, 0, 1);
	if (bias) {
		long n = (long)N * OC;
		add_bias_kernel<<<sift_ceil_div(n, 256), 256>>>(out, bias, N, OC);
		CUDA_LAUNCHED();
	}
}

// dbias (OC) += column sums of dout (N,OC). Block (32,32): 32 columns per
// block, thread row ty sums rows ty, ty+32, ... in order, then the 32
// partial sums are added in a fixed order: the same bits every run.
__global__ void bias_grad_kernel(float *dbias, const float *dout, int N, int OC)
{
	__shared__ float part[32][33];
	int c = blockIdx.x * 32 + threadIdx.x;
	float s = 0.0f;
	if (c < OC)
		for (int r = threadIdx.y; r < N; r += 32)
			s += dout[(long)r * OC + c];
	part[threadIdx.y][threadIdx.x] = s;
	__syncthreads();
	if (threadIdx.y == 0 && c < OC) {
		float t = 0.0f;
		for (int k = 0; k < 32; k++)
			t += part[k][threadIdx.x];
		dbias[c] += t;
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
			  dout, OC, 0, 0.0f, dinp, C, 0, 1);
	// dweight (OC,C) += dout^T @ inp: dweight^T (C,OC) += inp^T . dout
	if (dweight)
		cuda_gemm(CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, 1.0f, inp, C, 0,
			  dout, OC, 0, 1.0f, dweight, C, 0, 1);
	if (dbias) {
		bias_grad_kernel<<<sift_ceil_div(OC, 32), dim3(32, 32)>>>(dbias, dout, N, OC);
		CUDA_LAUNCHED();
	}
}
