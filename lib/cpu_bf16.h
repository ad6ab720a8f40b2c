/* cpu_bf16.h: the CPU backend's bf16 products (--precision bf16 on the cpu). */
#ifndef SIFT_CPU_BF16_H
#define SIFT_CPU_BF16_H

#include <stddef.h>
#include <stdint.h>

/*
 * The numerical contract of the CUDA backend's bf16 mode: the two inputs
 * of every matmul product (forward, dinp, dweight) rounded to bf16
 * (round to nearest even), the sums in fp32, the output fp32; everything
 * else (activations in memory, softmax, LayerNorm, the loss, attention,
 * the master weights, AdamW's moments) stays fp32.  The products go
 * through oneDNN's matmul primitive in the row tiles of lib/cpu_matmul.c,
 * one thread per tile, so the bits depend on the row count alone and not
 * on the thread count, as in fp32.
 */

/* 0 when this build and CPU can run the bf16 products, else -1 with the
 * reason in err: "bf16 precision on the cpu needs oneDNN (a build with
 * libdnnl-dev)", or "bf16 precision on the cpu needs AVX512-BF16 or AMX
 * (oneDNN's ISA here: avx2)"; oneDNN's ISA honours ONEDNN_MAX_CPU_ISA */
int sift_cpu_bf16_check(char *err, size_t errlen);
/* the cpu's products in bf16 (on = 1) or fp32 (0, the default); call
 * before any op, after sift_cpu_bf16_check returned 0 */
void sift_cpu_bf16_set(int on);
int sift_cpu_bf16_on(void);
/* "oneDNN 2.6.3 matmul" (or "none" without oneDNN): for describe() */
const char *sift_cpu_bf16_name(void);
/* y = x rounded to bf16 (nearest even; NaN stays NaN), n values */
void sift_cpu_bf16_round(uint16_t *y, const float *x, size_t n);
/* w (n floats), a weight that will not change until sift_cpu_bf16_thaw:
 * its bf16 copy is made now and used by every product that reads w
 * (found by address and size); 0, or -1 when out of memory */
int sift_cpu_bf16_freeze(const float *w, size_t n);
/* forgets every frozen weight, before they change or are freed */
void sift_cpu_bf16_thaw(void);
/* bf16 back to float (exact) */
float sift_cpu_bf16_float(uint16_t h);

/*
 * oneDNN's matmul primitive on one tile, on the calling thread (a build
 * with oneDNN only): c (m,n) = a (m,k) @ b (k,n), plus c when acc.  a is
 * (m,k) row-major, or when at > 0 the transpose of a row-major matrix
 * with rows of at elements; b is (k,n) row-major, or (n,k) when bt.
 * SIFT_MM_BF16: a and b bf16, c fp32.  SIFT_MM_U8S8: a u8, b s8, c int32,
 * the exact integer sums (int8 inference, lib/quant.c).  The primitive
 * of each shape is made once per thread (AMX's kernels where the CPU has
 * them), and the call runs on that one thread.
 */
enum sift_mm_kind { SIFT_MM_BF16, SIFT_MM_U8S8, SIFT_MM_F32P, SIFT_MM_U8S8P, SIFT_MM_F32 };
void sift_cpu_dnnl_tile(enum sift_mm_kind kind, int m, int n, int k, const void *a,
			int at, const void *b, int bt, int acc, void *c);

/*
 * fp32 inference on packed weights (a build with oneDNN; the no-op
 * stubs without).  sift_cpu_f32_pack reorders w (OC,C), a weight that
 * will not change until sift_cpu_f32_unpack, once into the layout of
 * oneDNN's fp32 matmul primitive; 0, or -1 when out of memory.
 * sift_cpu_f32_packed finds it by address and shape (NULL: not packed).
 * sift_cpu_f32_packed_tile runs one tile on the calling thread:
 * c (m,OC) = a (m,C) @ w^T + bias (NULL: none), from the packed copy;
 * 0, or -1 (nothing written) where this tile's primitive wants another
 * layout, when the caller runs the tile as before.  The packed product
 * sums in its own order: its bits are not the sgemm tile's, but they
 * depend on the tile's shape alone, as those do.
 */
struct sift_packed;
int sift_cpu_f32_pack(const float *w, int OC, int C);
void sift_cpu_f32_unpack(void);
const struct sift_packed *sift_cpu_f32_packed(const float *w, int OC, int C);
int sift_cpu_f32_packed_tile(const struct sift_packed *pk, int m, const float *a,
			     const float *bias, float *c);

/*
 * int8 weights packed the same way, owned by their quantised layer
 * (lib/quant.c): sift_cpu_s8_pack copies w (OC,C) s8 into the u8s8
 * primitive's layout (NULL when out of memory, or in a build without
 * oneDNN); sift_cpu_s8_packed_tile runs one tile, c (m,OC) int32 =
 * a (m,C) u8 @ w^T, the same exact sums as SIFT_MM_U8S8 on the plain
 * weights; 0, or -1 (nothing written) where the tile's primitive wants
 * another layout.
 */
struct sift_packed *sift_cpu_s8_pack(const int8_t *w, int OC, int C);
int sift_cpu_s8_packed_tile(const struct sift_packed *pk, int m, const uint8_t *a, int32_t *c);
void sift_cpu_packed_free(struct sift_packed *pk);
/* c (m,n) = a (m,k) @ w^T + bias (NULL: none), w (n,k) fp32 as it is */
void sift_cpu_f32_tile(int m, int n, int k, const float *a, const float *w,
		       const float *bias, float *c);

/* matmul_forward and the two products of matmul_backward (dinp, NULL:
 * not wanted; dweight +=, NULL: not wanted) with bf16 inputs; shapes and
 * rules of the slots in lib/backend.h.  dbias is not here: it is a sum
 * of fp32 rows (lib/cpu_matmul.c) */
void sift_cpu_bf16_matmul_forward(float *out, const float *inp,
				  const float *weight, const float *bias,
				  int N, int C, int OC);
void sift_cpu_bf16_matmul_backward(float *dinp, float *dweight,
				   const float *dout, const float *inp,
				   const float *weight, int N, int C, int OC);

#endif
