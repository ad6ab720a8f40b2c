/* replay.c: runs the fuzz targets over their committed inputs, without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FUZZ_TARGETS: X(name) for each target; its LLVMFuzzerTestOneInput is
 * compiled as fuzz_name.  FUZZ_DIR: tests/fuzz of the source tree. */
#define X(n) int fuzz_##n(const uint8_t *data, size_t size);
FUZZ_TARGETS
#undef X

static const struct target {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
#define X(n) { #n, fuzz_##n },
	FUZZ_TARGETS
#undef X
};

/* the readers' own diagnostics (stdio's stderr) go to /dev/null; the
 * sanitizers write to file descriptor 2 themselves, which stays open */
static int verbose;
static FILE *quiet;

static int run_file(const struct target *t, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "test-fuzz-replay: %s: cannot open\n", path);
		return -1;
	}
	size_t cap = 4096, n = 0, k;
	uint8_t *buf = malloc(cap);
	while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0)
		if ((n += k) == cap)
			buf = realloc(buf, cap *= 2);
	fclose(f);
	if (!buf)
		return -1;
	/* an input of its own size, so that ASan sees a read past it */
	uint8_t *in = malloc(n ? n : 1);
	memcpy(in, buf, n);
	free(buf);
	if (verbose)
		printf("test-fuzz-replay: %s %s\n", t->name, path);
	fflush(stdout);
	FILE *err = stderr;
	if (!verbose)
		stderr = quiet;	/* glibc's stderr is a variable */
	t->fn(in, n);
	stderr = err;
	free(in);
	return 0;
}

/* every file of DIR/SUB/NAME; the count, or -1 */
static int run_dir(const struct target *t, const char *dir, const char *sub)
{
	char d[4096], p[8192];
	snprintf(d, sizeof d, "%s/%s/%s", dir, sub, t->name);
	DIR *dp = opendir(d);
	if (!dp)
		return 0;
	struct dirent *e;
	int n = 0;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", d, e->d_name);
		if (run_file(t, p) < 0) {
			closedir(dp);
			return -1;
		}
		n++;
	}
	closedir(dp);
	return n;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("SIFT_FUZZ_DIR") ? getenv("SIFT_FUZZ_DIR") : FUZZ_DIR;
	int pass = 0, fail = 0;
	if (argc > 1 && !strcmp(argv[1], "-v"))
		verbose = 1, argc--, argv++;
	if (!(quiet = fopen("/dev/null", "w")))
		return 1;
	for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
		const struct target *t = &targets[i];
		if (argc > 1 && strcmp(argv[1], t->name))
			continue;
		int s = run_dir(t, dir, "seeds"), r = run_dir(t, dir, "regress");
		/* a target without inputs tests nothing */
		if (s <= 0 || r < 0) {
			fprintf(stderr, "test-fuzz-replay: %s: no inputs under %s/seeds/%s\n",
				t->name, dir, t->name);
			fail++;
			continue;
		}
		pass += s + r;
	}
	printf("test-fuzz-replay: %d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
