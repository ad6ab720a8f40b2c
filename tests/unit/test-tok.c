/* test-tok.c: sift-tok's ids against Hugging Face's (committed fixtures), and its library parts one by one. */
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "check.h"
#include "basictok.h"
#include "stream.h"
#include "textin.h"
#include "tokex.h"
#include "tokrun.h"
#include "wordpiece.h"

#define FIX "tests/fixtures/tok"

static char sift_tok[4096];

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_ids(const int32_t *ids, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t b[4] = { (uint8_t)ids[i], (uint8_t)(ids[i] >> 8),
				 (uint8_t)(ids[i] >> 16), (uint8_t)(ids[i] >> 24) };
		h = fnv_bytes(h, b, 4);
	}
	return h;
}

/* every code point through the basic tokenizer, hashed as HF's probe */
static void test_unicode(void)
{
	FILE *f = fopen(FIX "/unicode.hash", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char mode[16];
	unsigned long long want;
	while (fscanf(f, "%15s %llx", mode, &want) == 2) {
		int lower = !strcmp(mode, "lower") || !strcmp(mode, "loweronly");
		int strip = !strcmp(mode, "lower") || !strcmp(mode, "striponly");
		struct sift_basictok bt = { lower, strip, 1 };
		struct sift_bwords o = { 0 };
		uint64_t h = 0xcbf29ce484222325ULL;
		char line[256];
		for (int cp = 0; cp < 0x110000; cp++) {
			if (cp >= 0xD800 && cp <= 0xDFFF)
				continue;
			char s[8];
			s[0] = 'a';
			int k = (int)utf8proc_encode_char(cp, (utf8proc_uint8_t *)s + 1);
			s[1 + k] = 'a';
			sift_bwords_clear(&o);
			sift_basictok(&bt, s, k + 2, 0, &o, NULL);
			int n = snprintf(line, sizeof line, "%x", cp);
			for (int w = 0; w < o.n; w++) {
				const char *p = o.buf + o.w[w].off;
				int len = (int)o.w[w].len;
				line[n++] = ' ';
				for (int i = 0; i < len;) {
					utf8proc_int32_t u;
					i += (int)utf8proc_iterate((const utf8proc_uint8_t *)p + i, len - i, &u);
					n += snprintf(line + n, sizeof line - n, "%x.", (unsigned)u);
				}
			}
			line[n++] = '\n';
			h = fnv_bytes(h, line, n);
		}
		sift_bwords_free(&o);
		if (h != want)
			fprintf(stderr, "test-tok: unicode %s: hash %016llx, HF %016llx\n", mode,
				(unsigned long long)h, want);
		CHECK(h == want);
	}
	fclose(f);
}

/* runs sift-tok and returns one hash per sentence (windows stitched by
 * their keep ranges) or text; and the full ids/offsets lines for hard
 * cases when lines != NULL */
static int run_tok(const char *args, uint64_t **hashes, size_t *nh, FILE *lines)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "%s %s", sift_tok, args);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	struct sift_reader *r = sift_reader_new(fileno(p), "sift-tok");
	struct sift_header h;
	int ok = sift_read_header(r, &h) == 0;
	const msgpack_object *rec;
	int32_t *acc = NULL;
	size_t nacc = 0, cap = 0, n = 0, hcap = 0;
	*hashes = NULL;
	while (ok && sift_read(r, &rec) > 0) {
		int32_t *ids, *widx = NULL, *keep = NULL, *off = NULL;
		size_t ni, nw, nk, no;
		int64_t win = 0, nwin = 1;
		if (sift_need_i32s(r, rec, "ids", &ids, &ni) < 0) {
			ok = 0;
			break;
		}
		sift_opt_i32s(r, rec, "word_idx", &widx, &nw);
		sift_opt_i32s(r, rec, "keep", &keep, &nk);
		sift_opt_i32s(r, rec, "offsets", &off, &no);
		sift_opt_int(r, rec, "win", &win);
		sift_opt_int(r, rec, "nwin", &nwin);
		if (lines) {
			for (size_t i = 0; i < ni; i++)
				fprintf(lines, i ? " %d" : "%d", ids[i]);
			fputs(" |", lines);
			for (size_t i = 0; off && i < ni; i++)
				fprintf(lines, " %d,%d", off[2 * i], off[2 * i + 1]);
			fputc('\n', lines);
		}
		if (cap < nacc + ni + 2)
			acc = realloc(acc, (cap = 2 * (nacc + ni + 2)) * sizeof *acc);
		if (widx && keep) {
			if (win == 0)
				acc[nacc++] = ids[0];
			for (size_t i = 0; i < ni; i++)
				if (widx[i] >= keep[0] && widx[i] < keep[1])
					acc[nacc++] = ids[i];
			if (win == nwin - 1)
				acc[nacc++] = ids[ni - 1];
		} else {
			memcpy(acc + nacc, ids, ni * sizeof *ids);
			nacc += ni;
		}
		if (win == nwin - 1) {
			if (n == hcap)
				*hashes = realloc(*hashes, (hcap = hcap * 2 + 1024) * sizeof **hashes);
			(*hashes)[n++] = fnv_ids(acc, nacc);
			nacc = 0;
		}
		free(ids);
		free(widx);
		free(keep);
		free(off);
	}
	free(acc);
	sift_reader_free(r);
	if (ok)
		sift_header_free(&h);
	int st = pclose(p);
	*nh = n;
	return ok && st == 0 ? 0 : -1;
}

