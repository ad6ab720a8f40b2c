/* vocab.c: loads a BERT vocabulary (vocab.txt or tokenizer.json) and tokenizer_config.json as Hugging Face does. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "modelfile.h"	/* defines: sift_model_fopen, sift_model_json */
#include "stream.h"	/* defines: sift_vocab_hash, sift_x* */
#include "vocab.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void add(struct sift_vocab *v, int *cap, char *s)
{
	if (v->n == *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		v->tok = sift_xrealloc(v->tok, *cap * sizeof *v->tok);
	}
	v->tok[v->n++] = s;
}

/* vocab.txt: one token a line, the line number is the id (transformers'
 * load_vocab: the line without its newline) */
static int load_txt(struct sift_vocab *v, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t k;
	int vcap = 0;
	while ((k = getline(&line, &cap, f)) >= 0) {
		if (k > 0 && line[k - 1] == '\n')
			line[--k] = 0;
		if (k > 0 && line[k - 1] == '\r')
			line[--k] = 0;
		add(v, &vcap, sift_xstrdup(line));
	}
	free(line);
	return ferror(f) ? -1 : 0;
}

/* tokenizer.json: model.vocab maps token -> id */
static int load_json(struct sift_vocab *v, const char *path, json_t **root,
		     char *err, size_t errlen)
{
	json_t *j = sift_model_json(path, err, errlen);
	if (!j)
		return -1;
	json_t *voc = json_object_get(json_object_get(j, "model"), "vocab");
	if (!json_is_object(voc)) {
		json_decref(j);
		return fail(err, errlen, "%s: no model.vocab object", path);
	}
	int n = 0;
	const char *key;
	json_t *val;
	json_object_foreach(voc, key, val) {
		json_int_t id = json_integer_value(val);
		if (!json_is_integer(val) || id < 0 || id > 10000000) {
			/* the key lives in j: into the message before j goes */
			fail(err, errlen, "%s: bad id for \"%s\"", path, key);
			json_decref(j);
			return -1;
		}
		if (id + 1 > n)
			n = (int)id + 1;
	}
	v->tok = sift_xcalloc(n, sizeof *v->tok);
	v->n = n;
	json_object_foreach(voc, key, val) {
		json_int_t id = json_integer_value(val);
		if (v->tok[id]) {	/* one of them would be lost */
			fail(err, errlen, "%s: id %lld given to \"%s\" and \"%s\"",
			     path, (long long)id, v->tok[id], key);
			json_decref(j);
			return -1;
		}
		v->tok[id] = sift_xstrdup(key);
	}
	for (int i = 0; i < n; i++)
		if (!v->tok[i]) {
			json_decref(j);
			return fail(err, errlen, "%s: no token with id %d", path, i);
		}
	*root = j;
	return 0;
}

/* tokenizer_config.json, its numbers as doubles: transformers writes
 * int(1e30) as model_max_length when none is set, past any JSON integer
 * here; a number past a double's range is read as 1e300 (both mean no
 * maximum) */
static json_t *load_config(const char *path, char *err, size_t errlen)
{
	json_error_t jerr, *je = &jerr;
	int fd = sift_model_open(path, err, errlen);
	if (fd < 0)
		return NULL;	/* errno ENOENT: there is none */
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, k;
	do {
		if (len + 4096 > cap)
			buf = sift_xrealloc(buf, cap = 2 * cap + 4096 + 8);
		len += k = fread(buf + len, 1, cap - len - 8, f);
	} while (k > 0);
	fclose(f);
	json_t *j;
	for (int tries = 0; tries < 64; tries++) {
		j = json_loadb(buf, len, JSON_DECODE_INT_AS_REAL, je);
		size_t e = (size_t)je->position, b = e;
		if (j || strncmp(je->text, "real number overflow", 20) || e > len)
			break;
		while (b > 0 && buf[b - 1] && strchr("0123456789eE+-.", buf[b - 1]))
			b--;
		if (b == e)
			break;
		/* the number ending at e made 1e300, at most 4 bytes longer */
		buf = sift_xrealloc(buf, len + 8);
		memmove(buf + b + 5, buf + e, len - e);
		memcpy(buf + b, "1e300", 5);
		len = len - (e - b) + 5;
	}
	free(buf);
	if (!j) {
		if (je->line < 1)
			snprintf(err, errlen, "%s: %s", path, je->text);
		else
			snprintf(err, errlen, "%s:%d: %s", path, je->line, je->text);
		errno = EINVAL;
	}
	return j;
}

int sift_vocab_id(const struct sift_vocab *v, const char *s)
{
	int id = -1;
	for (int i = 0; i < v->n; i++)	/* the last one wins, as in a dict */
		if (strcmp(v->tok[i], s) == 0)
			id = i;
	return id;
}

/* a special token from the config: a string or {"content": ...} */
static char *special(json_t *cfg, const char *key, const char *def)
{
	json_t *x = cfg ? json_object_get(cfg, key) : NULL;
	if (json_is_object(x))
		x = json_object_get(x, "content");
	return sift_xstrdup(json_is_string(x) ? json_string_value(x) : def);
}

