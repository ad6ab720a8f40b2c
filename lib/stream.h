/* stream.h: the sift stream, a header map then record maps, in msgpack. */
#ifndef SIFT_STREAM_H
#define SIFT_STREAM_H

#include <signal.h>	/* defines: sig_atomic_t */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <msgpack.h>

#include "prog.h"	/* defines: exit statuses, sift_warn, sift_x* allocators, SIFT_VERSION */

/*
 * The format is specified in man/man5/sift-stream.5; this is its C side.
 *
 * A stream is a sequence of msgpack maps.  The first is a header (it has
 * the key "sift", the format version).  Records follow.  A header that
 * appears again later (cat a b | ...) must agree with the first one on
 * kind, task, labels and vocabulary; it is then skipped.
 *
 * Numeric arrays travel as typed arrays: a msgpack ext whose type is a
 * sift_dtype and whose payload is the elements, little-endian, packed.
 * Readers also accept a plain msgpack array of numbers in their place
 * (hand-written JSON turned into a stream by sift-cat).
 *
 * Kinds and their record keys (T = tokens of an example, B = examples of
 * a batch, W = words of a sentence, L = number of labels):
 *
 *   examples     one tokenized example
 *     header extras: pad_id (int, the [PAD] token id, which sift-batch
 *     pads ids with; 0 when absent)
 *     id        int     0-based index of the example in its stream
 *     src       str     "file:line" it came from
 *     ids       i32[T]  token ids, [CLS] ... [SEP] (... [SEP])
 *     type_ids  i32[T]  optional, zeros when absent
 *     offsets   i32[2T] optional, start,end code point offsets into text
 *                       (word input: the words joined by one space); -1,-1
 *                       for special tokens
 *     ner:  words    [str] W words of the sentence (of this window)
 *           word_idx i32[T] word of each token (index into words), -1
 *                       for special tokens
 *           labels   i32[T] optional gold label id per token, -100 where
 *                       no loss is taken
 *           doc, win, nwin  int  a sentence too long for the model is split
 *                       into nwin overlapping windows win=0..nwin-1 of the
 *                       same doc (0-based sentence index)
 *           word0    int     index in the sentence of words[0]
 *           keep     i32[2]  [from,to) words (indices into words) whose
 *                       predictions this window owns; the keep ranges of
 *                       the windows of one doc partition the sentence
 *           gold     [str]   optional gold tag per word (as in the input)
 *     cls/pair: text str, text_b str (pair), label int (optional gold)
 *     any task: time str, topic str: optional, passed through to predictions
 *
 *   batches      one padded batch
 *     header extras: total (int, batch records in the whole stream, -1 if
 *     unknown), epochs (int), batch_size (int), seed (int)
 *     B, T      int
 *     ids       i32[B*T]  row-major, padded with the [PAD] id
 *     type_ids  i32[B*T]
 *     mask      u8[B*T]   1 for real tokens, 0 for padding
 *     labels    i32[B*T] (ner, -100 ignored) or i32[B] (cls/pair); optional
 *     epoch     int       0-based
 *     ex        [map]     per example: the example's map without ids,
 *                         type_ids, offsets, labels
 *   An epoch marker {"epoch_end": e} follows the last batch of epoch e.
 *
 *   predictions  one per input sentence or text, in input order
 *     id, src   as in examples (windows stitched: one record per doc)
 *     ner:      words [str], pred [str] per word, prob f32[W], gold [str]
 *     cls/pair: text, text_b, pred str, probs f32[L], gold str (optional)
 *     time, topic passed through
 *
 *   metrics      see sift-eval(1): ner {task, scheme, mode, overall, types},
 *                cls {task, accuracy, labels, classes, micro, macro, weighted, confusion}
 *   log          see sift-train(1): step, epoch, loss, lr, grad_norm, ...
 *     header extras: total_steps (int, the optimizer steps the run will
 *     take, -1 when the batch total is unknown)
 */