/* the data sets of cases (cases.tsv, or mlm-cases.tsv of make_mlm_fixtures.py) */
static void test_datasets(const char *cases)
{
	const char *data = getenv("SIFT_DATA") ? getenv("SIFT_DATA") : "../shared/data";
	char cpath[256];
	snprintf(cpath, sizeof cpath, "%s/%s", FIX, cases);
	FILE *f = fopen(cpath, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char line[2048];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *name = strtok(line, "\t"), *file = strtok(NULL, "\t");
		char *vocab = strtok(NULL, "\t"), *opts = strtok(NULL, "\t");
		char path[4096], args[8192];
		snprintf(path, sizeof path, "%s/%s", data, file);
		struct stat st;
		if (stat(path, &st) != 0) {
			const char *strict = getenv("SIFT_TEST_STRICT");
			printf("test-tok: skip %s: %s not found\n", name, path);
			if (strict && strcmp(strict, "1") == 0)
				CHECK(!"data missing");
			continue;
		}
		snprintf(args, sizeof args, "-m %s/%s %s '%s'", FIX, vocab, opts, path);
		uint64_t *got;
		size_t ng;
		CHECK(run_tok(args, &got, &ng, NULL) == 0);
		snprintf(path, sizeof path, "%s/%s.hashes", FIX, name);
		FILE *hf = fopen(path, "r");
		CHECK(hf != NULL);
		size_t i = 0, bad = 0;
		unsigned long long want;
		while (hf && fscanf(hf, "%llx", &want) == 1) {
			if (i >= ng || got[i] != want) {
				if (bad++ < 3)
					fprintf(stderr, "test-tok: %s: example %zu differs from HF\n", name, i);
			}
			i++;
		}
		if (hf)
			fclose(hf);
		if (i != ng)
			fprintf(stderr, "test-tok: %s: %zu examples, HF %zu\n", name, ng, i);
		CHECK_EQ_INT(ng, i);
		CHECK_EQ_INT(bad, 0);
		printf("test-tok: %s: %zu examples, %zu differ\n", name, i, bad);
		free(got);
	}
	fclose(f);
}

