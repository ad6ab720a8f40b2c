/* backend_cuda.h: the CUDA instance of the op table, and the CUDA-only controls of lib/device.c. */
#ifndef SIFT_BACKEND_CUDA_H
#define SIFT_BACKEND_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h"

/* kernels/backend_cuda.cu; checked against sift_backend_cpu by
 * tests/unit/test-backend-ops.c */
extern struct sift_backend sift_backend_cuda;

/* GEMMs with bf16 inputs and fp32 accumulation (1) or plain fp32 (0) */
void sift_cuda_set_precision(int bf16);

/* sum of squares of x (n, device memory), in double, in a fixed order:
 * the gradient norm is sqrt of the sum over all gradient spans */
double sift_cuda_sumsq(const float *x, size_t n);
/* x (n, device memory) *= s: gradient clipping */
void sift_cuda_scale(float *x, size_t n, float s);

/* opens cuBLAS and cuBLASLt as the backend does when it first needs
 * them (kernels/ctx.cuh) and finds every function it calls there; 0, or
 * -1 with the reason in why ("cannot load libcublas.so.13: ...") */
int sift_cuda_blas_find(char *why, size_t n);

/* kernels/device.cu */
int sift_cuda_device_count(char *why, size_t n);
int sift_cuda_describe(int dev, char *buf, size_t n);

#ifdef __cplusplus
}
#endif

#endif
