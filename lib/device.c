/* device.c: resolves --device auto|cpu|cuda and --precision fp32|bf16|int8. */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "cpu_bf16.h"	/* defines: sift_cpu_bf16_check, sift_cpu_bf16_set */
#include "quant.h"	/* defines: sift_q8_available */

#ifdef SIFT_CUDA
/* kernels/device.cu, kernels/ctx.cu */
int sift_cuda_device_count(char *why, size_t n);
void sift_cuda_set_precision(int bf16);
#endif

int sift_device_parse(const char *s, enum sift_device_req *req)
{
	if (strcmp(s, "auto") == 0)
		*req = SIFT_DEVICE_AUTO;
	else if (strcmp(s, "cpu") == 0)
		*req = SIFT_DEVICE_CPU;
	else if (strcmp(s, "cuda") == 0)
		*req = SIFT_DEVICE_CUDA;
	else
		return -1;
	return 0;
}

int sift_precision_parse(const char *s, enum sift_precision *p)
{
	if (strcmp(s, "fp32") == 0)
		*p = SIFT_PREC_FP32;
	else if (strcmp(s, "bf16") == 0)
		*p = SIFT_PREC_BF16;
	else if (strcmp(s, "int8") == 0)
		*p = SIFT_PREC_INT8;
	else
		return -1;
	return 0;
}

const char *sift_device_name(enum sift_device_req device)
{
	return device == SIFT_DEVICE_CUDA ? "cuda" : device == SIFT_DEVICE_CPU ? "cpu" : "auto";
}

const char *sift_precision_name(enum sift_precision p)
{
	return p == SIFT_PREC_BF16 ? "bf16" : p == SIFT_PREC_INT8 ? "int8" : "fp32";
}

int sift_device_have_cuda(void)
{
#ifdef SIFT_CUDA
	return 1;
#else
	return 0;
#endif
}

int sift_device_cuda_count(char *why, size_t n)
{
#ifdef SIFT_CUDA
	return sift_cuda_device_count(why, n);
#else
	if (why && n)
		snprintf(why, n, "not built with CUDA support");
	return 0;
#endif
}

int sift_device_resolve(enum sift_device_req req, enum sift_device_req *device,
			char *err, size_t errlen)
{
	char why[160] = "";
	int n;

	if (req == SIFT_DEVICE_CPU) {
		*device = SIFT_DEVICE_CPU;
		return 0;
	}
	if (!sift_device_have_cuda()) {
		if (req == SIFT_DEVICE_AUTO) {
			*device = SIFT_DEVICE_CPU;
			return 0;
		}
		snprintf(err, errlen, "cuda: not built with CUDA support");
		return -1;
	}
	n = sift_device_cuda_count(why, sizeof why);
	if (n > 0) {
		*device = SIFT_DEVICE_CUDA;
		return 0;
	}
	if (req == SIFT_DEVICE_AUTO) {
		*device = SIFT_DEVICE_CPU;
		return 0;
	}
	snprintf(err, errlen, "cuda: no GPU found (%s)", why);
	return -1;
}

int sift_device_set_precision(enum sift_device_req device, enum sift_precision p,
			      char *err, size_t errlen)
{
	if (p == SIFT_PREC_INT8) {
		if (device == SIFT_DEVICE_CUDA) {
			snprintf(err, errlen, "int8 precision needs the cpu device");
			return -1;
		}
		if (!sift_q8_available()) {
			snprintf(err, errlen, "int8 precision needs a build with oneDNN (libdnnl-dev)");
			return -1;
		}
		return 0;
	}
	if (device != SIFT_DEVICE_CUDA) {
		if (p == SIFT_PREC_BF16 && sift_cpu_bf16_check(err, errlen))
			return -1;
		sift_cpu_bf16_set(p == SIFT_PREC_BF16);
		return 0;
	}
#ifdef SIFT_CUDA
	sift_cuda_set_precision(p == SIFT_PREC_BF16);
	return 0;
#else
	snprintf(err, errlen, "cuda: not built with CUDA support");
	return -1;
#endif
}
