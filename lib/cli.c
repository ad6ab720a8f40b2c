/* cli.c: the option handling that every sift program's main shares. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	/* strtoll would skip leading blanks */
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (!isdigit((unsigned char)s[*s == '-' || *s == '+']) || *end || errno ||
	    *v < lo || *v > hi) {
		sift_misuse("%s: expected an integer from %lld to %lld, got '%s'",
			    name, lo, hi, s);
		return -1;
	}
	return 0;
}

int sift_u64_opt(const char *name, const char *s, uint64_t lo, uint64_t hi,
		 uint64_t *v)
{
	char *end;
	unsigned long long x = 0;

	/* strtoull would take a sign ("-1" is 2^64-1) and leading blanks */
	errno = 0;
	if (isdigit((unsigned char)*s))
		x = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || x < lo || x > hi) {
		sift_misuse("%s: expected an integer from %" PRIu64 " to %" PRIu64
			    ", got '%s'", name, lo, hi, s);
		return -1;
	}
	*v = x;
	return 0;
}

int sift_seed_opt(const char *name, const char *s, uint64_t *v)
{
	return sift_u64_opt(name, s, 0, UINT64_MAX, v);
}

int sift_double_opt(const char *name, const char *s, double lo, double hi,
		    double *v)
{
	char *end;
	double x = 0;

	/* strtod would skip leading blanks; "inf", "nan" and out of range
	 * (ERANGE: past DBL_MAX, or below the normal numbers) are refused */
	errno = 0;
	if (*s && !isspace((unsigned char)*s))
		x = strtod(s, &end);
	if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(x) ||
	    x < lo || x > hi) {
		sift_misuse("%s: expected a number from %g to %g, got '%s'",
			    name, lo, hi, s);
		return -1;
	}
	*v = x;
	return 0;
}

int sift_opt_error(int c, char **argv, const struct option *longopts)
{
	/* the argument getopt_long last stepped past; a short option's
	 * cluster ("-sZ") may still be under way, but then optopt names it */
	const char *arg = argv[optind - 1];

	if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
		int n = (int)strcspn(arg + 2, "=");
		const struct option *hit = NULL;
		int nhit = 0;

		for (const struct option *o = longopts; o && o->name; o++)
			if (!strncmp(o->name, arg + 2, (size_t)n)) {
				if (o->name[n] == 0) {	/* exact: no ambiguity */
					hit = o;
					nhit = 1;
					break;
				}
				hit = o;
				nhit++;
			}
		if (optopt == 0)	/* unknown or ambiguous long option */
			return nhit > 1 ?
				sift_misuse("option '%.*s' is ambiguous", n + 2, arg) :
				sift_misuse("unknown option '%.*s'", n + 2, arg);
		/* a known long option: its value is in optopt */
		if (nhit == 1 && !hit->flag && hit->val == optopt) {
			if (c == ':' && hit->has_arg == required_argument && !arg[n + 2])
				return sift_misuse("option '%s' needs a value", arg);
			if (c == '?' && hit->has_arg == no_argument && arg[n + 2] == '=')
				return sift_misuse("option '%.*s' takes no value", n + 2, arg);
		}
	}
	if (optopt == 0)
		return sift_misuse("unknown option '%s'", arg);
	if (c == ':')
		return sift_misuse("option '-%c' needs a value", optopt);
	return sift_misuse("unknown option '-%c'", optopt);
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
