/* modelfile.c: opens a model directory's files, refusing FIFOs and other non-regular files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modelfile.h"

static const char *kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
		S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
		S_ISSOCK(m) ? "a socket" : "not a file";
}

int sift_model_open(const char *path, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO without a writer returns at once
	 * (it would block); the flag is cleared once the file is known */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path,
			 kind(st.st_mode));
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

FILE *sift_model_fopen(const char *path, char *err, size_t errlen)
{
	int fd = sift_model_open(path, err, errlen);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		errno = e;
	}
	return f;
}

json_t *sift_model_json(const char *path, char *err, size_t errlen)
{
	int fd = sift_model_open(path, err, errlen);
	if (fd < 0)
		return NULL;
	json_error_t je;
	json_t *j = json_loadfd(fd, 0, &je);
	close(fd);
	if (!j) {
		if (je.line < 1)
			snprintf(err, errlen, "%s: %s", path, je.text);
		else
			snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		errno = EINVAL;
	}
	return j;
}