#define SIFT_FORMAT 1
#define SIFT_IGNORE (-100)


enum sift_dtype {
	SIFT_I32 = 1,
	SIFT_F32 = 2,
	SIFT_U8 = 3,
};

struct sift_header {
	int version;
	char kind[16];		/* examples batches predictions metrics log */
	char task[16];		/* ner cls pair, or "" */
	int nlabels;
	char **labels;		/* nlabels strings, owned */
	int64_t vocab_size;	/* 0 when no vocabulary applies */
	char vocab_hash[17];	/* sift_vocab_hash() in hex, or "" */
	char producer[64];	/* "sift-tok 0.1" */
};


/* header helpers */
void sift_header_init(struct sift_header *h, const char *kind,
		      const char *task, const char *producer);
void sift_header_set_labels(struct sift_header *h, char **labels, int n);
void sift_header_free(struct sift_header *h);
/* what differs between two headers ("another vocabulary"), or NULL */
const char *sift_header_diff(const struct sift_header *a,
			     const struct sift_header *b);
int sift_label_index(const struct sift_header *h, const char *s, size_t len);
/* FNV-1a 64 over the vocabulary tokens in id order, each ended by '\n' */
uint64_t sift_vocab_hash(char *const *tokens, int n);

/* reading */
struct sift_reader;
/* name is used in diagnostics ("-" reads as "stdin") */
struct sift_reader *sift_reader_new(int fd, const char *name);
void sift_reader_free(struct sift_reader *r);
/* at most n bytes per read(2): the tests feed readers one byte at a time */
void sift_reader_set_readsize(struct sift_reader *r, size_t n);
/* when the input has been silent for ms milliseconds (ms > 0), call
 * fn(arg) once before waiting on; again after the next silence that
 * follows some input.  fn returns 0, or -1 to end the read with an error
 * (its diagnostic printed).  For a live input: a consumer can write out
 * what it holds while nothing comes. */
void sift_reader_on_idle(struct sift_reader *r, int ms, int (*fn)(void *),
			 void *arg);
/* a reader waiting for input gives up once *flag is nonzero (set by a
 * signal handler: the wait is a poll(2), which a signal always ends,
 * SA_RESTART or not, and which looks at the flag at least every
 * second): sift_read and sift_read_header then return -2, nothing said */
void sift_reader_stop_on(struct sift_reader *r,
			 const volatile sig_atomic_t *flag);
/* hands the reader bytes already taken from its descriptor (a peek) */
void sift_reader_prime(struct sift_reader *r, const void *buf, size_t n);
/* reads the header; 0, or -1 with a diagnostic printed (-2:
 * sift_reader_stop_on) */
int sift_read_header(struct sift_reader *r, struct sift_header *h);
/* the header as a map, for kind-specific keys; valid until free */
const msgpack_object *sift_reader_header_obj(struct sift_reader *r);
/* next record: 1, 0 at the end, -1 with a diagnostic printed (-2:
 * sift_reader_stop_on).  *rec stays valid until the next call. */
int sift_read(struct sift_reader *r, const msgpack_object **rec);
/* numbers the next record read recno + 1: for bytes that came from
 * elsewhere, such as line recno + 1 of sift-cat's JSON input */
