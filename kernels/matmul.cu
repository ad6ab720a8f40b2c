// matmul.cu: torch.nn.Linear forward and backward through cuBLASLt/cuBLAS, with a bias epilogue and a deterministic bias gradient.
#include "ctx.cuh"

void cuda_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
	       float alpha, const float *A, int lda, long long sa,
	       const float *B, int ldb, long long sb, float beta, float *Cm,
	       int ldc, long long sc, int batch)
{
	struct sift_cuda_ctx *x = sift_cuda_ctx();
	cublasComputeType_t ct = sift_cuda_compute();
	if (batch == 1)
		CUBLAS_CHECK(cublasGemmEx(x->blas, ta, tb, m, n, k, &alpha,
					  A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb,
					  &beta, Cm, CUDA_R_32F, ldc, ct,
					  CUBLAS_GEMM_DEFAULT));
	else
		CUBLAS_CHECK(cublasGemmStridedBatchedEx(x->blas, ta, tb, m, n, k,
					  &alpha, A, CUDA_R_32F, lda, sa,
					  B, CUDA_R_32F, ldb, sb, &beta,
					  Cm, CUDA_R_32F, ldc, sc, batch, ct,
					  CUBLAS_GEMM_DEFAULT));
}

// out (N,OC) += bias (OC), one row per block.y stripe
__global__ void add_bias_kernel(float *out, const float *bias, int N, int OC)
{
	long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < (long)N * OC)
		out[i] += bias[i % OC];
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
	cublasOperation_t t = CUBLAS_OP_T, nt = CUBLAS_OP_N;
	cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
	int found = 0;
	float one = 1.0f, zero = 0.0f;

	// column-major view: out^T (OC,N) = weight (C,OC)^T . inp^T (C,N)
	CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, sift_cuda_compute(), CUDA_R_32F));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof nt));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
	CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, C, OC, C));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, C, N, C));
	CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, OC, N, OC));
	CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
	CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref,
		CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &x->workspace_bytes,
		sizeof x->workspace_bytes));
	if (cublasLtMatmulAlgoGetHeuristic(x->lt, op, la, lb, lc, lc, pref, 1, &h,
					   &found) != CUBLAS_STATUS_SUCCESS)
		found = 0;
	if (found)
		CUBLAS_CHECK(cublasLtMatmul(x->lt, op, &one, weight, la, inp, lb,
					    &zero, out, lc, out, lc, &h.algo,
					    x->workspace, x->workspace_bytes, 0));
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
	if (bias && lt_linear_bias(out, inp, weight, bias, N, C, OC))
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
