/* cli.h: what the mains share about options: misuse, numbers, help, version. */
#ifndef SIFT_CLI_H
#define SIFT_CLI_H

#include <getopt.h>	/* defines: struct option */
#include <stdint.h>

/* "prog: message" and "Try 'prog --help'." on stderr; returns the exit
 * status of misuse (SIFT_EXIT_USAGE) */
int sift_misuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Option values: the whole argument, in base 10, no leading blank, no
 * trailing junk, no overflow.  Each returns 0, or -1 after a misuse
 * message naming the option (NAME, as "--seed") and the value given.
 */
/* an integer in [lo, hi]: "NAME: expected an integer from LO to HI, got 'S'" */
int sift_int_opt(const char *name, const char *s, long long lo, long long hi,
		 long long *v);
/* an unsigned integer in [lo, hi], up to 2^64-1, without a sign; the same
 * message as sift_int_opt */
int sift_u64_opt(const char *name, const char *s, uint64_t lo, uint64_t hi,
		 uint64_t *v);
/* a seed: any integer from 0 to 2^64-1, the same range and message in
 * every program (sift-batch --seed, sift-fwd --init-head, sift-train --seed) */
int sift_seed_opt(const char *name, const char *s, uint64_t *v);
/* a finite number (strtod's syntax) in [lo, hi]:
 * "NAME: expected a number from LO to HI, got 'S'" */
int sift_double_opt(const char *name, const char *s, double lo, double hi,
		    double *v);
/*
 * The one report of getopt_long's errors, for mains that set opterr = 0
 * and start their option string with ':'.  c is what getopt_long returned
 * (':' for a missing value, '?' else); the option is named as typed:
 * "unknown option '--bogus'", "unknown option '-Z'",
 * "option '--max-tokens' needs a value", "option '--help' takes no value",
 * "option '--f' is ambiguous".  Returns SIFT_EXIT_USAGE.
 */
int sift_opt_error(int c, char **argv, const struct option *longopts);
/* usage and help on stdout: the exit status (0, or 1 when stdout fails) */
int sift_help(const char *usage, const char *help);
/* "prog VERSION" on stdout: the exit status */
int sift_version(void);

#endif
