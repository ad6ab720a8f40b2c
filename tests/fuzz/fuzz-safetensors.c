/* fuzz-safetensors.c: libFuzzer target for the safetensors reader (header and tensors). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "safetensors.h"

/* every tensor the reader accepts has the size its shape and dtype say,
 * inside the file, and converts without overrunning n floats */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sift_st_file f;
	char err[512];
	if (size > 1 << 20)
		return 0;
	const char *path = fuzz_file("model.safetensors", data, size);
	if (sift_st_open(&f, path, err, sizeof err) < 0)
		return 0;
	const unsigned char *lo = f.map, *hi = lo + f.size;
	for (int i = 0; i < f.ntensors; i++) {
		const struct sift_st_tensor *t = &f.t[i];
		size_t n = 1;
		for (int d = 0; d < t->ndim; d++)
			if (t->shape[d] < 0 ||
			    __builtin_mul_overflow(n, (size_t)t->shape[d], &n))
				abort();
		if (n != t->nelem || t->data < lo || t->nbytes > (size_t)(hi - t->data))
			abort();
		if (sift_st_find(&f, t->name) == NULL)
			abort();
		if (t->dtype != SIFT_ST_OTHER) {
			size_t es = t->dtype == SIFT_ST_F32 ? 4 : 2, bytes;
			if (__builtin_mul_overflow(t->nelem, es, &bytes) || bytes != t->nbytes)
				abort();
			float *out = malloc(t->nelem ? t->nelem * sizeof *out : 1);
			if (!out)
				abort();
			sift_st_to_f32(t, out);
			free(out);
		}
	}
	sift_st_close(&f);
	return 0;
}
