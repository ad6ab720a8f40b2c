/* test-stream.c: round trips, byte-at-a-time reads, truncation and garbage for the stream reader. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "rng.h"
#include "stream.h"

/* a small examples stream: header + 3 records, into a malloc'd buffer */
static char *make_stream(size_t *len, const char *vocab_hash, size_t *rec_end)
{
	char *labels[] = { "O", "B-PER", "I-PER" };
	struct sift_header h;
	struct sift_writer w;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	sift_header_init(&h, "examples", "ner", "test-stream");
	sift_header_set_labels(&h, labels, 3);
	h.vocab_size = 30522;
	strcpy(h.vocab_hash, vocab_hash);
	CHECK(sift_writer_init(&w, f, "mem", 1) == 0);
	sift_pack_header(&w, &h, 0);
	CHECK(sift_commit(&w) == 0);
	fflush(f);
	rec_end[0] = *len;
	for (int i = 0; i < 3; i++) {
		int32_t ids[4] = { 101, 2000 + i, 3000 - i, 102 };
		float p[2] = { 0.25f * i, -1.5f };
		uint8_t m[4] = { 1, 1, 1, 0 };
		msgpack_pack_map(&w.pk, 5);
		sift_pack_str(&w.pk, "id");
		msgpack_pack_int(&w.pk, i);
		sift_pack_str(&w.pk, "ids");
		sift_pack_i32s(&w.pk, ids, 4);
		sift_pack_str(&w.pk, "p");
		sift_pack_f32s(&w.pk, p, 2);
		sift_pack_str(&w.pk, "mask");
		sift_pack_u8s(&w.pk, m, 4);
		sift_pack_str(&w.pk, "unknown_key_is_ignored");
		sift_pack_str(&w.pk, "x");
		CHECK(sift_commit(&w) == 0);
		fflush(f);
		rec_end[i + 1] = *len;
	}
	CHECK(sift_writer_close(&w) == 0);
	sift_writer_free(&w);
	sift_header_free(&h);
	fclose(f);
	return buf;
}

/* a descriptor that reads back buf[0..n) */
static int fd_of(const char *buf, size_t n)
{
	FILE *t = tmpfile();
	if (n)
		fwrite(buf, 1, n, t);
	fflush(t);
	int fd = dup(fileno(t));
	fclose(t);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int read_all1(const char *buf, size_t n, size_t readsize, int verify);

/* reads a stream; returns records read, or -1 - records on an error.
 * Diagnostics are expected here, so they go to /dev/null unless verify. */
static int read_all(const char *buf, size_t n, size_t readsize, int verify)
{
	if (verify)
		return read_all1(buf, n, readsize, verify);
	fflush(stderr);
	int saved = dup(2);
	FILE *null = fopen("/dev/null", "w");
	dup2(fileno(null), 2);
	int ret = read_all1(buf, n, readsize, verify);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(null);
	return ret;
}

static int read_all1(const char *buf, size_t n, size_t readsize, int verify)
{
	int fd = fd_of(buf, n);
	struct sift_reader *r = sift_reader_new(fd, "mem");
	struct sift_header h;
	const msgpack_object *rec;
	int count = 0, ret;

	sift_reader_set_readsize(r, readsize);
	if (sift_read_header(r, &h) < 0) {
		sift_reader_free(r);
		close(fd);
		return -1;
	}
	while ((ret = sift_read(r, &rec)) > 0) {
		if (verify) {
			int64_t id;
			int32_t *ids;
			float *p;
			uint8_t *m;
			size_t k;
			CHECK(sift_need_int(r, rec, "id", &id) == 1);
			CHECK_EQ_INT(id, count);
			CHECK(sift_need_i32s(r, rec, "ids", &ids, &k) == 1);
			CHECK_EQ_INT(k, 4);
			CHECK_EQ_INT(ids[1], 2000 + count);
			CHECK(sift_need_f32s(r, rec, "p", &p, &k) == 1);
			CHECK(p[0] == 0.25f * count && p[1] == -1.5f);
			CHECK(sift_need_u8s(r, rec, "mask", &m, &k) == 1);
			CHECK(m[0] == 1 && m[3] == 0);
			free(ids);
			free(p);
			free(m);
		}
		count++;
	}
	sift_header_free(&h);
	sift_reader_free(r);
	close(fd);
	return ret < 0 ? -1 - count : count;
}

static void test_round_trip(void)
{
	size_t len, ends[4];
	char *buf = make_stream(&len, "00000000000000aa", ends);

	CHECK_EQ_INT(read_all(buf, len, 0, 1), 3);
	/* one byte at a time, as msgpack-c's own tests feed the unpacker */
	CHECK_EQ_INT(read_all(buf, len, 1, 1), 3);
	CHECK_EQ_INT(read_all(buf, len, 7, 1), 3);
	free(buf);
}

static void test_truncation_everywhere(void)
{
	size_t len, ends[4];
	char *buf = make_stream(&len, "00000000000000aa", ends);
	int bad = 0;

	for (size_t k = 0; k < len; k++) {
		int got = read_all(buf, k, 0, 0);
		int whole = -1;	/* records complete within k bytes */
		for (int i = 0; i < 4; i++)
			if (ends[i] <= k)
				whole = i;
		int expect;
		if (k < ends[0])
			expect = -1;			/* header cut or empty */
		else if (k == ends[whole])
			expect = whole;			/* a clean end */
		else
			expect = -1 - whole;		/* truncated record */
		if (got != expect) {
			bad++;
			fprintf(stderr, "truncated at %zu: got %d expected %d\n", k, got, expect);
		}
	}
	CHECK_EQ_INT(bad, 0);
	free(buf);
}

static void test_concatenation(void)
{
	size_t la, lb, lc, ends[4];
	char *a = make_stream(&la, "00000000000000aa", ends);
	char *b = make_stream(&lb, "00000000000000aa", ends);
	char *c = make_stream(&lc, "00000000000000bb", ends);
	char *ab = malloc(la + lb), *ac = malloc(la + lc);

	memcpy(ab, a, la);
	memcpy(ab + la, b, lb);
	memcpy(ac, a, la);
	memcpy(ac + la, c, lc);
	/* agreeing headers: 6 records, ids restart, so do not verify ids */
	CHECK_EQ_INT(read_all(ab, la + lb, 0, 0), 6);
	/* another vocabulary: an error after the first stream's records */
	CHECK_EQ_INT(read_all(ac, la + lc, 0, 0), -1 - 3);
	free(a); free(b); free(c); free(ab); free(ac);
}

static void test_garbage(void)
{
	struct sift_rng g;
	char buf[512];
	int errors = 0;

	sift_rng_seed(&g, 7);
	for (int t = 0; t < 2000; t++) {
		size_t n = 1 + sift_rng_below(&g, sizeof buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)sift_rng_next(&g);
		/* must end without crashing; random bytes are almost never a
		 * header, so nearly all of them are errors */
		if (read_all(buf, n, 1 + (t % 3), 0) < 0)
			errors++;
	}
	CHECK(errors > 1900);
}

static void test_typed_conversion(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	int32_t *iv;
	float *fv;
	size_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	sift_pack_str(&pk, "plain");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int(&pk, -1);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 70000);
	sift_pack_str(&pk, "frac");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_double(&pk, 0.5);
	sift_pack_str(&pk, "s");
	sift_pack_str(&pk, "text");
	sift_pack_str(&pk, "big");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_int64(&pk, 1LL << 40);
	msgpack_unpacked_init(&u);
	CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS);
	CHECK(sift_need_i32s(NULL, &u.data, "plain", &iv, &n) == 1);
	CHECK(n == 3 && iv[0] == -1 && iv[2] == 70000);
	free(iv);
	CHECK(sift_need_f32s(NULL, &u.data, "plain", &fv, &n) == 1);
	CHECK(n == 3 && fv[2] == 70000.0f);
	free(fv);
	/* a fraction or an out-of-range number is no int32 */
	CHECK(sift_need_i32s(NULL, &u.data, "frac", &iv, &n) == -1);
	CHECK(sift_need_i32s(NULL, &u.data, "big", &iv, &n) == -1);
	/* a string where numbers are wanted, and a missing key */
	CHECK(sift_need_i32s(NULL, &u.data, "s", &iv, &n) == -1);
	CHECK(sift_need_i32s(NULL, &u.data, "absent", &iv, &n) == -1);
	CHECK(sift_opt_i32s(NULL, &u.data, "absent", &iv, &n) == 0);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