/* full ids and offsets of the hard cases */
static void test_hard(const char *vocab)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	const char *files[] = { FIX "/hard.jsonl", FIX "/hard-pair.jsonl" };
	for (int i = 0; i < 2; i++) {
		char args[1024];
		uint64_t *h;
		size_t nh;
		snprintf(args, sizeof args, "-m %s/%s -f jsonl %s 2>/dev/null", FIX, vocab, files[i]);
		CHECK(run_tok(args, &h, &nh, m) == 0);
		free(h);
	}
	fclose(m);
	char path[256];
	snprintf(path, sizeof path, "%s/hard.%s.ids", FIX, vocab);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	char *want = NULL;
	size_t wcap = 0;
	const char *got = buf;
	int n = 0;
	ssize_t k;
	while (f && (k = getline(&want, &wcap, f)) > 0) {
		n++;
		const char *e = strchr(got, '\n');
		size_t gl = e ? (size_t)(e - got + 1) : strlen(got);
		if (gl != (size_t)k || memcmp(got, want, k) != 0) {
			fprintf(stderr, "test-tok: hard %s line %d:\n  sift %.*s\n  HF   %.*s\n",
				vocab, n, gl > 400 ? 400 : (int)gl - 1, got, k > 400 ? 400 : (int)k - 1, want);
			CHECK(!"hard case differs");
		} else {
			CHECK(1);
		}
		got += gl;
	}
	CHECK(*got == 0);
	CHECK(n > 20);
	free(want);
	free(buf);
	if (f)
		fclose(f);
}

static void test_wordpiece(void)
{
	char *v[] = { "[UNK]", "un", "##aff", "##able", "a", "##b", "##ff", "aff", "ab" };
	struct sift_wordpiece *wp = sift_wordpiece_new(v, 9, 0, 5);
	int32_t ids[8], ends[8];
	int n = sift_wordpiece_word(wp, "unaffable", 9, 9, ids, ends, 8);
	CHECK_EQ_INT(n, 1);	/* 9 chars > 5: [UNK] */
	CHECK_EQ_INT(ids[0], 0);
	n = sift_wordpiece_word(wp, "abff", 4, 4, ids, ends, 8);
	CHECK_EQ_INT(n, 2);	/* longest first: "ab" then "##ff" */
	CHECK_EQ_INT(ids[0], 8);
	CHECK_EQ_INT(ids[1], 6);
	CHECK_EQ_INT(ends[0], 2);
	n = sift_wordpiece_word(wp, "abx", 3, 3, ids, ends, 8);
	CHECK_EQ_INT(n, 1);	/* no piece for "x": the whole word is [UNK] */
	CHECK_EQ_INT(ids[0], 0);
	CHECK_EQ_INT(sift_wordpiece_lookup(wp, "aff", 3), 7);
	CHECK_EQ_INT(sift_wordpiece_lookup(wp, "af", 2), -1);
	sift_wordpiece_free(wp);
}

static void test_basictok(void)
{
	struct sift_basictok bt = { 1, 1, 1 };
	struct sift_bwords o = { 0 };
	const char s[] = "H\xC3\xA9llo,\0W\xE4\xB8\xAD!";	/* "Héllo,\0W中!" */
	long k = sift_basictok(&bt, s, sizeof s - 1, 0, &o, NULL);
	CHECK_EQ_INT(k, 10);
	CHECK_EQ_INT(o.n, 5);	/* hello , w 中 ! */
	CHECK(o.n == 5 && memcmp(o.buf + o.w[0].off, "hello", 5) == 0);
	CHECK(o.n == 5 && o.src[o.w[2].off] == 7);	/* "w" after the dropped NUL */
	size_t bad = 0;
	sift_bwords_clear(&o);
	CHECK_EQ_INT(sift_basictok(&bt, "ab\xC3(", 4, 0, &o, &bad), -1);
	CHECK_EQ_INT(bad, 2);
	sift_bwords_free(&o);
}

static void test_iob(void)
{
	char t[][8] = { "I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG", "I-LOC" };
	char *p[7];
	for (int i = 0; i < 7; i++)
		p[i] = t[i];
	sift_iob1_to_iob2(p, 7);
	CHECK_STR(p[0], "B-PER");
	CHECK_STR(p[1], "I-PER");
	CHECK_STR(p[3], "B-LOC");
	CHECK_STR(p[4], "B-LOC");
	CHECK_STR(p[5], "B-ORG");
	CHECK_STR(p[6], "B-LOC");
}

