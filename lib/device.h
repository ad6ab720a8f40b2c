/* device.h: chooses where the ops run (--device) and in what precision (--precision). */
#ifndef SIFT_DEVICE_H
#define SIFT_DEVICE_H

#include <stddef.h>

/*
 * --device auto|cpu|cuda
 *   auto  the first GPU when the CUDA runtime sees one, else the CPU
 *   cpu   the CPU backend (OpenBLAS)
 *   cuda  the first GPU; an error when there is none or when this build
 *         has no CUDA support (built without nvcc)
 * --precision fp32|bf16|int8
 *   fp32  every tensor in float
 *   bf16  mixed precision: bf16 GEMM inputs, fp32 accumulation, fp32
 *         master weights and optimizer state; on the cpu through oneDNN,
 *         where it sees AVX512-BF16 or AMX (lib/cpu_bf16.h)
 *   int8  inference only (sift-fwd): dynamically quantised linear layers
 *         (lib/quant.h); cpu only, in a build with oneDNN
 */
enum sift_device_req { SIFT_DEVICE_AUTO = -1, SIFT_DEVICE_CPU = 0, SIFT_DEVICE_CUDA = 1 };
enum sift_precision { SIFT_PREC_FP32 = 0, SIFT_PREC_BF16 = 1, SIFT_PREC_INT8 = 2 };

/* "auto" "cpu" "cuda": 0 with *req set, -1 for anything else (misuse) */
int sift_device_parse(const char *s, enum sift_device_req *req);
/* "fp32" "bf16" "int8": 0 with *p set, -1 for anything else (misuse) */
int sift_precision_parse(const char *s, enum sift_precision *p);
/* "cpu" or "cuda" */
const char *sift_device_name(enum sift_device_req device);
const char *sift_precision_name(enum sift_precision p);

/*
 * Resolves a request to SIFT_DEVICE_CPU or SIFT_DEVICE_CUDA in *device.
 * Returns 0, or -1 with the reason in err (the caller prints it after
 * its program name and exits 1):
 *   "cuda: no GPU found (no CUDA-capable device is detected)"
 *   "cuda: not built with CUDA support"
 */
int sift_device_resolve(enum sift_device_req req, enum sift_device_req *device,
			char *err, size_t errlen);
/*
 * Applies --precision to the resolved device.  bf16 on the cpu device
 * without oneDNN or without AVX512-BF16/AMX is refused: -1 with the
 * reason of sift_cpu_bf16_check in err (a device error, exit 1); on cuda
 * without CUDA support, "cuda: not built with CUDA support"; int8 on the
 * cuda device with "int8 precision needs the cpu device", and in a build
 * without oneDNN with "int8 precision needs a build with oneDNN
 * (libdnnl-dev)" (device errors too).  int8 changes no op: the caller
 * quantises the model (sift_q8_model_quantize).  Call once,
 * after sift_device_resolve and before any op.
 */
int sift_device_set_precision(enum sift_device_req device, enum sift_precision p,
			      char *err, size_t errlen);
/* 1 when this build has the CUDA backend */
int sift_device_have_cuda(void);
/* GPUs the CUDA runtime sees (0 without CUDA support); why[] says why none */
int sift_device_cuda_count(char *why, size_t n);

#endif
