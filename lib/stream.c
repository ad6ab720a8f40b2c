/* stream.c: reading and writing sift streams with msgpack-c, record by record. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack/fbuffer.h>

#include "stream.h"

/* headers */

static void copyfield(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	if (n)		/* an empty msgpack string may have a NULL ptr */
		memcpy(dst, s, n);
	dst[n] = 0;
}

void sift_header_init(struct sift_header *h, const char *kind,
		      const char *task, const char *producer)
{
	memset(h, 0, sizeof *h);
	h->version = SIFT_FORMAT;
	copyfield(h->kind, sizeof h->kind, kind, strlen(kind));
	if (task)
		copyfield(h->task, sizeof h->task, task, strlen(task));
	if (producer)
		copyfield(h->producer, sizeof h->producer, producer, strlen(producer));
}

void sift_header_set_labels(struct sift_header *h, char **labels, int n)
{
	for (int i = 0; i < h->nlabels; i++)
		free(h->labels[i]);
	free(h->labels);
	h->labels = sift_xcalloc(n, sizeof *h->labels);
	for (int i = 0; i < n; i++)
		h->labels[i] = sift_xstrdup(labels[i]);
	h->nlabels = n;
}

void sift_header_free(struct sift_header *h)
{
	for (int i = 0; i < h->nlabels; i++)
		free(h->labels[i]);
	free(h->labels);
	h->labels = NULL;
	h->nlabels = 0;
}

int sift_label_index(const struct sift_header *h, const char *s, size_t len)
{
	for (int i = 0; i < h->nlabels; i++)
		if (strlen(h->labels[i]) == len && memcmp(h->labels[i], s, len) == 0)
			return i;
	return -1;
}

uint64_t sift_vocab_hash(char *const *tokens, int n)
{
	uint64_t x = 0xcbf29ce484222325ULL;

	for (int i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)tokens[i]; *p; p++)
			x = (x ^ *p) * 0x100000001b3ULL;
		x = (x ^ '\n') * 0x100000001b3ULL;
	}
	return x;
}

/* reading */

struct sift_reader {
	int fd;
	const char *name;
	msgpack_unpacker up;
	msgpack_unpacked rec;	/* the record last returned */
	msgpack_unpacked hdr;	/* the first header, kept */
	struct sift_header h;
	int have_header;
	int eof;
	long recno;
	size_t readsize;	/* most bytes per read(2); 0 for no limit */
	int idle_ms;		/* sift_reader_on_idle: 0, none */
	int idle_done;		/* fn called since the last input */
	int (*idle_fn)(void *);
	void *idle_arg;
	const volatile sig_atomic_t *stop;	/* sift_reader_stop_on */
};

struct sift_reader *sift_reader_new(int fd, const char *name)
{
	struct sift_reader *r = sift_xcalloc(1, sizeof *r);

	r->fd = fd;
	r->name = (!name || strcmp(name, "-") == 0) ? "stdin" : name;
	if (!msgpack_unpacker_init(&r->up, 1 << 16))
		sift_oom(1 << 16);
	msgpack_unpacked_init(&r->rec);
	msgpack_unpacked_init(&r->hdr);
	return r;
}

void sift_reader_free(struct sift_reader *r)
{
	if (!r)
		return;
	msgpack_unpacked_destroy(&r->rec);
	msgpack_unpacked_destroy(&r->hdr);
	msgpack_unpacker_destroy(&r->up);
	sift_header_free(&r->h);
	free(r);
}

void sift_reader_on_idle(struct sift_reader *r, int ms, int (*fn)(void *),
			 void *arg)
{
	r->idle_ms = fn ? ms : 0;
	r->idle_fn = fn;
	r->idle_arg = arg;
	r->idle_done = 0;
}

void sift_reader_stop_on(struct sift_reader *r,
			 const volatile sig_atomic_t *flag)
{
	r->stop = flag;
}

void sift_reader_set_readsize(struct sift_reader *r, size_t n)
{
	r->readsize = n;
}

