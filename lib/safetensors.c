/* safetensors.c: an mmap reader (fp32, fp16, bf16 to fp32) and an fp32 writer of safetensors files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "modelfile.h"	/* defines: sift_model_open */
#include "safetensors.h"

static size_t dtype_size(const char *s)
{
	if (!strcmp(s, "F64") || !strcmp(s, "I64") || !strcmp(s, "U64"))
		return 8;
	if (!strcmp(s, "F32") || !strcmp(s, "I32") || !strcmp(s, "U32"))
		return 4;
	if (!strcmp(s, "F16") || !strcmp(s, "BF16") || !strcmp(s, "I16") ||
	    !strcmp(s, "U16"))
		return 2;
	if (!strcmp(s, "I8") || !strcmp(s, "U8") || !strcmp(s, "BOOL") ||
	    !strcmp(s, "F8_E4M3") || !strcmp(s, "F8_E5M2"))
		return 1;
	return 0;
}

void sift_st_close(struct sift_st_file *f)
{
	for (int i = 0; i < f->ntensors; i++)
		free(f->t[i].name);
	free(f->t);
	if (f->map)
		munmap(f->map, f->size);
	memset(f, 0, sizeof *f);
}

int sift_st_open(struct sift_st_file *f, const char *path, char *err,
		 size_t errlen)
{
	memset(f, 0, sizeof *f);
	int fd = sift_model_open(path, err, errlen);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_size < 8) {
		snprintf(err, errlen, "%s: not a safetensors file (too short)",
			 path);
		close(fd);
		return -1;
	}
	f->size = (size_t)st.st_size;
	f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	const unsigned char *p = f->map;
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | p[i];
	if (hlen > f->size - 8) {
		snprintf(err, errlen,
			 "%s: not a safetensors file (header length %llu)",
			 path, (unsigned long long)hlen);
		goto fail;
	}
	json_error_t je;
	json_t *root = json_loadb((const char *)p + 8, hlen, 0, &je);
	if (!root || !json_is_object(root)) {
		snprintf(err, errlen, "%s: bad header: %s", path,
			 root ? "not an object" : je.text);
		json_decref(root);
		goto fail;
	}
	const unsigned char *data = p + 8 + hlen;
	size_t dlen = f->size - 8 - hlen;
	f->t = calloc(json_object_size(root) + 1, sizeof *f->t);
	if (!f->t) {
		snprintf(err, errlen, "%s: out of memory", path);
		json_decref(root);
		goto fail;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "__metadata__"))
			continue;
		struct sift_st_tensor *t = &f->t[f->ntensors];
		json_t *dt = json_object_get(v, "dtype");
		json_t *sh = json_object_get(v, "shape");
		json_t *off = json_object_get(v, "data_offsets");
		if (!json_is_string(dt) || !json_is_array(sh) ||
		    !json_is_array(off) || json_array_size(off) != 2 ||
		    json_array_size(sh) > 8) {
			snprintf(err, errlen, "%s: tensor %s: bad header entry",
				 path, key);
			json_decref(root);
			goto fail;
		}
		t->name = strdup(key);
		f->ntensors++;
		snprintf(t->dtype_name, sizeof t->dtype_name, "%s",
			 json_string_value(dt));
		t->dtype = !strcmp(t->dtype_name, "F32") ? SIFT_ST_F32 :
			!strcmp(t->dtype_name, "F16") ? SIFT_ST_F16 :
			!strcmp(t->dtype_name, "BF16") ? SIFT_ST_BF16 :
			SIFT_ST_OTHER;
		t->ndim = (int)json_array_size(sh);
		t->nelem = 1;
		int bad = 0;
		for (int d = 0; d < t->ndim; d++) {
			json_int_t n = json_integer_value(json_array_get(sh, d));
			t->shape[d] = n;
			/* a count, and nelem times an element (8 bytes at
			 * most) fits: else a wrapped product could match the
			 * offsets */
			if (n < 0 || (n && t->nelem > SIZE_MAX / 8 / (size_t)n))
				bad = 1;
			else
				t->nelem *= (size_t)n;
		}
		if (bad) {
			snprintf(err, errlen, "%s: tensor %s: bad shape", path, key);
			json_decref(root);
			goto fail;
		}
		json_int_t a = json_integer_value(json_array_get(off, 0));
		json_int_t b = json_integer_value(json_array_get(off, 1));
		size_t es = dtype_size(t->dtype_name);
		if (!t->name || a < 0 || b < a || (size_t)b > dlen ||
		    (es && (size_t)(b - a) != t->nelem * es)) {
			snprintf(err, errlen,
				 "%s: tensor %s: data offsets out of range",
				 path, key);
			json_decref(root);
			goto fail;
		}
		t->data = data + a;
		t->nbytes = (size_t)(b - a);
	}
	json_decref(root);
	return 0;
