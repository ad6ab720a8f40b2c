/* failio.c: an LD_PRELOAD shim that fails the Nth write, fsync or rename. */
/*
 * The environment says what to fail:
 *   FAILIO_OP     write, fsync or rename (write counts write(2), fwrite,
 *                 fputc, putc and fputs; fsync counts fdatasync too; rename
 *                 counts renameat and renameat2 too)
 *   FAILIO_N      the call to fail, 1-based; "N+" fails it and every later
 *                 one (a disk that stays full)
 *   FAILIO_ERRNO  ENOSPC (the default) or EIO
 *   FAILIO_PATH   only calls on a path containing this string count, a "*"
 *                 in it matching any characters (the
 *                 file behind the descriptor, or either name of a rename)
 *   FAILIO_LOG    a file that gets one line per failed call
 * A failed stdio call sets the stream's error indicator and writes nothing,
 * as a failed write(2) under it would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long calls;

static const char *fd_path(int fd, char *buf, size_t n)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t l = readlink(p, buf, n - 1);
	buf[l < 0 ? 0 : l] = 0;
	return buf;
}

/* whether path contains sub; a '*' in sub matches any characters (a
 * temporary directory's name has a random part) */
static int path_is(const char *path, const char *sub)
{
	if (!path)
		return 0;
	if (strchr(sub, '*')) {
		char pat[4096];
		snprintf(pat, sizeof pat, "*%s*", sub);
		return fnmatch(pat, path, 0) == 0;
	}
	return strstr(path, sub) != NULL;
}

/* whether this call of op, on path a (or b), is to fail; sets errno */
static int should_fail(const char *op, const char *a, const char *b)
{
	const char *want = getenv("FAILIO_OP"), *n = getenv("FAILIO_N");
	const char *sub = getenv("FAILIO_PATH");
	if (!want || !n || strcmp(want, op))
		return 0;
	if (sub && *sub && !path_is(a, sub) && !path_is(b, sub))
		return 0;
	char *end;
	long at = strtol(n, &end, 10);
	calls++;
	if (!(calls == at || (*end == '+' && calls > at)))
		return 0;
	const char *e = getenv("FAILIO_ERRNO");
	int err = e && !strcmp(e, "EIO") ? EIO : ENOSPC;
	const char *log = getenv("FAILIO_LOG");
	if (log) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0666);
		if (fd >= 0) {
			dprintf(fd, "failio: %s #%ld %s: %s\n", op, calls,
				a ? a : "", strerror(err));
			close(fd);
		}
	}
	errno = err;
	return 1;
}

#define REAL(name) \
	static __typeof__(name) *real; \
	if (!real) \
		real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static int fail_fd(const char *op, int fd)
{
	char buf[4096];
	return should_fail(op, fd_path(fd, buf, sizeof buf), NULL);
}

static int fail_file(FILE *f)
{
	if (!fail_fd("write", fileno(f)))
		return 0;
	int e = errno;
	f->_flags |= _IO_ERR_SEEN;
	errno = e;
	return 1;
}

ssize_t write(int fd, const void *p, size_t n)
{
	REAL(write);
	return fail_fd("write", fd) ? -1 : real(fd, p, n);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	REAL(fwrite);
	return fail_file(f) ? 0 : real(p, size, n, f);
}

int fputc(int c, FILE *f)
{
	REAL(fputc);
	return fail_file(f) ? EOF : real(c, f);
}

int putc(int c, FILE *f)
{
	REAL(putc);
	return fail_file(f) ? EOF : real(c, f);
}

int fputs(const char *s, FILE *f)
{
	REAL(fputs);
	return fail_file(f) ? EOF : real(s, f);
}

int fsync(int fd)
{
	REAL(fsync);
	return fail_fd("fsync", fd) ? -1 : real(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	return fail_fd("fsync", fd) ? -1 : real(fd);
}

int rename(const char *a, const char *b)
{
	REAL(rename);
	return should_fail("rename", a, b) ? -1 : real(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	REAL(renameat);
	return should_fail("rename", a, b) ? -1 : real(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	REAL(renameat2);
	return should_fail("rename", a, b) ? -1 : real(da, a, db, b, flags);
}