void sift_reader_prime(struct sift_reader *r, const void *buf, size_t n)
{
	if (msgpack_unpacker_buffer_capacity(&r->up) < n &&
	    !msgpack_unpacker_reserve_buffer(&r->up, n))
		sift_oom(n);
	memcpy(msgpack_unpacker_buffer(&r->up), buf, n);
	msgpack_unpacker_buffer_consumed(&r->up, n);
}

void sift_reader_set_recno(struct sift_reader *r, long recno)
{
	r->recno = recno;
}

const char *sift_reader_name(const struct sift_reader *r)
{
	return r->name;
}

void sift_rerror(const struct sift_reader *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%ld: ", sift_prog, r->name, r->recno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* the next msgpack object from the input into *u: 1, 0 at a clean end,
 * -1 after a diagnostic */
static int next_object(struct sift_reader *r, msgpack_unpacked *u)
{
	for (;;) {
		msgpack_unpack_return ret = msgpack_unpacker_next(&r->up, u);
		if (ret == MSGPACK_UNPACK_SUCCESS) {
			r->recno++;
			return 1;
		}
		if (ret == MSGPACK_UNPACK_PARSE_ERROR) {
			r->recno++;
			sift_rerror(r, "malformed msgpack");
			return -1;
		}
		if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
			r->recno++;
			sift_rerror(r, "out of memory");
			return -1;
		}
		/* MSGPACK_UNPACK_CONTINUE: more input needed */
		if (r->eof) {
			if (msgpack_unpacker_message_size(&r->up) > 0) {
				r->recno++;
				sift_rerror(r, "truncated record");
				return -1;
			}
			return 0;
		}
		if (msgpack_unpacker_buffer_capacity(&r->up) < 4096 &&
		    !msgpack_unpacker_reserve_buffer(&r->up, 1 << 16)) {
			sift_rerror(r, "out of memory");
			return -1;
		}
		size_t want = msgpack_unpacker_buffer_capacity(&r->up);
		if (r->readsize && want > r->readsize)
			want = r->readsize;
		if (r->idle_ms > 0 && !r->idle_done) {
			struct pollfd p = { .fd = r->fd, .events = POLLIN };
			int k;
			do
				k = poll(&p, 1, r->idle_ms);
			while (k < 0 && errno == EINTR);
			if (k == 0) {
				r->idle_done = 1;
				if (r->idle_fn(r->idle_arg) < 0)
					return -1;
			}
		}
		/* wait in poll, which a signal ends; read once there is input
		 * (or an end, or an error, which read reports) */
		for (int k = 0; r->stop && k <= 0;) {
			if (*r->stop)
				return -2;
			struct pollfd p = { .fd = r->fd, .events = POLLIN };
			k = poll(&p, 1, 1000);
			if (k < 0 && errno != EINTR)
				break;
		}
		ssize_t n;
		do
			n = read(r->fd, msgpack_unpacker_buffer(&r->up), want);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			sift_warn("%s: %s", r->name, strerror(errno));
			return -1;
		}
		if (n == 0)
			r->eof = 1;
		else {
			msgpack_unpacker_buffer_consumed(&r->up, (size_t)n);
			r->idle_done = 0;
		}
	}
}

const msgpack_object *sift_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == klen &&
		    memcmp(kv->key.via.str.ptr, key, klen) == 0)
			return &kv->val;
	}
	return NULL;
}

