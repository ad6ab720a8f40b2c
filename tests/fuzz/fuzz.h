/* fuzz.h: an input as a file in a private directory, for readers that take a path. */
#ifndef SIFT_FUZZ_H
#define SIFT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a directory made once per process (and target), removed at exit with
 * the files fuzz_file() wrote into it */
static char fuzz_dirname[256];
static const char *fuzz_names[8];
static int fuzz_nnames;

__attribute__((unused)) static void fuzz_cleanup(void)
{
	char p[512];
	for (int i = 0; i < fuzz_nnames; i++) {
		snprintf(p, sizeof p, "%s/%s", fuzz_dirname, fuzz_names[i]);
		unlink(p);
	}
	rmdir(fuzz_dirname);
}

__attribute__((unused)) static const char *fuzz_dir(void)
{
	if (!fuzz_dirname[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_dirname, sizeof fuzz_dirname, "%s/sift-fuzz.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dirname))
			abort();
		atexit(fuzz_cleanup);
	}
	return fuzz_dirname;
}

/* writes data[0..size) to DIR/name; its path (static storage) */
__attribute__((unused)) static const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[512];
	int known = 0;
	for (int i = 0; i < fuzz_nnames; i++)
		known |= !strcmp(fuzz_names[i], name);
	if (!known && fuzz_nnames < 8)
		fuzz_names[fuzz_nnames++] = name;
	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	return path;
}

/* where a target stores what it read, so that reading is not optimised away */
__attribute__((unused)) static volatile size_t fuzz_sink;

/* removes DIR/name (a reader that looks for optional files) */
__attribute__((unused)) static void fuzz_remove(const char *name)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", fuzz_dir(), name);
	unlink(p);
}

#endif
