/* modelfile.h: opens a model directory's files, refusing FIFOs and other non-regular files. */
#ifndef SIFT_MODELFILE_H
#define SIFT_MODELFILE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Every file of a model or checkpoint directory (config.json,
 * model.safetensors, vocab.txt, tokenizer.json, train_state.bin, ...)
 * is opened through these.  A FIFO, device or socket is refused at once
 * (the open never waits for a writer), a directory too, with a message
 * "path: not a regular file (a FIFO)" in err and errno EINVAL (EISDIR
 * for a directory).  Any other failure is "path: strerror" with errno
 * kept, so a caller can treat ENOENT as "absent".
 */

/* a read-only descriptor, or -1 */
int sift_model_open(const char *path, char *err, size_t errlen);
/* the same as a stdio stream, or NULL */
FILE *sift_model_fopen(const char *path, char *err, size_t errlen);
/* the file parsed as JSON, or NULL: a parse error is "path:line: text" */
json_t *sift_model_json(const char *path, char *err, size_t errlen);

#endif