static int is_header(const msgpack_object *o)
{
	return sift_get(o, "sift") != NULL;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* parses a header map into h; -1 after a diagnostic */
static int parse_header(struct sift_reader *r, const msgpack_object *o,
			struct sift_header *h)
{
	int64_t v;
	const char *s;
	uint32_t n;

	memset(h, 0, sizeof *h);
	if (sift_need_int(r, o, "sift", &v) < 0)
		return -1;
	if (v != SIFT_FORMAT) {
		sift_rerror(r, "unknown stream format version %lld (this is version %d)",
			    (long long)v, SIFT_FORMAT);
		return -1;
	}
	h->version = (int)v;
	if (sift_need_str(r, o, "kind", &s, &n) < 0)
		return -1;
	copyfield(h->kind, sizeof h->kind, s, n);
	if (sift_opt_str(r, o, "task", &s, &n) < 0)
		return -1;
	if (s)
		copyfield(h->task, sizeof h->task, s, n);
	if (sift_opt_str(r, o, "producer", &s, &n) < 0)
		return -1;
	if (s)
		copyfield(h->producer, sizeof h->producer, s, n);
	const msgpack_object *l = sift_get(o, "labels");
	if (l) {
		if (l->type != MSGPACK_OBJECT_ARRAY) {
			sift_rerror(r, "key 'labels': expected an array of strings");
			return -1;
		}
		h->labels = sift_xcalloc(l->via.array.size, sizeof *h->labels);
		for (uint32_t i = 0; i < l->via.array.size; i++) {
			const msgpack_object *e = &l->via.array.ptr[i];
			if (e->type != MSGPACK_OBJECT_STR) {
				sift_header_free(h);
				sift_rerror(r, "key 'labels': expected an array of strings");
				return -1;
			}
			h->labels[i] = sift_xmalloc(e->via.str.size + 1);
			if (e->via.str.size)
				memcpy(h->labels[i], e->via.str.ptr, e->via.str.size);
			h->labels[i][e->via.str.size] = 0;
			h->nlabels++;
		}
		/* distinct, or a label id would name two labels: sorted
		 * copies side by side */
		char **srt = sift_xmalloc((h->nlabels ? h->nlabels : 1) * sizeof *srt);
		memcpy(srt, h->labels, h->nlabels * sizeof *srt);
		qsort(srt, h->nlabels, sizeof *srt, cmp_label);
		for (int i = 1; i < h->nlabels; i++)
			if (strcmp(srt[i - 1], srt[i]) == 0) {
				sift_rerror(r, "key 'labels': label '%s' twice", srt[i]);
				free(srt);
				sift_header_free(h);
				return -1;
			}
		free(srt);
	}
	const msgpack_object *vo = sift_get(o, "vocab");
	if (vo) {
		if (vo->type != MSGPACK_OBJECT_MAP ||
		    sift_need_int(r, vo, "size", &h->vocab_size) < 0 ||
		    sift_need_str(r, vo, "hash", &s, &n) < 0) {
			sift_header_free(h);
			if (vo->type != MSGPACK_OBJECT_MAP)
				sift_rerror(r, "key 'vocab': expected a map");
			return -1;
		}
		copyfield(h->vocab_hash, sizeof h->vocab_hash, s, n);
	}
	return 0;
}

const char *sift_header_diff(const struct sift_header *a,
			       const struct sift_header *b)
{
	if (strcmp(a->kind, b->kind))
		return "another kind";
	if (strcmp(a->task, b->task))
		return "another task";
	if (a->vocab_size != b->vocab_size || strcmp(a->vocab_hash, b->vocab_hash))
		return "another vocabulary";
	if (a->nlabels != b->nlabels)
		return "another label set";
	for (int i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i], b->labels[i]))
			return "another label set";
	return NULL;
}

int sift_read_header(struct sift_reader *r, struct sift_header *h)
{
	int ret = next_object(r, &r->hdr);

	if (ret == 0) {
		fprintf(stderr, "%s: %s: empty stream (no header)\n", sift_prog, r->name);
		return -1;
	}
	if (ret < 0)
		return ret;
	if (r->hdr.data.type != MSGPACK_OBJECT_MAP || !is_header(&r->hdr.data)) {
		sift_rerror(r, "not a sift stream (the first record is no header)");
		return -1;
	}
	if (parse_header(r, &r->hdr.data, &r->h) < 0)
		return -1;
	r->have_header = 1;
	if (h) {
		*h = r->h;
		h->labels = NULL;
		h->nlabels = 0;
		sift_header_set_labels(h, r->h.labels, r->h.nlabels);
	}
	return 0;
}