void sift_reader_set_recno(struct sift_reader *r, long recno);
const char *sift_reader_name(const struct sift_reader *r);
/* "prog: name:recno: msg" on stderr */
void sift_rerror(const struct sift_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* record access; the need_ functions print a diagnostic naming the
 * record and the key and return -1 when the key is missing or mistyped;
 * the opt_ functions return 0 when the key is absent. */
const msgpack_object *sift_get(const msgpack_object *map, const char *key);
int sift_need_int(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, int64_t *v);
int sift_opt_int(const struct sift_reader *r, const msgpack_object *map,
		 const char *key, int64_t *v);
int sift_opt_num(const struct sift_reader *r, const msgpack_object *map,
		 const char *key, double *v);
int sift_need_str(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, const char **s, uint32_t *len);
int sift_opt_str(const struct sift_reader *r, const msgpack_object *map,
		 const char *key, const char **s, uint32_t *len);
/* numeric arrays into a fresh malloc'd buffer (never NULL on success);
 * a typed array of another dtype is converted when exact */
int sift_need_i32s(const struct sift_reader *r, const msgpack_object *map,
		   const char *key, int32_t **v, size_t *n);
int sift_opt_i32s(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, int32_t **v, size_t *n);
int sift_need_f32s(const struct sift_reader *r, const msgpack_object *map,
		   const char *key, float **v, size_t *n);
int sift_need_u8s(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, uint8_t **v, size_t *n);
/* o, a plain array of numbers or a typed array (which sift-cat -s makes
 * of a plain one), of n elements as doubles into v: 0; -1 when o is
 * neither or has another length */
int sift_nums(const msgpack_object *o, size_t n, double *v);
/* a typed array ext: its dtype and count, or -1 when o is no such thing */
int sift_typed(const msgpack_object *o, enum sift_dtype *dt, size_t *n,
	       const char **data);

/* writing: each record is packed into a buffer and written whole, so an
 * error in the middle of a record never leaves half of it downstream */
struct sift_writer {
	FILE *f;
	const char *name;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	long nrec;
	/* with a sink, each committed record goes to sink(ctx, bytes, n)
	 * instead of f; its return is sift_commit's */
	int (*sink)(void *ctx, const char *buf, size_t n);
	void *sink_ctx;
	int failed;		/* a write error was reported: the rest of
				 * the stream is dropped without another */
	int closed;		/* the reader went away (EPIPE): failed is set
				 * too, and nothing was said; the program
				 * decides what that means */
};
/* refuses a terminal (returns -1 with a diagnostic) unless force; every
 * program then exits SIFT_EXIT_USAGE (misuse, as gzip's refusal) */
int sift_writer_init(struct sift_writer *w, FILE *f, const char *name,
		     int force);
void sift_writer_free(struct sift_writer *w);
/* a writer whose records go to sink (no file, no terminal check) */
void sift_writer_init_sink(struct sift_writer *w, const char *name,
			   int (*sink)(void *ctx, const char *buf, size_t n),
			   void *ctx);
/* begins the header map with nextra more key/value pairs to come */
void sift_pack_header(struct sift_writer *w, const struct sift_header *h,
		      int nextra);
/* ends a record (header included): writes it out.  0, or -1: after a
 * write error, with its diagnostic (once a stream), or, with nothing
 * said and w->closed set, when the reader closed the pipe.  The library
 * never ends the program: the caller decides (sift_writer_status). */
int sift_commit(struct sift_writer *w);
/* commits and flushes, so that what was written reaches the reader now
 * (a live pipe); returns as sift_commit */
int sift_writer_flush(struct sift_writer *w);
/* the last flush, and its check */
int sift_writer_close(struct sift_writer *w);
/* a program's exit status for a stream that is its product: status, or
 * SIFT_EXIT_OK once the reader has gone (a normal end, as for head) */
int sift_writer_status(const struct sift_writer *w, int status);

void sift_pack_str(msgpack_packer *pk, const char *s);
void sift_pack_strn(msgpack_packer *pk, const char *s, size_t n);
/* a map entry: key k and a double or an integer */
void sift_pack_kd(msgpack_packer *pk, const char *k, double v);
void sift_pack_ki(msgpack_packer *pk, const char *k, long v);
void sift_pack_i32s(msgpack_packer *pk, const int32_t *v, size_t n);
void sift_pack_f32s(msgpack_packer *pk, const float *v, size_t n);
void sift_pack_u8s(msgpack_packer *pk, const uint8_t *v, size_t n);
/* copies o (any msgpack object) as it is */
void sift_pack_obj(msgpack_packer *pk, const msgpack_object *o);

/* checks stdout at exit the way jq does: 0, or -1 with a diagnostic */
int sift_close_stdout(void);


#endif
