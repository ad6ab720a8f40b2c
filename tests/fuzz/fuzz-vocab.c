/* fuzz-vocab.c: libFuzzer target for a model's vocabulary files, one per build (FUZZ_VOCAB). */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "vocab.h"

/* FUZZ_VOCAB 0: the input is vocab.txt; 1: tokenizer.json (no
 * vocab.txt); 2: tokenizer_config.json beside a small vocab.txt */
#ifndef FUZZ_VOCAB
#define FUZZ_VOCAB 0
#endif

static const char small_vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n<unk>\na\n##b\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sift_vocab v;
	char err[512];
	if (size > 200000)
		return 0;
	if (FUZZ_VOCAB == 0) {
		fuzz_file("vocab.txt", data, size);
	} else if (FUZZ_VOCAB == 1) {
		fuzz_remove("vocab.txt");
		fuzz_file("tokenizer.json", data, size);
	} else {
		fuzz_file("vocab.txt", (const uint8_t *)small_vocab, sizeof small_vocab - 1);
		fuzz_file("tokenizer_config.json", data, size);
	}
	if (sift_vocab_load(&v, fuzz_dir(), err, sizeof err) < 0)
		return 0;
	size_t sum = 0;
	for (int i = 0; i < v.n; i++)
		sum += strlen(v.tok[i]);
	int ids[] = { v.unk, v.cls, v.sep, v.pad, v.mask };
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
		if (ids[i] >= v.n || ids[i] < -1)
			abort();
	if (v.max_len < 1)
		abort();
	sum += sift_vocab_id(&v, "a");
	sift_vocab_free(&v);
	fuzz_sink = sum;
	return 0;
}