const msgpack_object *sift_reader_header_obj(struct sift_reader *r)
{
	return r->have_header ? &r->hdr.data : NULL;
}

int sift_read(struct sift_reader *r, const msgpack_object **rec)
{
	for (;;) {
		int ret = next_object(r, &r->rec);
		if (ret <= 0)
			return ret;
		const msgpack_object *o = &r->rec.data;
		if (o->type != MSGPACK_OBJECT_MAP) {
			sift_rerror(r, "record is not a map");
			return -1;
		}
		if (is_header(o)) {
			/* a concatenated stream: its header must agree */
			struct sift_header h2;
			if (parse_header(r, o, &h2) < 0)
				return -1;
			const char *d = r->have_header ? sift_header_diff(&r->h, &h2) : NULL;
			sift_header_free(&h2);
			if (d) {
				sift_rerror(r, "concatenated stream has %s than the first", d);
				return -1;
			}
			continue;
		}
		*rec = o;
		return 1;
	}
}

/* record access */

static const char *type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "a number";
	case MSGPACK_OBJECT_STR: return "a string";
	case MSGPACK_OBJECT_ARRAY: return "an array";
	case MSGPACK_OBJECT_MAP: return "a map";
	case MSGPACK_OBJECT_BIN: return "binary";
	case MSGPACK_OBJECT_EXT: return "an extension";
	}
	return "unknown";
}

static int missing(const struct sift_reader *r, const char *key)
{
	if (r)
		sift_rerror(r, "missing key '%s'", key);
	return -1;
}

static int mistyped(const struct sift_reader *r, const char *key,
		    const char *want, const msgpack_object *o)
{
	if (r)
		sift_rerror(r, "key '%s': expected %s, got %s", key, want, type_name(o));
	return -1;
}

static int as_int(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return -1;
		*v = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return 0;
	}
	return -1;
}

int sift_opt_int(const struct sift_reader *r, const msgpack_object *map,
		 const char *key, int64_t *v)
{
	const msgpack_object *o = sift_get(map, key);
	if (!o)
		return 0;
	if (as_int(o, v) < 0) {
		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return mistyped(r, key, "an integer", o);
		/* an integer, but past int64 */
		if (r)
			sift_rerror(r, "key '%s': integer %llu out of range", key,
				    (unsigned long long)o->via.u64);
		return -1;
	}
	return 1;
}

int sift_need_int(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, int64_t *v)
{
	int ret = sift_opt_int(r, map, key, v);
	return ret == 0 ? missing(r, key) : ret;
}

int sift_opt_num(const struct sift_reader *r, const msgpack_object *map,
		 const char *key, double *v)
{
	const msgpack_object *o = sift_get(map, key);
	int64_t i;

	if (!o)
		return 0;
	if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
		*v = o->via.f64;
	else if (as_int(o, &i) == 0)
		*v = (double)i;
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		*v = (double)o->via.u64;	/* past int64, still a number */
	else
		return mistyped(r, key, "a number", o);
	return 1;
}

int sift_opt_str(const struct sift_reader *r, const msgpack_object *map,
		 const char *key, const char **s, uint32_t *len)
{
	const msgpack_object *o = sift_get(map, key);

	*s = NULL;
	if (len)
		*len = 0;
	if (!o)
		return 0;
	if (o->type != MSGPACK_OBJECT_STR)
		return mistyped(r, key, "a string", o);
	*s = o->via.str.ptr;
	if (len)
		*len = o->via.str.size;
	return 1;
}

int sift_need_str(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, const char **s, uint32_t *len)
{
	int ret = sift_opt_str(r, map, key, s, len);
	return ret == 0 ? missing(r, key) : ret;
}