static void test_vocab_hash(void)
{
	/* FNV-1a 64 of "a\nb\n", computed independently:
	 * python3 -c 'h=0xcbf29ce484222325
	 * for c in b"a\nb\n": h=((h^c)*0x100000001b3)%2**64
	 * print(hex(h))' */
	char *t[] = { "a", "b" };
	CHECK(sift_vocab_hash(t, 2) == 0x78ed6781f136a14eULL);
}

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	got = sig;
}

/* a reader given a flag gives up waiting for input once a signal sets
 * it (sift-train's SIGTERM), and never reads past it */
static void test_stop_on(void)
{
	size_t len, rec_end[4];
	char *buf = make_stream(&len, "0000000000000000", rec_end);
	int fd[2];
	CHECK(pipe(fd) == 0);
	/* the header and one record, the writer kept open: a live input
	 * that went silent */
	CHECK(write(fd[1], buf, rec_end[1]) == (ssize_t)rec_end[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	struct sift_reader *r = sift_reader_new(fd[0], "pipe");
	sift_reader_stop_on(r, &got);
	struct sift_header h;
	const msgpack_object *rec;
	CHECK(sift_read_header(r, &h) == 0);
	sift_header_free(&h);
	CHECK(sift_read(r, &rec) == 1);
	/* the signal comes while the reader waits (or just before) */
	pid_t child = fork();
	if (child == 0) {
		usleep(100000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	CHECK(sift_read(r, &rec) == -2);
	CHECK(got == SIGUSR1);
	waitpid(child, NULL, 0);
	sift_reader_free(r);
	/* a flag set before the first read: not even the header is read */
	r = sift_reader_new(fd[0], "pipe");
	sift_reader_stop_on(r, &got);
	CHECK(sift_read_header(r, &h) == -2);
	sift_reader_free(r);
	close(fd[0]);
	close(fd[1]);
	signal(SIGUSR1, SIG_DFL);
	free(buf);
}

int main(void)
{
	sift_setprog("test-stream");
	test_round_trip();
	test_truncation_everywhere();
	test_concatenation();
	test_garbage();
	test_typed_conversion();
	test_vocab_hash();
	test_stop_on();
	return check_done("test-stream");
}