static void test_csv(void)
{
	char path[] = "/tmp/test-tok-XXXXXX";
	int fd = mkstemp(path);
	const char *csv = "\"3\",\"a \"\"quoted\"\", title\",\"two\nlines\"\n1,plain,x\n";
	CHECK(write(fd, csv, strlen(csv)) == (ssize_t)strlen(csv));
	close(fd);
	struct sift_textin_opts o = { .fmt = SIFT_FMT_CSV, .text_col = "2",
				      .text_b_col = "3", .label_col = "1" };
	struct sift_textin *t = sift_textin_open(path, &o);
	struct sift_rec r;
	CHECK_EQ_INT(sift_textin_next(t, &r), 1);
	CHECK_STR(r.label, "3");
	CHECK_STR(r.text, "a \"quoted\", title");
	CHECK_STR(r.text_b, "two\nlines");
	sift_rec_free(&r);
	CHECK_EQ_INT(sift_textin_next(t, &r), 1);
	CHECK_STR(r.text, "plain");
	CHECK_EQ_INT(r.line, 3);
	sift_rec_free(&r);
	CHECK_EQ_INT(sift_textin_next(t, &r), 0);
	sift_textin_close(t);
	unlink(path);
}

static struct sift_textin *open_text(char *path, const char *text,
				     const struct sift_textin_opts *o)
{
	int fd = mkstemp(path);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return sift_textin_open(path, o);
}

/* time and topic from JSON keys and table columns; Weibo's digits */
static void test_passthrough(void)
{
	char path[] = "/tmp/test-tok-XXXXXX";
	struct sift_textin_opts o = { .fmt = SIFT_FMT_JSONL };
	struct sift_textin *t = open_text(path,
		"{\"text\": \"a\", \"time\": 1764403200, \"topic\": \"ACME\"}\n"
		"{\"text\": \"b\", \"when\": \"t1\"}\n", &o);
	struct sift_rec r;
	CHECK_EQ_INT(sift_textin_next(t, &r), 1);
	CHECK_STR(r.time, "1764403200");
	CHECK_STR(r.topic, "ACME");
	sift_rec_free(&r);
	CHECK_EQ_INT(sift_textin_next(t, &r), 1);
	CHECK(r.time == NULL && r.topic == NULL);
	sift_rec_free(&r);
	sift_textin_close(t);
	unlink(path);

	struct sift_textin_opts c = { .fmt = SIFT_FMT_TSV, .header = 1, .text_col = "text",
				      .topic_col = "2" };
	strcpy(path, "/tmp/test-tok-XXXXXX");
	t = open_text(path, "time\tticker\ttext\nt0\tACME\thello\n", &c);
	CHECK_EQ_INT(sift_textin_next(t, &r), 1);
	CHECK_STR(r.text, "hello");
	CHECK_STR(r.time, "t0");	/* the header's "time", by default */
	CHECK_STR(r.topic, "ACME");
	sift_rec_free(&r);
	sift_textin_close(t);
	unlink(path);

	struct sift_textin_opts w = { .fmt = SIFT_FMT_CONLL, .tag_col = -1,
				      .strip_word_digits = 1 };
	strcpy(path, "/tmp/test-tok-XXXXXX");
	t = open_text(path, "\xe5\xa5\xb9" "0\tO\n310\tO\n9\tO\nab12\tO\n", &w);
	CHECK_EQ_INT(sift_textin_next(t, &r), 1);
	CHECK_EQ_INT(r.nw, 4);
	if (r.nw == 4) {
		CHECK_STR(r.words[0], "\xe5\xa5\xb9");
		CHECK_STR(r.words[1], "3");
		CHECK_STR(r.words[2], "9");
		CHECK_STR(r.words[3], "ab");
	}
	sift_rec_free(&r);
	sift_textin_close(t);
	unlink(path);
}

