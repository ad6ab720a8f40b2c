/* msgjson.h: msgpack objects to jansson values and back, typed arrays included. */
#ifndef SIFT_MSGJSON_H
#define SIFT_MSGJSON_H

#include <jansson.h>
#include <msgpack.h>

#include "stream.h"

/* x as JSON: a real, or the string "NaN", "Infinity" or "-Infinity" */
json_t *sift_json_real(double x);
/* a new reference; typed arrays become plain JSON arrays of numbers */
json_t *sift_msg_to_json(const msgpack_object *o);
/* packs v; a non-empty JSON array of numbers becomes a typed array (i32
 * when every element is an integer that fits, else f32) */
void sift_json_to_msg(msgpack_packer *pk, const json_t *v);

/* prints the stream read from fd as JSON lines on stdout, its header
 * only when first->version is 0 (then *first is set), else checking that
 * it agrees with *first; peeked holds bytes already taken from fd;
 * live: flush stdout after each line.  0, or -1 after a diagnostic. */
int sift_stream_to_json(int fd, const char *name, struct sift_header *first,
			const void *peeked, size_t npeeked, int precision, int live);
/* writes JSON lines read from in as stream records through w, counting
 * them in *nrec; the first record of all must be a header.  peeked, when
 * not -1, is a byte already taken from in; live: flush w after each
 * record.  0, or -1 after a diagnostic. */
int sift_json_to_stream(FILE *in, const char *name, struct sift_writer *w,
			long *nrec, int peeked, int live);

#endif
