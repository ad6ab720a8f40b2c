/* fuzz-textin.c: libFuzzer target for one of sift-tok's text formats (FUZZ_FMT). */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "textin.h"

#ifndef FUZZ_FMT
#define FUZZ_FMT SIFT_FMT_CONLL
#endif

/* the first byte chooses the options (bit 0 latin1, 1 header, 2 words,
 * 3 chars, 4 strip digits or text_b, 5-6 the tag column, 7 the word
 * column or time/topic); the rest is the file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 100000)
		return 0;
	unsigned b = data[0];
	static const int tagcol[4] = { -1, 0, 2, 4 };
	struct sift_textin_opts o;
	memset(&o, 0, sizeof o);
	o.fmt = FUZZ_FMT;
	o.latin1 = b & 1;
	o.header = b >> 1 & 1;
	o.words = b >> 2 & 1;
	o.chars = b >> 3 & 1;
	o.strip_word_digits = b >> 4 & 1;
	o.tag_col = tagcol[b >> 5 & 3];
	o.word_col = b & 0x80 ? 2 : 1;
	if (o.header) {
		o.text_col = "text";
		o.label_col = "label";
		o.text_b_col = b & 0x10 ? "text_b" : NULL;
		o.time_col = b & 0x80 ? "time" : NULL;
	} else {
		o.text_col = "1";
		o.label_col = "2";
		o.text_b_col = b & 0x10 ? "3" : NULL;
		o.time_col = b & 0x80 ? "4" : b & 0x40 ? "0" : NULL;
	}
	o.text_b_key = b & 0x10 ? "text_b" : NULL;
	o.time_key = b & 0x80 ? "time" : NULL;
	o.topic_key = b & 0x40 ? "topic" : NULL;
	const char *path = fuzz_file("input", data + 1, size - 1);
	struct sift_textin *t = sift_textin_open(path, &o);
	if (!t)
		abort();
	struct sift_rec r;
	size_t sum = 0;
	while (sift_textin_next(t, &r) > 0) {
		/* every string the record claims is readable */
		for (int i = 0; i < r.nw; i++) {
			sum += strlen(r.words[i]);
			if (r.tags)
				sum += strlen(r.tags[i]);
		}
		const char *s[] = { r.text, r.text_b, r.label, r.time, r.topic };
		for (size_t i = 0; i < sizeof s / sizeof *s; i++)
			if (s[i])
				sum += strlen(s[i]);
		sift_rec_free(&r);
	}
	sift_textin_close(t);
	fuzz_sink = sum;
	return 0;
}
