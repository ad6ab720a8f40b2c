/* fuzz-stream.c: libFuzzer target for the stream reader and its record accessors. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream.h"

/* reads the input as a stream, one byte per read(2) when the first byte
 * is odd, and touches every accessor on every record */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int p[2];
	struct sift_header h;
	const msgpack_object *rec;

	if (size > 60000 || pipe(p) < 0)
		return 0;
	if (write(p[1], data, size) != (ssize_t)size) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	close(p[1]);
	struct sift_reader *r = sift_reader_new(p[0], "fuzz");
	if (size && (data[0] & 1))
		sift_reader_set_readsize(r, 1);
	if (sift_read_header(r, &h) == 0) {
		while (sift_read(r, &rec) > 0) {
			int64_t i;
			double d;
			const char *s;
			uint32_t n;
			int32_t *iv;
			float *fv;
			uint8_t *uv;
			size_t k;
			sift_opt_int(NULL, rec, "id", &i);
			sift_opt_num(NULL, rec, "loss", &d);
			sift_opt_str(NULL, rec, "src", &s, &n);
			if (sift_opt_i32s(NULL, rec, "ids", &iv, &k) > 0)
				free(iv);
			if (sift_need_f32s(NULL, rec, "probs", &fv, &k) > 0)
				free(fv);
			if (sift_need_u8s(NULL, rec, "mask", &uv, &k) > 0)
				free(uv);
		}
		sift_header_free(&h);
	}
	sift_reader_free(r);
	close(p[0]);
	return 0;
}