/* tokenizer_config.json's settings, and special tokens by name */
static void test_vocab(void)
{
	char dir[] = "/tmp/test-tok-vocab-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char p[256];
	snprintf(p, sizeof p, "%s/vocab.txt", dir);
	FILE *f = fopen(p, "w");
	fputs("<pad>\n[UNK]\n[CLS]\n[SEP]\nhello\r\n##lo\n", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
	f = fopen(p, "w");
	fputs("{\"do_lower_case\": false, \"strip_accents\": true, \"tokenize_chinese_chars\": false,"
	      " \"model_max_length\": 128, \"pad_token\": {\"content\": \"<pad>\"}}", f);
	fclose(f);
	struct sift_vocab v;
	char err[256];
	CHECK_EQ_INT(sift_vocab_load(&v, dir, err, sizeof err), 0);
	CHECK_EQ_INT(v.n, 6);
	CHECK_STR(v.tok[4], "hello");	/* CRLF vocabularies */
	CHECK_EQ_INT(v.lower, 0);
	CHECK_EQ_INT(v.strip_accents, 1);
	CHECK_EQ_INT(v.chinese, 0);
	CHECK_EQ_INT(v.max_len, 128);
	CHECK_EQ_INT(v.pad, 0);
	CHECK_EQ_INT(v.cls, 2);
	CHECK_EQ_INT(v.mask, -1);
	char *toks[] = { "<pad>", "[UNK]", "[CLS]", "[SEP]", "hello", "##lo" };
	CHECK(v.hash == sift_vocab_hash(toks, 6));
	sift_vocab_free(&v);
	/* transformers' int(1e30) for no maximum, and numbers past a
	 * double's range, are no maximum: 512 without a config.json */
	const char *big[] = { "1000000000000000019884624838656", "1e400", "-1e999",
			      "99999999999999999999999999999999999999999999999999"
			      "99999999999999999999999999999999999999999999999999"
			      "99999999999999999999999999999999999999999999999999"
			      "99999999999999999999999999999999999999999999999999"
			      "99999999999999999999999999999999999999999999999999"
			      "99999999999999999999999999999999999999999999999999"
			      "99999999999999999999999999999999999999999999999999" };
	for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
		f = fopen(p, "w");
		fprintf(f, "{\"model_max_length\": %s, \"do_lower_case\": false}", big[i]);
		fclose(f);
		CHECK_EQ_INT(sift_vocab_load(&v, dir, err, sizeof err), 0);
		CHECK_EQ_INT(v.max_len, 512);
		CHECK_EQ_INT(v.lower, 0);
		sift_vocab_free(&v);
	}
	unlink(p);
	snprintf(p, sizeof p, "%s/vocab.txt", dir);
	unlink(p);
	CHECK_EQ_INT(sift_vocab_load(&v, dir, err, sizeof err), -1);
	rmdir(dir);
}

/* the texts of hard.jsonl ('[' made '(': no special tokens), joined by
 * sep, over and over to at least n bytes */
static char *hard_text(size_t n, const char *sep)
{
	FILE *f = fopen(FIX "/hard.jsonl", "r");
	CHECK(f != NULL);
	char *t = NULL, *line = NULL;
	size_t len = 0, lc = 0;
	while (f && len < n) {
		ssize_t k = getline(&line, &lc, f);
		if (k < 0) {
			rewind(f);
			continue;
		}
		json_t *j = json_loads(line[0] == '\xef' ? line + 3 : line, 0, NULL);
		const char *s = json_string_value(json_object_get(j, "text"));
		if (!s)
			s = "";
		size_t sl = strlen(s), pl = strlen(sep);
		t = realloc(t, len + sl + pl + 1);
		memcpy(t + len, s, sl);
		memcpy(t + len + sl, sep, pl);
		len += sl + pl;
		json_decref(j);
	}
	for (size_t i = 0; i < len; i++)
		if (t[i] == '[')
			t[i] = '(';
	if (t)
		t[len] = 0;
	free(line);
	if (f)
		fclose(f);
	return t;
}

/* a text longer than a piece tokenizes as it does in one go: sift_encode
 * against the basic tokenizer and WordPiece over the whole text */
