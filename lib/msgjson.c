/* msgjson.c: conversion between msgpack objects and JSON values for sift-cat. */
#include <errno.h>
#include <math.h>		/* defines: isnan, isinf, NAN, INFINITY */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgjson.h"
#include "stream.h"

/* JSON has no NaN or infinity: they are spelled as these strings, and
 * read back from them where a number may stand (sift-stream(5)) */
static const char nan_s[] = "NaN", inf_s[] = "Infinity", ninf_s[] = "-Infinity";

json_t *sift_json_real(double x)
{
	if (isnan(x))
		return json_string(nan_s);
	if (isinf(x))
		return json_string(x > 0 ? inf_s : ninf_s);
	return json_real(x);
}

/* 1 with *x set when v is one of the spellings of a non-finite number */
static int nonfinite_str(const json_t *v, double *x)
{
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	if (!strcmp(s, nan_s))
		*x = NAN;
	else if (!strcmp(s, inf_s))
		*x = INFINITY;
	else if (!strcmp(s, ninf_s))
		*x = -INFINITY;
	else
		return 0;
	return 1;
}

static json_t *typed_to_json(enum sift_dtype dt, size_t n, const char *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		int32_t iv;
		float fv;
		switch (dt) {
		case SIFT_I32:
			memcpy(&iv, p + 4 * i, 4);
			json_array_append_new(a, json_integer(iv));
			break;
		case SIFT_F32:
			memcpy(&fv, p + 4 * i, 4);
			json_array_append_new(a, sift_json_real(fv));
			break;
		case SIFT_U8:
			json_array_append_new(a, json_integer((unsigned char)p[i]));
			break;
		}
	}
	return a;
}

json_t *sift_msg_to_json(const msgpack_object *o)
{
	enum sift_dtype dt;
	const char *data;
	size_t n;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return json_real((double)o->via.u64);
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return sift_json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return json_stringn_nocheck(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return json_stringn_nocheck(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY: {
		json_t *a = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++)
			json_array_append_new(a, sift_msg_to_json(&o->via.array.ptr[i]));
		return a;
	}
	case MSGPACK_OBJECT_MAP: {
		json_t *m = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			char *k;
			if (kv->key.type == MSGPACK_OBJECT_STR) {
				k = sift_xmalloc(kv->key.via.str.size + 1);
				memcpy(k, kv->key.via.str.ptr, kv->key.via.str.size);
				k[kv->key.via.str.size] = 0;
			} else {
				/* JSON keys are strings: other keys are shown as JSON text */
				json_t *kj = sift_msg_to_json(&kv->key);
				k = json_dumps(kj, JSON_ENCODE_ANY | JSON_COMPACT);
				json_decref(kj);
			}
			json_object_set_new_nocheck(m, k, sift_msg_to_json(&kv->val));
			free(k);
		}
		return m;
	}
	case MSGPACK_OBJECT_EXT:
		if (sift_typed(o, &dt, &n, &data) == 0)
			return typed_to_json(dt, n, data);
		return json_null();
	}
	return json_null();
}

/* 1 when v is a non-empty array of numbers, some of them perhaps
 * spelled "NaN", "Infinity" or "-Infinity"; *ints 1 when all are int32,
 * 2 when all are integers but some do not fit in 32 bits, else 0 */
static int numeric_array(const json_t *v, int *ints)
{
	size_t i;
	json_t *e;
	double f;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	*ints = 1;
	json_array_foreach(v, i, e) {
		if (json_is_integer(e)) {
			json_int_t x = json_integer_value(e);
			if ((x < INT32_MIN || x > INT32_MAX) && *ints)
				*ints = 2;
		} else if (json_is_real(e)) {
			*ints = 0;
		} else if (nonfinite_str(e, &f)) {
			*ints = 0;
		} else {
			return 0;
		}
	}
	return 1;
}

void sift_json_to_msg(msgpack_packer *pk, const json_t *v)
{
	size_t i;
	const char *k;
	json_t *e;
	int ints;
	double x;

	switch (json_typeof(v)) {
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(v));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(v));
		break;
	case JSON_STRING:
		if (nonfinite_str(v, &x))
			msgpack_pack_double(pk, x);
		else
			sift_pack_strn(pk, json_string_value(v), json_string_length(v));
		break;
	case JSON_ARRAY:
		if (numeric_array(v, &ints) && ints != 2) {
			size_t n = json_array_size(v);
			if (ints) {
				int32_t *a = sift_xmalloc(4 * n);
				json_array_foreach(v, i, e)
					a[i] = (int32_t)json_integer_value(e);
				sift_pack_i32s(pk, a, n);
				free(a);
			} else {
				float *a = sift_xmalloc(4 * n);
				json_array_foreach(v, i, e)
					a[i] = nonfinite_str(e, &x) ? (float)x :
						(float)json_number_value(e);
				sift_pack_f32s(pk, a, n);
				free(a);
			}
			break;
		}
		/* the strings of an array of other strings are text
		 * (words, labels), whatever they spell; integers past 32
		 * bits stay integers, each as it is (a float32 would round
		 * them) */
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, e) {
			if (json_is_string(e))
				sift_pack_strn(pk, json_string_value(e),
					       json_string_length(e));
			else
				sift_json_to_msg(pk, e);
		}
		break;
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach((json_t *)v, k, e) {
			sift_pack_str(pk, k);
			sift_json_to_msg(pk, e);
		}
		break;
	}
}

