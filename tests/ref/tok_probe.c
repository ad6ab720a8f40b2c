/* tok_probe.c: prints the basic tokenizer's words for "a" + c + "a", every code point c; used by make_tok_unicode.py. */
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "basictok.h"

int main(int argc, char **argv)
{
	/* cased, loweronly, striponly or lower (lower-case and strip) */
	const char *m = argc > 1 ? argv[1] : "cased";
	int lower = !strcmp(m, "lower") || !strcmp(m, "loweronly");
	int strip = !strcmp(m, "lower") || !strcmp(m, "striponly");
	struct sift_basictok bt = { lower, strip, 1 };
	struct sift_bwords o = { 0 };

	sift_bt_raw = argc > 2 && strcmp(argv[2], "raw") == 0;
	for (int cp = 0; cp < 0x110000; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		char s[8];
		s[0] = 'a';
		int k = (int)utf8proc_encode_char(cp, (utf8proc_uint8_t *)s + 1);
		s[1 + k] = 'a';
		sift_bwords_clear(&o);
		sift_basictok(&bt, s, k + 2, 0, &o, NULL);
		printf("%x", cp);
		for (int w = 0; w < o.n; w++) {
			const char *p = o.buf + o.w[w].off;
			int n = (int)o.w[w].len;
			putchar(' ');
			for (int i = 0; i < n;) {
				utf8proc_int32_t u;
				i += (int)utf8proc_iterate((const utf8proc_uint8_t *)p + i, n - i, &u);
				printf(i == n && 0 ? "%x" : "%x.", u);
			}
		}
		putchar('\n');
	}
	sift_bwords_free(&o);
	return 0;
}
