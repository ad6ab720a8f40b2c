// rows.cu: gathers the [CLS] rows for the pooler and scatters their gradient back.
#include "ctx.cuh"

// out (M,C) = inp[rows] with inp (N,C), rows (M)
__global__ void gather_rows_kernel(float *out, const float *inp,
				   const int32_t *rows, int M, int C)
{
	int i = blockIdx.x;
	const float *src = inp + (size_t)rows[i] * C;
	for (int c = threadIdx.x; c < C; c += blockDim.x)
		out[(size_t)i * C + c] = src[c];
}

// dinp[rows[i]] += dout[i]: one thread per column walks i in order, so a
// row named twice adds up without a race and in a fixed order
__global__ void scatter_rows_kernel(float *dinp, const float *dout,
				    const int32_t *rows, int M, int C)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	if (c >= C)
		return;
	for (int i = 0; i < M; i++)
		dinp[(size_t)rows[i] * C + c] += dout[(size_t)i * C + c];
}

void cuda_gather_rows_forward(float *out, const float *inp, const int32_t *rows,
			      int M, int C)
{
	if (M <= 0)
		return;
	gather_rows_kernel<<<M, 256>>>(out, inp, rows, M, C);
	CUDA_LAUNCHED();
}

void cuda_scatter_rows_backward(float *dinp, const float *dout,
				const int32_t *rows, int M, int C)
{
	if (M <= 0)
		return;
	scatter_rows_kernel<<<sift_ceil_div(C, 128), 128>>>(dinp, dout, rows, M, C);
	CUDA_LAUNCHED();
}
