/* test-device.c: --device and --precision parsing and the resolution of auto and cuda on this machine. */
#include <string.h>

#include "check.h"
#include "backend.h"	/* defines: sift_backend_get */
#include "device.h"
#include "cpu_bf16.h"	/* defines: sift_cpu_bf16_check, sift_cpu_bf16_on */
#ifdef SIFT_CUDA
#include "../../kernels/backend_cuda.h"	/* defines: sift_cuda_blas_find */
#endif

static void test_parse(void)
{
	enum sift_device_req d = SIFT_DEVICE_CPU;
	enum sift_precision p = SIFT_PREC_BF16;

	CHECK_EQ_INT(sift_device_parse("auto", &d), 0);
	CHECK_EQ_INT(d, SIFT_DEVICE_AUTO);
	CHECK_EQ_INT(sift_device_parse("cpu", &d), 0);
	CHECK_EQ_INT(d, SIFT_DEVICE_CPU);
	CHECK_EQ_INT(sift_device_parse("cuda", &d), 0);
	CHECK_EQ_INT(d, SIFT_DEVICE_CUDA);
	CHECK_EQ_INT(sift_device_parse("gpu", &d), -1);
	CHECK_EQ_INT(sift_device_parse("CUDA", &d), -1);
	CHECK_EQ_INT(sift_device_parse("", &d), -1);
	CHECK_EQ_INT(sift_precision_parse("fp32", &p), 0);
	CHECK_EQ_INT(p, SIFT_PREC_FP32);
	CHECK_EQ_INT(sift_precision_parse("bf16", &p), 0);
	CHECK_EQ_INT(p, SIFT_PREC_BF16);
	CHECK_EQ_INT(sift_precision_parse("fp16", &p), -1);
	CHECK_STR(sift_device_name(SIFT_DEVICE_CUDA), "cuda");
	CHECK_STR(sift_device_name(SIFT_DEVICE_CPU), "cpu");
	CHECK_STR(sift_precision_name(SIFT_PREC_BF16), "bf16");
}

/* what auto and cuda resolve to depends on the machine; each case is
 * checked against what the CUDA runtime itself reports */
static void test_resolve(void)
{
	enum sift_device_req d = SIFT_DEVICE_AUTO;
	char err[256] = "", why[200] = "";
	int n = sift_device_cuda_count(why, sizeof why);

	CHECK_EQ_INT(sift_device_resolve(SIFT_DEVICE_CPU, &d, err, sizeof err), 0);
	CHECK_EQ_INT(d, SIFT_DEVICE_CPU);
	CHECK_EQ_INT(sift_device_resolve(SIFT_DEVICE_AUTO, &d, err, sizeof err), 0);
	CHECK_EQ_INT(d, n > 0 ? SIFT_DEVICE_CUDA : SIFT_DEVICE_CPU);

	int rc = sift_device_resolve(SIFT_DEVICE_CUDA, &d, err, sizeof err);
	if (!sift_device_have_cuda()) {
		CHECK_EQ_INT(rc, -1);
		CHECK_STR(err, "cuda: not built with CUDA support");
		CHECK(sift_backend_get("cuda") == NULL);
	} else if (n <= 0) {
		char want[256];
		snprintf(want, sizeof want, "cuda: no GPU found (%s)", why);
		CHECK_EQ_INT(rc, -1);
		CHECK_STR(err, want);
		CHECK(why[0] != '\0');
		CHECK(sift_backend_get("cuda") != NULL);
	} else {
		CHECK_EQ_INT(rc, 0);
		CHECK_EQ_INT(d, SIFT_DEVICE_CUDA);
		CHECK(sift_backend_get("cuda") != NULL);
	}
}

static void test_precision(void)
{
	char err[200] = "", why[200] = "";

	CHECK_EQ_INT(sift_device_set_precision(SIFT_DEVICE_CPU, SIFT_PREC_FP32, err, sizeof err), 0);
	CHECK(!sift_cpu_bf16_on());
	/* bf16 on the cpu: taken where oneDNN sees AVX512-BF16 or AMX, else
	 * refused with the check's reason (bf16.bats tests both kinds) */
	int have = sift_cpu_bf16_check(why, sizeof why) == 0;
	CHECK_EQ_INT(sift_device_set_precision(SIFT_DEVICE_CPU, SIFT_PREC_BF16, err, sizeof err),
		     have ? 0 : -1);
	CHECK_EQ_INT(sift_cpu_bf16_on(), have);
	if (!have)
		CHECK_STR(err, why);
	CHECK_EQ_INT(sift_device_set_precision(SIFT_DEVICE_CPU, SIFT_PREC_FP32, err, sizeof err), 0);
	CHECK(!sift_cpu_bf16_on());
	/* int8: the cpu only, and only with oneDNN in the build */
	CHECK_EQ_INT(sift_precision_parse("int8", &(enum sift_precision){ 0 }), 0);
	CHECK_STR(sift_precision_name(SIFT_PREC_INT8), "int8");
	err[0] = 0;
	CHECK_EQ_INT(sift_device_set_precision(SIFT_DEVICE_CUDA, SIFT_PREC_INT8, err, sizeof err), -1);
	CHECK_STR(err, "int8 precision needs the cpu device");
	err[0] = 0;
#ifdef SIFT_DNNL
	CHECK_EQ_INT(sift_device_set_precision(SIFT_DEVICE_CPU, SIFT_PREC_INT8, err, sizeof err), 0);
	CHECK_STR(err, "");
#else
	CHECK_EQ_INT(sift_device_set_precision(SIFT_DEVICE_CPU, SIFT_PREC_INT8, err, sizeof err), -1);
	CHECK_STR(err, "int8 precision needs a build with oneDNN (libdnnl-dev)");
#endif
}

/* cuBLAS is not linked but opened when the backend starts: the
 * toolkit's libraries are found from here, with every function the
 * backend calls (no GPU needed) */
static void test_blas_found(void)
{
#ifdef SIFT_CUDA
	char why[600] = "";
	int rc = sift_cuda_blas_find(why, sizeof why);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		printf("test-device: %s\n", why);
#else
	printf("test-device: cuBLAS: skipped (a build without CUDA)\n");
#endif
}

int main(void)
{
	test_parse();
	test_resolve();
	test_precision();
	test_blas_found();
	return check_done("test-device");
}
