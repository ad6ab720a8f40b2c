/* cli.c: the option handling that every sift program's main shares. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "stream.h"

int sift_misuse(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", sift_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", sift_prog);
	return SIFT_EXIT_USAGE;
}

int sift_int_opt(const char *name, const char *s, long long lo, long long hi,
		 long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (*s == 0 || *end || errno || *v < lo || *v > hi) {
		sift_misuse("%s: expected an integer from %lld to %lld, got '%s'",
			    name, lo, hi, s);
		return -1;
	}
	return 0;
}

int sift_help(const char *usage, const char *help)
{
	fputs(usage, stdout);
	fputs(help, stdout);
	return sift_close_stdout() < 0 ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
}

int sift_version(void)
{
	printf("%s %s\n", sift_prog, SIFT_VERSION);
	return sift_close_stdout() < 0 ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
}
