/* cli.h: what the mains share about options: misuse, numbers, help, version. */
#ifndef SIFT_CLI_H
#define SIFT_CLI_H

/* "prog: message" and "Try 'prog --help'." on stderr; returns the exit
 * status of misuse (SIFT_EXIT_USAGE) */
int sift_misuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* an integer option in [lo, hi]: 0, or -1 after a misuse message
 * "prog: NAME: expected an integer from LO to HI, got 'S'" */
int sift_int_opt(const char *name, const char *s, long long lo, long long hi,
		 long long *v);
/* usage and help on stdout: the exit status (0, or 1 when stdout fails) */
int sift_help(const char *usage, const char *help);
/* "prog VERSION" on stdout: the exit status */
int sift_version(void);

#endif
