/* quant.h: int8 inference: dynamically quantised linear layers, as torch.ao.quantization.quantize_dynamic does for BERT. */
#ifndef SIFT_QUANT_H
#define SIFT_QUANT_H

#include <stdint.h>

struct bert_model;

/*
 * One linear layer, out = inp @ w^T + b, with w quantised once:
 * per output channel, symmetric, int8 (torch's per_channel_symmetric
 * qint8 observer): scale[o] = max_k |w[o,k]| / 127.5,
 * q[o,k] = clamp(nearbyint(w[o,k] * (1 / scale[o])), -128, 127).
 * At each call every row of inp is quantised on its own, asymmetric,
 * to 7 bits (torch's reduce_range on x86): its range [min(x,0), max(x,0)]
 * onto 0..127, scale sx = (max - min) / 127, zero point zp.  The product
 * of the integers is accumulated in int32 by oneDNN (its matmul
 * primitive, AMX where the CPU has it; one thread a tile of rows) and
 * dequantised:
 *   out[r,o] = sx[r] * scale[o] * (acc[r,o] - zp[r] * wsum[o]) + b[o]
 * with wsum[o] = sum_k q[o,k].  7-bit activations keep every pair of
 * u8 x s8 products inside int16 (127 * 128 * 2 < 32767), so the
 * vpmaddubsw of AVX2 and AVX-512 without VNNI never saturates: acc is
 * the exact integer sum on every CPU, whatever the threads or tiles.
 */
struct sift_packed;
struct sift_q8_linear {
	int C, OC;
	int8_t *w;		/* (OC,C) */
	struct sift_packed *wp;	/* w in oneDNN's layout, NULL: none */
	float *scale;		/* (OC) */
	int32_t *wsum;		/* (OC) */
};

/* the quantised linears of a model: for layer l, slot 4l + SIFT_Q8_QKV,
 * _ATTOUT, _FC, _FCPROJ; then 4 * layers + SIFT_Q8_POOL, _CLS, _MLM
 * (C == 0 where the model has no such layer) */
enum { SIFT_Q8_QKV, SIFT_Q8_ATTOUT, SIFT_Q8_FC, SIFT_Q8_FCPROJ };
enum { SIFT_Q8_POOL, SIFT_Q8_CLS, SIFT_Q8_MLM };
struct sift_q8_model {
	int n;
	struct sift_q8_linear *lin;	/* [n] */
};

/* 1 when this build can run int8 (it has oneDNN) */
int sift_q8_available(void);

/* quantises w (OC,C) into q; 0, or -1 when out of memory */
int sift_q8_quantize(struct sift_q8_linear *q, const float *w, int OC, int C);
void sift_q8_free(struct sift_q8_linear *q);

/* out (N,OC) = dequant(quant(inp) (N,C) @ q^T) + bias (OC, NULL: none);
 * the rows in tiles by their count alone (ops_cpu.h), over the OpenMP
 * threads outside a parallel region, on the calling thread inside one */
void sift_q8_linear_forward(const struct sift_q8_linear *q, float *out,
			    const float *inp, const float *bias, int N);

/* the encoder's products, the pooler, the classifier and the MLM
 * head's dense layer of m (host memory, the CPU backend) quantised
 * into m->q8; the MLM decoder, tied to the word embeddings, stays fp32.
 * 0, or -1 when out of memory */
int sift_q8_model_quantize(struct bert_model *m);
void sift_q8_model_free(struct sift_q8_model *q);

#endif
