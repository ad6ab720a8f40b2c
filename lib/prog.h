/* prog.h: what every sift program shares: exit statuses, its name in diagnostics, warnings, the one way out of memory ends it. */
#ifndef SIFT_PROG_H
#define SIFT_PROG_H

#include <stddef.h>

#define SIFT_VERSION "0.1"

/* exit statuses, the same in every program */
enum sift_exit {
	SIFT_EXIT_OK = 0,
	SIFT_EXIT_DATA = 1,	/* bad input, I/O, device */
	SIFT_EXIT_USAGE = 2,	/* misuse of options */
	SIFT_EXIT_ALERT = 3,	/* sift-report: a threshold was crossed */
	SIFT_EXIT_SIGNAL = 128,	/* sift-train: stopped by a signal, plus its
				 * number (SIGTERM 143, SIGINT 130) */
};

/* program name for diagnostics; set once by each main */
extern const char *sift_prog;
void sift_setprog(const char *argv0);
/* "prog: msg" on stderr */
void sift_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sift_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/*
 * Out of memory is handled one way everywhere: the sift_x* allocators
 * (and code that cannot use them) call sift_oom, which calls the hook a
 * program may set, and else prints "out of memory" and exits 1.  The
 * library's modules call neither exit nor abort themselves.
 */
extern void (*sift_oom_hook)(size_t bytes);
void sift_oom(size_t bytes) __attribute__((noreturn));
void *sift_xmalloc(size_t n);
void *sift_xcalloc(size_t n, size_t sz);
void *sift_xrealloc(void *p, size_t n);
char *sift_xstrdup(const char *s);

#endif