static size_t dtype_size(int dt)
{
	switch (dt) {
	case SIFT_I32: return 4;
	case SIFT_F32: return 4;
	case SIFT_U8: return 1;
	}
	return 0;
}

int sift_typed(const msgpack_object *o, enum sift_dtype *dt, size_t *n,
	       const char **data)
{
	if (o->type != MSGPACK_OBJECT_EXT)
		return -1;
	size_t es = dtype_size(o->via.ext.type);
	if (es == 0 || o->via.ext.size % es)
		return -1;
	*dt = (enum sift_dtype)o->via.ext.type;
	*n = o->via.ext.size / es;
	*data = o->via.ext.ptr;
	return 0;
}

/* element i of a typed array as a double (the host is little-endian:
 * the Makefile builds on x86-64 and arm64 only) */
static double typed_at(enum sift_dtype dt, const char *p, size_t i)
{
	int32_t iv;
	float fv;

	switch (dt) {
	case SIFT_I32:
		memcpy(&iv, p + 4 * i, 4);
		return iv;
	case SIFT_F32:
		memcpy(&fv, p + 4 * i, 4);
		return fv;
	case SIFT_U8:
		return (unsigned char)p[i];
	}
	return 0;
}

/* element i of a numeric array as a double: from the typed payload
 * data (of dtype dt) where there is one, else from o's i-th element;
 * -1 for an element that is not a number */
static int num_at(const msgpack_object *o, enum sift_dtype dt,
		  const char *data, size_t i, double *d)
{
	int64_t iv;
	if (data) {
		*d = typed_at(dt, data, i);
		return 0;
	}
	const msgpack_object *e = &o->via.array.ptr[i];
	if (as_int(e, &iv) == 0)
		*d = (double)iv;
	else if (e->type == MSGPACK_OBJECT_FLOAT32 || e->type == MSGPACK_OBJECT_FLOAT64)
		*d = e->via.f64;
	else
		return -1;
	return 0;
}

int sift_nums(const msgpack_object *o, size_t n, double *v)
{
	enum sift_dtype dt = SIFT_I32;
	const char *data = NULL;
	size_t cnt;
	if (sift_typed(o, &dt, &cnt, &data) == 0) {
		if (cnt != n)
			return -1;
	} else if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != n) {
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (num_at(o, dt, data, i, &v[i]) < 0)
			return -1;
	return 0;
}

/* any numeric array as doubles through cb; want decides what is exact */
enum want { WANT_I32, WANT_F32, WANT_U8 };

