/* fuzz-config.c: libFuzzer target for config.json (a BERT model's config). */
#include <stdint.h>
#include <string.h>

#include "bert.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bert_config c;
	char err[512];
	if (size > 100000)
		return 0;
	fuzz_file("config.json", data, size);
	if (bert_config_load(&c, fuzz_dir(), err, sizeof err) < 0)
		return 0;
	size_t sum = strlen(c.arch);
	for (int i = 0; i < c.nlabels; i++)
		sum += strlen(c.labels[i]);
	bert_head_of_arch(c.arch);
	bert_config_free(&c);
	fuzz_sink = sum;
	return 0;
}