static int flag(json_t *cfg, const char *key, int def)
{
	json_t *x = cfg ? json_object_get(cfg, key) : NULL;
	if (json_is_boolean(x))
		return json_is_true(x);
	return def;
}

int sift_vocab_load(struct sift_vocab *v, const char *dir, char *err,
		    size_t errlen)
{
	char path[4096];
	json_t *tj = NULL, *cfg = NULL;
	memset(v, 0, sizeof *v);

	snprintf(path, sizeof path, "%s/vocab.txt", dir);
	FILE *f = sift_model_fopen(path, err, errlen);
	if (f) {
		int r = load_txt(v, f);
		fclose(f);
		if (r < 0) {
			fail(err, errlen, "%s: %s", path, strerror(errno));
			goto bad;
		}
	} else if (errno == ENOENT) {
		snprintf(path, sizeof path, "%s/tokenizer.json", dir);
		if (access(path, R_OK) != 0)
			return fail(err, errlen, "%s: no vocab.txt or tokenizer.json", dir);
		if (load_json(v, path, &tj, err, errlen) < 0)
			goto bad;
	} else {
		return -1;	/* err says why */
	}
	if (v->n == 0) {
		json_decref(tj);
		fail(err, errlen, "%s: empty vocabulary", path);
		goto bad;
	}
	v->hash = sift_vocab_hash(v->tok, v->n);

	snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
	cfg = load_config(path, err, errlen);
	if (!cfg && errno != ENOENT) {
		json_decref(tj);
		sift_vocab_free(v);
		return -1;
	}
	v->lower = 1;
	v->strip_accents = -1;
	v->chinese = 1;
	if (!cfg && tj) {
		/* no config: the normalizer of tokenizer.json */
		json_t *nm = json_object_get(tj, "normalizer");
		v->lower = flag(nm, "lowercase", 1);
		v->chinese = flag(nm, "handle_chinese_chars", 1);
		v->strip_accents = flag(nm, "strip_accents", -1);
	}
	v->lower = flag(cfg, "do_lower_case", v->lower);
	v->chinese = flag(cfg, "tokenize_chinese_chars", v->chinese);
	v->strip_accents = flag(cfg, "strip_accents", v->strip_accents);
	/* model_max_length where it is a real bound (HF writes 1e30 for
	 * "none"), else the position table of config.json, else 512 */
	snprintf(path, sizeof path, "%s/config.json", dir);
	/* read if it can be (a tokenizer alone has none, a broken one is
	 * sift-fwd's to report), but a FIFO must not hang the open */
	int mfd = sift_model_open(path, err, errlen);
	if (mfd < 0 && errno != ENOENT) {
		json_decref(cfg);
		json_decref(tj);
		sift_vocab_free(v);
		return -1;
	}
	json_error_t je;
	json_t *mc = mfd >= 0 ? json_loadfd(mfd, 0, &je) : NULL;
	if (mfd >= 0)
		close(mfd);
	json_t *mp = mc ? json_object_get(mc, "max_position_embeddings") : NULL;
	json_int_t npos = json_is_integer(mp) ? json_integer_value(mp) : 0;
	json_t *ml = cfg ? json_object_get(cfg, "model_max_length") : NULL;
	double mlen = json_is_number(ml) ? json_number_value(ml) : 0;
	v->max_len = 512;
	if (mlen >= 1 && mlen <= 1000000)	/* 1e30 and up: no maximum */
		v->max_len = (int)mlen;
	else if (npos > 0 && npos <= 1000000)
		v->max_len = (int)npos;
	if (npos > 0 && npos < v->max_len)
		v->max_len = (int)npos;
	json_decref(mc);

	v->unk_s = special(cfg, "unk_token", "[UNK]");
	v->cls_s = special(cfg, "cls_token", "[CLS]");
	v->sep_s = special(cfg, "sep_token", "[SEP]");
	v->pad_s = special(cfg, "pad_token", "[PAD]");
	v->mask_s = special(cfg, "mask_token", "[MASK]");
	v->unk = sift_vocab_id(v, v->unk_s);
	v->cls = sift_vocab_id(v, v->cls_s);
	v->sep = sift_vocab_id(v, v->sep_s);
	v->pad = sift_vocab_id(v, v->pad_s);
	v->mask = sift_vocab_id(v, v->mask_s);
	json_decref(cfg);
	json_decref(tj);
	snprintf(path, sizeof path, "%s", dir);
	if (v->unk < 0 || v->cls < 0 || v->sep < 0) {
		fail(err, errlen, "%s: vocabulary lacks %s, %s or %s", path,
		     v->unk_s, v->cls_s, v->sep_s);
		goto bad;
	}
	return 0;
bad:
	/* a failed load leaves nothing to free */
	sift_vocab_free(v);
	return -1;
}

void sift_vocab_free(struct sift_vocab *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->tok[i]);
	free(v->tok);
	free(v->unk_s);
	free(v->cls_s);
	free(v->sep_s);
	free(v->pad_s);
	free(v->mask_s);
	memset(v, 0, sizeof *v);
}