int sift_stream_to_json(int fd, const char *name, struct sift_header *first,
			const void *peeked, size_t npeeked, int precision, int live)
{
	struct sift_reader *r = sift_reader_new(fd, name);
	struct sift_header h;
	const msgpack_object *rec;
	size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(precision);
	int ret, status = 0;

	sift_reader_prime(r, peeked, npeeked);
	if (sift_read_header(r, &h) < 0) {
		sift_reader_free(r);
		return -1;
	}
	if (first->version == 0) {
		*first = h;
		json_t *j = sift_msg_to_json(sift_reader_header_obj(r));
		json_dumpf(j, stdout, flags);
		putchar('\n');
		json_decref(j);
		if (live && fflush(stdout) != 0 && errno == EPIPE) {
			clearerr(stdout);
			sift_reader_free(r);
			return 0;
		}
	} else {
		const char *d = sift_header_diff(first, &h);
		sift_header_free(&h);
		if (d) {
			sift_rerror(r, "stream has %s than the first", d);
			sift_reader_free(r);
			return -1;
		}
	}
	while ((ret = sift_read(r, &rec)) > 0) {
		json_t *j = sift_msg_to_json(rec);
		json_dumpf(j, stdout, flags);
		putchar('\n');
		json_decref(j);
		if (live && fflush(stdout) != 0 && errno == EPIPE) {
			/* the reader is gone: a normal end, as when the
			 * buffer fills (sift_close_stdout stays quiet) */
			clearerr(stdout);
			break;
		}
		if (ferror(stdout))
			break;
	}
	if (ret < 0)
		status = -1;
	sift_reader_free(r);
	return status;
}

/* the first header written, kept to check the later ones against */
static char *first_hdr;
static size_t first_n;

/* the n bytes of a header on line lineno, read as every reader reads it
 * (stream.c's rules, not a copy of them): the first header, or a later
 * one that must agree with it.  0, or -1 after the reader's diagnostic */
static int check_header(const char *name, long lineno, const char *buf,
			size_t n)
{
	/* the bytes are whole in the buffer: the reader never reads fd */
	struct sift_reader *r = sift_reader_new(-1, name);
	const msgpack_object *rec;
	int rc;
	if (!first_hdr) {
		sift_reader_set_recno(r, lineno - 1);
		sift_reader_prime(r, buf, n);
		rc = sift_read_header(r, NULL);
		if (rc == 0) {
			first_hdr = sift_xmalloc(n);
			memcpy(first_hdr, buf, n);
			first_n = n;
		}
	} else {
		/* the first header, this one, and an empty map for
		 * sift_read to stop at once this one is skipped */
		sift_reader_prime(r, first_hdr, first_n);
		rc = sift_read_header(r, NULL);
		sift_reader_set_recno(r, lineno - 1);
		sift_reader_prime(r, buf, n);
		sift_reader_prime(r, "\x80", 1);
		if (rc == 0)
			rc = sift_read(r, &rec) == 1 ? 0 : -1;
	}
	sift_reader_free(r);
	return rc;
}

int sift_json_to_stream(FILE *in, const char *name, struct sift_writer *w,
			long *nrec, int peeked, int live)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int status = 0;

	while ((len = getline(&line, &cap, in)) > 0 || lineno == 0) {
		json_error_t err;
		if (lineno++ == 0 && peeked >= 0) {
			/* the byte peeked to choose the direction begins line 1 */
			if (len < 0)
				len = 0;
			if ((size_t)len + 2 > cap)
				line = sift_xrealloc(line, cap = len + 2);
			memmove(line + 1, line, len);
			line[0] = (char)peeked;
			line[++len] = 0;
		}
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		json_t *v = json_loadb(line, len, JSON_DECODE_ANY, &err);
		if (!v) {
			sift_warn("%s:%ld: invalid JSON: %s", name, lineno, err.text);
			status = -1;
			break;
		}
		if (!json_is_object(v)) {
			sift_warn("%s:%ld: expected a JSON object", name, lineno);
			json_decref(v);
			status = -1;
			break;
		}
		if (*nrec == 0 && !json_object_get(v, "sift")) {
			sift_warn("%s:%ld: the first line must be a header "
				  "(an object with the key \"sift\")", name, lineno);
			json_decref(v);
			status = -1;
			break;
		}
		size_t at = w->sb.size;
		int is_hdr = *nrec == 0 || json_object_get(v, "sift");
		sift_json_to_msg(&w->pk, v);
		json_decref(v);
		/* a header no reader would take (another version, no kind,
		 * a later one that disagrees with the first) is refused
		 * here, not written */
		if (is_hdr && check_header(name, lineno, w->sb.data + at, w->sb.size - at) < 0) {
			w->sb.size = at;
			status = -1;
			break;
		}
		(*nrec)++;
		if ((live ? sift_writer_flush(w) : sift_commit(w)) < 0) {
			status = -1;
			break;
		}
	}
	if (status == 0 && ferror(in)) {
		sift_warn("%s: %s", name, strerror(errno));
		status = -1;
	}
	free(line);
	return status;
}
