/* msgjson.h: msgpack objects to jansson values and back, typed arrays included. */
#ifndef SIFT_MSGJSON_H
#define SIFT_MSGJSON_H

#include <jansson.h>
#include <msgpack.h>

/* a new reference; typed arrays become plain JSON arrays of numbers */
json_t *sift_msg_to_json(const msgpack_object *o);
/* packs v; a non-empty JSON array of numbers becomes a typed array (i32
 * when every element is an integer that fits, else f32) */
void sift_json_to_msg(msgpack_packer *pk, const json_t *v);

#endif