static void test_long_text(struct sift_tokenizer *tk)
{
	/* hard cases side by side, a run of CJK without blanks, a word
	 * longer than a piece ([UNK]), punctuation only */
	size_t part = 200000;
	char *a = hard_text(part, " "), *b = hard_text(part, "");
	char *s = malloc(5 * part + 64);
	size_t n = 0;
	memcpy(s + n, a, strlen(a)), n += strlen(a);
	for (int i = 0; n < 2 * part; i++)
		n += (size_t)sprintf(s + n, "%s", i % 2 ? "\xe6\x88\x91\xe7\x88\xb1\xe3\x80\x82" : "\xe5\x8c\x97");
	memcpy(s + n, b, strlen(b)), n += strlen(b);
	memset(s + n, 'a', 100000), n += 100000;
	memset(s + n, ',', 100000), n += 100000;
	s[n] = 0;
	struct sift_enc e = { 0 };
	CHECK(sift_encode(tk, s, n, 0, 0, &e) > 0);
	struct sift_bwords o = { 0 };
	long k = sift_basictok(&tk->bt, s, n, 0, &o, NULL);
	CHECK(k > 0);
	int bad = 0, j = 0;
	int32_t ids[108], ends[108];
	for (int i = 0; i < o.n && !bad; i++) {
		const struct sift_bword *w = &o.w[i];
		int m = sift_wordpiece_word(tk->wp, o.buf + w->off, w->len, (int)w->nchars,
					    ids, ends, 108);
		int32_t b0 = 0;
		for (int q = 0; q < m && !bad; q++, j++) {
			bad = j >= e.n || e.ids[j] != ids[q] || e.start[j] != o.src[w->off + b0] ||
			      e.end[j] != o.src[w->off + ends[q] - 1] + 1;
			b0 = ends[q];
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(e.n, j);
	CHECK(e.n > 100000);
	sift_bwords_free(&o);
	sift_enc_free(&e);
	free(a);
	free(b);
	free(s);
}

/* a long text for a class keeps what the truncation needs: its scratch
 * memory stays far below the text's size */
static void test_long_cls(struct sift_tokenizer *tk)
{
	char *s = hard_text(4 << 20, " ");
	struct sift_header h;
	sift_header_init(&h, "examples", "cls", "test-tok");
	FILE *null = fopen("/dev/null", "w");
	struct sift_writer w;
	CHECK_EQ_INT(sift_writer_init(&w, null, "null", 1), 0);
	struct sift_tokex x;
	sift_tokex_init(&x, tk, SIFT_TASK_CLS, &h);
	CHECK_EQ_INT(sift_tokex_cls(&x, &w, "-:1", s, NULL, -1), 0);
	CHECK_EQ_INT(x.ntrunc, 1);
	CHECK(x.e.cap <= 1024);
	CHECK(tk->bw.cap <= 1 << 20);
	CHECK_EQ_INT(sift_tokex_cls(&x, &w, "-:2", "short", s, -1), 0);
	CHECK_EQ_INT(x.ntrunc, 2);
	CHECK(x.e.cap <= 1024 && x.e2.cap <= 1024);
	CHECK(tk->bw.cap <= 1 << 20);
	sift_tokex_free(&x);
	sift_writer_close(&w);
	sift_writer_free(&w);
	fclose(null);
	sift_header_free(&h);
	free(s);
}

static void test_long(void)
{
	struct sift_tokenizer tk;
	char err[512];
	CHECK_EQ_INT(sift_tokenizer_open(&tk, FIX "/minilm", err, sizeof err), 0);
	test_long_text(&tk);
	test_long_cls(&tk);
	sift_tokenizer_close(&tk);
}

int main(int argc, char **argv)
{
	(void)argc;
	char *d = strdup(argv[0]);
	snprintf(sift_tok, sizeof sift_tok, "%s/../sift-tok", dirname(d));
	free(d);
	sift_setprog("test-tok");
	if (access(sift_tok, X_OK) != 0)
		fprintf(stderr, "test-tok: %s not built (make all): its tests fail\n", sift_tok);
	test_wordpiece();
	test_vocab();
	test_basictok();
	test_iob();
	test_csv();
	test_long();
	test_passthrough();
	test_unicode();
	test_hard("minilm");
	test_hard("cased");
	test_datasets("cases.tsv");
	test_datasets("mlm-cases.tsv");
	return check_done("test-tok");
}
