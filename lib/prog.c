/* prog.c: what every sift program shares: its name in diagnostics, warnings, the one way out of memory ends it. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"

const char *sift_prog = "sift";

void sift_setprog(const char *argv0)
{
	const char *s = strrchr(argv0, '/');
	sift_prog = s ? s + 1 : argv0;
	/* a reader that goes away is a normal end: see sift_commit() */
	signal(SIGPIPE, SIG_IGN);
}

/* one diagnostic line: "prog: message" */
static void vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", sift_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void sift_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void sift_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void (*sift_oom_hook)(size_t bytes);

void sift_oom(size_t bytes)
{
	if (sift_oom_hook)
		sift_oom_hook(bytes);
	sift_die(SIFT_EXIT_DATA, "out of memory (%zu bytes)", bytes);
}

void *sift_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		sift_oom(n);
	return p;
}

void *sift_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		sift_oom(n * sz);
	return p;
}

void *sift_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		sift_oom(n);
	return p;
}

char *sift_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(sift_xmalloc(n), s, n);
}
