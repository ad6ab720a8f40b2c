/* fuzz-time.c: libFuzzer target for sift-report's time, window and alert parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* the time parser gets exactly the input's bytes (it takes a length, as
 * a msgpack string has no NUL); the others a NUL-terminated copy */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double t;
	struct report_alert a;
	if (size > 4096)
		return 0;
	char *s = malloc(size ? size : 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	const char *why;
	report_parse_time(s, size, &t, &why);
	free(s);
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	report_parse_window(s);
	if (report_parse_alert(s, &a) == 0 &&
	    (!memchr(a.label, 0, sizeof a.label) || !memchr(a.op, 0, sizeof a.op)))
		abort();
	free(s);
	return 0;
}