static int fetch_nums(const struct sift_reader *r, const msgpack_object *map,
		      const char *key, enum want want, void **out, size_t *n,
		      int required)
{
	static const char *what[] = {
		"an array of 32-bit integers", "an array of numbers",
		"an array of bytes (0-255)"
	};
	static const size_t esz[] = { 4, 4, 1 };
	const msgpack_object *o = sift_get(map, key);
	enum sift_dtype dt = SIFT_I32;
	const char *data = NULL;
	size_t cnt;

	*out = NULL;
	*n = 0;
	if (!o)
		return required ? missing(r, key) : 0;
	if (sift_typed(o, &dt, &cnt, &data) == 0) {
		if ((want == WANT_I32 && dt == SIFT_I32) ||
		    (want == WANT_F32 && dt == SIFT_F32) ||
		    (want == WANT_U8 && dt == SIFT_U8)) {
			*out = sift_xmalloc(cnt * esz[want]);
			memcpy(*out, data, cnt * esz[want]);
			*n = cnt;
			return 1;
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY) {
		cnt = o->via.array.size;
		data = NULL;
	} else {
		return mistyped(r, key, what[want], o);
	}
	char *buf = sift_xmalloc(cnt * esz[want]);
	for (size_t i = 0; i < cnt; i++) {
		double d;
		if (num_at(o, dt, data, i, &d) < 0)
			goto bad;
		if (want == WANT_I32) {
			/* the range first: casting a value outside it (or NaN)
			 * is undefined */
			if (!(d >= INT32_MIN && d <= INT32_MAX) || d != (double)(int32_t)d)
				goto bad;
			int32_t v = (int32_t)d;
			memcpy(buf + 4 * i, &v, 4);
		} else if (want == WANT_U8) {
			if (!(d >= 0 && d <= 255) || d != (double)(uint8_t)d)
				goto bad;
			buf[i] = (char)(uint8_t)d;
		} else {
			float v = (float)d;
			memcpy(buf + 4 * i, &v, 4);
		}
	}
	*out = buf;
	*n = cnt;
	return 1;
bad:
	free(buf);
	return mistyped(r, key, what[want], o);
}

int sift_opt_i32s(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, int32_t **v, size_t *n)
{
	return fetch_nums(r, map, key, WANT_I32, (void **)v, n, 0);
}

int sift_need_i32s(const struct sift_reader *r, const msgpack_object *map,
		   const char *key, int32_t **v, size_t *n)
{
	return fetch_nums(r, map, key, WANT_I32, (void **)v, n, 1);
}

int sift_need_f32s(const struct sift_reader *r, const msgpack_object *map,
		   const char *key, float **v, size_t *n)
{
	return fetch_nums(r, map, key, WANT_F32, (void **)v, n, 1);
}

int sift_need_u8s(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, uint8_t **v, size_t *n)
{
	return fetch_nums(r, map, key, WANT_U8, (void **)v, n, 1);
}

/* writing */

int sift_writer_init(struct sift_writer *w, FILE *f, const char *name,
		     int force)
{
	memset(w, 0, sizeof *w);
	w->f = f;
	w->name = name ? name : "stdout";
	if (!force && isatty(fileno(f))) {
		sift_warn("refusing to write a binary stream to a terminal "
			  "(pipe it, or use sift-cat to read it)");
		return -1;
	}
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
	return 0;
}

void sift_writer_init_sink(struct sift_writer *w, const char *name,
			   int (*sink)(void *ctx, const char *buf, size_t n),
			   void *ctx)
{
	memset(w, 0, sizeof *w);
	w->name = name;
	w->sink = sink;
	w->sink_ctx = ctx;
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
}

void sift_writer_free(struct sift_writer *w)
{
	msgpack_sbuffer_destroy(&w->sb);
}

void sift_pack_str(msgpack_packer *pk, const char *s)
{
	sift_pack_strn(pk, s, strlen(s));
}

void sift_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void sift_pack_kd(msgpack_packer *pk, const char *k, double v)
{
	sift_pack_str(pk, k);
	msgpack_pack_double(pk, v);
}

void sift_pack_ki(msgpack_packer *pk, const char *k, long v)
{
	sift_pack_str(pk, k);
	msgpack_pack_int64(pk, v);
}

void sift_pack_header(struct sift_writer *w, const struct sift_header *h,
		      int nextra)
{
	msgpack_packer *pk = &w->pk;
	/* mlm has no label set, and says so: labels [] (sift-stream(5)) */
	int wl = h->nlabels > 0 || !strcmp(h->task, "mlm");
	int n = 3 + (h->task[0] != 0) + wl + (h->vocab_size > 0);

	msgpack_pack_map(pk, n + nextra);
	sift_pack_str(pk, "sift");
	msgpack_pack_int(pk, SIFT_FORMAT);
	sift_pack_str(pk, "kind");
	sift_pack_str(pk, h->kind);
	if (h->task[0]) {
		sift_pack_str(pk, "task");
		sift_pack_str(pk, h->task);
	}
	if (wl) {
		sift_pack_str(pk, "labels");
		msgpack_pack_array(pk, h->nlabels);
		for (int i = 0; i < h->nlabels; i++)
			sift_pack_str(pk, h->labels[i]);
	}
	if (h->vocab_size > 0) {
		sift_pack_str(pk, "vocab");
		msgpack_pack_map(pk, 2);
		sift_pack_str(pk, "size");
		msgpack_pack_int64(pk, h->vocab_size);
		sift_pack_str(pk, "hash");
		sift_pack_str(pk, h->vocab_hash);
	}
	sift_pack_str(pk, "producer");
	sift_pack_str(pk, h->producer[0] ? h->producer : sift_prog);
}

static void pack_typed(msgpack_packer *pk, int dt, const void *v, size_t bytes)
{
	msgpack_pack_ext(pk, bytes, (int8_t)dt);
	msgpack_pack_ext_body(pk, v, bytes);
}

void sift_pack_i32s(msgpack_packer *pk, const int32_t *v, size_t n)
{
	pack_typed(pk, SIFT_I32, v, 4 * n);
}

void sift_pack_f32s(msgpack_packer *pk, const float *v, size_t n)
{
	pack_typed(pk, SIFT_F32, v, 4 * n);
}

void sift_pack_u8s(msgpack_packer *pk, const uint8_t *v, size_t n)
{
	pack_typed(pk, SIFT_U8, v, n);
}

void sift_pack_obj(msgpack_packer *pk, const msgpack_object *o)
{
	msgpack_pack_object(pk, *o);
}

/* set once a write error on stdout was reported, so that the checks
 * after it (the next record, the flush, sift_close_stdout) stay quiet:
 * one full disk, one message */
static int stdout_reported;
/* set once stdout's reader went away (EPIPE): a normal end, not said */
static int stdout_gone;

/* "name: write error: cause"; errno 0 is the stream's error flag without
 * a cause, said without one (never "Success") */
static void warn_write_error(const char *name)
{
	if (errno)
		sift_warn("%s: write error: %s", name, strerror(errno));
	else
		sift_warn("%s: write error", name);
}

static int write_error(struct sift_writer *w)
{
	if (errno == EPIPE) {
		/* the reader is gone: not an error of ours, and not said here;
		 * a program whose output is its product ends quietly with 0
		 * (sift_writer_status), sift-train goes on without its log */
		w->closed = w->failed = 1;
		if (w->f == stdout)
			stdout_gone = 1;
		return -1;
	}
	if (!w->failed)
		warn_write_error(w->name);
	w->failed = 1;
	if (w->f == stdout)
		stdout_reported = 1;
	return -1;
}

int sift_commit(struct sift_writer *w)
{
	if (w->failed) {
		msgpack_sbuffer_clear(&w->sb);
		return -1;
	}
	if (w->sb.size == 0)
		return 0;
	if (w->sink) {
		int rc = w->sink(w->sink_ctx, w->sb.data, w->sb.size);
		msgpack_sbuffer_clear(&w->sb);
		w->nrec++;
		return rc;
	}
	errno = 0;
	int ret = msgpack_fbuffer_write(w->f, w->sb.data, w->sb.size);
	msgpack_sbuffer_clear(&w->sb);
	w->nrec++;
	if (ret < 0 || ferror(w->f))
		return write_error(w);
	return 0;
}

int sift_writer_flush(struct sift_writer *w)
{
	if (sift_commit(w) < 0)
		return -1;
	if (!w->f)
		return 0;	/* a sink */
	errno = 0;
	if (fflush(w->f) != 0 || ferror(w->f))
		return write_error(w);
	return 0;
}

int sift_writer_status(const struct sift_writer *w, int status)
{
	return w->closed ? SIFT_EXIT_OK : status;
}

int sift_writer_close(struct sift_writer *w)
{
	return sift_writer_flush(w);
}

int sift_close_stdout(void)
{
	if (stdout_gone)
		return 0;
	errno = 0;
	int bad = fflush(stdout) != 0 || ferror(stdout);
	if (!bad) {
		errno = 0;
		bad = fclose(stdout) != 0;
	}
	if (!bad)
		return stdout_reported ? -1 : 0;
	if (errno == EPIPE)
		return 0;
	if (stdout_reported)
		return -1;
	stdout_reported = 1;
	warn_write_error("stdout");
	return -1;
}