fail:
	sift_st_close(f);
	return -1;
}

const struct sift_st_tensor *sift_st_find(const struct sift_st_file *f,
					  const char *name)
{
	for (int i = 0; i < f->ntensors; i++)
		if (!strcmp(f->t[i].name, name))
			return &f->t[i];
	return NULL;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
	if (e == 0) {
		if (m == 0) {
			bits = sign;
		} else {	/* subnormal: normalise */
			e = 127 - 15 + 1;
			while (!(m & 0x400)) {
				m <<= 1;
				e--;
			}
			m &= 0x3ff;
			bits = sign | e << 23 | m << 13;
		}
	} else if (e == 31) {
		bits = sign | 0x7f800000u | m << 13;
	} else {
		bits = sign | (e + 127 - 15) << 23 | m << 13;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

int sift_st_to_f32(const struct sift_st_tensor *t, float *out)
{
	const unsigned char *d = t->data;
	switch (t->dtype) {
	case SIFT_ST_F32:
		memcpy(out, d, t->nelem * 4);	/* little-endian hosts */
		return 0;
	case SIFT_ST_F16:
		for (size_t i = 0; i < t->nelem; i++)
			out[i] = half_to_float((uint16_t)(d[2 * i] |
							  d[2 * i + 1] << 8));
		return 0;
	case SIFT_ST_BF16:
		for (size_t i = 0; i < t->nelem; i++) {
			uint32_t bits = (uint32_t)(d[2 * i] | d[2 * i + 1] << 8)
				<< 16;
			memcpy(&out[i], &bits, 4);
		}
		return 0;
	case SIFT_ST_OTHER:
		break;
	}
	return -1;
}

int sift_st_write(const char *path, const struct sift_st_out *t, int n,
		  char *err, size_t errlen)
{
	json_t *root = json_object();
	json_t *meta = json_object();
	json_object_set_new(meta, "format", json_string("pt"));
	json_object_set_new(root, "__metadata__", meta);
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		size_t ne = 1;
		json_t *sh = json_array();
		for (int d = 0; d < t[i].ndim; d++) {
			json_array_append_new(sh, json_integer(t[i].shape[d]));
			ne *= (size_t)t[i].shape[d];
		}
		json_t *o = json_object();
		json_object_set_new(o, "dtype", json_string("F32"));
		json_object_set_new(o, "shape", sh);
		json_t *offs = json_array();
		json_array_append_new(offs, json_integer((json_int_t)off));
		json_array_append_new(offs,
				      json_integer((json_int_t)(off + ne * 4)));
		json_object_set_new(o, "data_offsets", offs);
		json_object_set_new(root, t[i].name, o);
		off += ne * 4;
	}
	char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!hdr) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	/* the data starts 8-byte aligned: pad the header with spaces */
	size_t hlen = strlen(hdr), padded = (hlen + 7) / 8 * 8;
	size_t tlen = strlen(path) + 5;
	char *tmp = malloc(tlen);
	if (!tmp) {
		free(hdr);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(tmp, tlen, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(hdr);
		free(tmp);
		return -1;
	}
	unsigned char len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
	fwrite(len8, 1, 8, f);
	fwrite(hdr, 1, hlen, f);
	for (size_t i = hlen; i < padded; i++)
		fputc(' ', f);
	free(hdr);
	for (int i = 0; i < n; i++) {
		size_t ne = 1;
		for (int d = 0; d < t[i].ndim; d++)
			ne *= (size_t)t[i].shape[d];
		fwrite(t[i].data, 4, ne, f);
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "%s: %s", tmp,
			 strerror(errno ? errno : EIO));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}
