/* ckpt.h: atomic training checkpoints: a Hugging Face model directory plus the state a resumed run needs. */
#ifndef SIFT_CKPT_H
#define SIFT_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"

/*
 * A checkpoint is a directory OUT_DIR holding
 *   model.safetensors, config.json     (bert_save: transformers' names,
 *                                        architectures, id2label/label2id)
 *   vocab.txt, tokenizer_config.json,   copied from the initial model when
 *   tokenizer.json, special_tokens_map.json   it has them
 *   train_state.bin                     CKPT_STATE_NAME, below (none
 *                                        with --no-state)
 *   sift-train.json, train.log          the run record and the log so
 *                                        far (the caller's extra files)
 * It is written whole into a temporary directory next to OUT_DIR (in its
 * parent, .BASE.sift-tmp.XXXXXX, unique per save), every file and the
 * directory are fsynced, and the temporary directory then replaces
 * OUT_DIR in one renameat2(RENAME_EXCHANGE) (a plain rename the first
 * time); the old copy is then removed.  A crash or kill -9 at any moment
 * leaves either the old or the new checkpoint.
 *
 * One run at a time writes OUT_DIR: ckpt_lock takes an flock on
 * .BASE.sift-lock in the parent (not in OUT_DIR, which the swap
 * replaces; and the parent exists before OUT_DIR does).
 *
 * train_state.bin, little-endian: the 8 bytes "SIFTTS02", then the int64
 * and double fields of struct ckpt_state in order, model_hash (uint64),
 * describe (256 bytes, NUL padded), then n (int64), the current
 * parameters, AdamW's m and v (n floats each), and last the FNV-1a 64
 * hash of everything before it.
 */
#define CKPT_STATE_NAME "train_state.bin"
#define CKPT_RECORD_NAME "sift-train.json"
#define CKPT_LOG_NAME "train.log"

/* FNV-1a 64, the hash of every sift-train file: h starts at CKPT_FNV0 */
#define CKPT_FNV0 0xcbf29ce484222325ULL
uint64_t ckpt_fnv(uint64_t h, const void *p, size_t n);

/* a file a checkpoint holds besides the model and the state */
struct ckpt_file {
	const char *name;
	const void *data;
	size_t len;
};

struct ckpt_state {
	int64_t step;		/* optimizer steps done */
	int64_t pos;		/* batch records of the stream consumed */
	int64_t recs;		/* records (batches and epoch markers) consumed */
	int64_t epoch;		/* epoch of the next batch */
	int64_t adam_t;		/* AdamW's step count */
	int64_t seed;		/* --seed of the run */
	int64_t total_steps;	/* the schedule's total */
	int64_t best_step;	/* step of the best dev score, -1 none */
	int64_t bad_evals;	/* dev evaluations since the best (patience) */
	double best_metric;	/* the best dev score so far */
	double elapsed;		/* seconds of training before this run */
	uint64_t model_hash;	/* ckpt_model_hash of the model.safetensors
				 * saved with it (set by ckpt_save) */
	char describe[256];	/* what the bits depend on besides the
				 * inputs: backend, BLAS, core, clone */
};

/*
 * Takes the lock of OUT_DIR for this process (released at exit or by
 * close): the descriptor, or -1 with a message in err, at once when
 * another process holds it.  Under the lock, the leftovers of killed
 * saves (.BASE.sift-tmp*) are removed.
 */
int ckpt_lock(const char *out_dir, char *err, size_t errlen);

/* FNV-1a 64 of the tensors of m (names) with the values params: those a
 * checkpoint saves */
uint64_t ckpt_model_hash(const struct bert_model *m, const float *params);

/*
 * Makes OUT_DIR ready to be written, before anything is read: a missing
 * parent is created (as mkdir -p does), and must be writable; OUT_DIR
 * must be absent or a directory.  0; -1 with a message in err; -2 when
 * OUT_DIR is a symbolic link (the swap would replace the link with a
 * directory: misuse).
 */
int ckpt_prepare(const char *out_dir, char *err, size_t errlen);

/*
 * Refuses an OUT_DIR that exists, is not empty and is no checkpoint
 * (it would be replaced whole): 0, or -1 with a message in err.  A
 * checkpoint holds train_state.bin or sift-train.json.
 */
int ckpt_check_dir(const char *out_dir, char *err, size_t errlen);

/*
 * Before --resume: -1 with a message in err when OUT_DIR holds a model
 * but no train_state.bin (written with --no-state, or the file removed);
 * 0 otherwise (ckpt_load_state says what else is wrong).
 */
int ckpt_check_resume(const char *out_dir, char *err, size_t errlen);

/*
 * Saves a checkpoint atomically.  The Hugging Face model is m's tensors
 * with values model_params (the current parameters, or the best ones
 * under --dev); the state holds st, params (the current parameters), am
 * and av (AdamW's moments), n floats each, with st->model_hash set to
 * the hash of the model saved beside it; st NULL: no state file.
 * src_dir: where to copy the tokenizer files from (NULL: none).  The
 * nextra files of extra are written beside them, in the same swap.  0,
 * or -1 with a message in err (OUT_DIR is then untouched).
 */
int ckpt_save(const char *out_dir, const struct bert_model *m,
	      const float *model_params, const char *src_dir,
	      const struct ckpt_state *st, const float *params,
	      const float *am, const float *av, size_t n,
	      const struct ckpt_file *extra, int nextra, char *err,
	      size_t errlen);

/*
 * Replaces files of the checkpoint in OUT_DIR, the model unchanged (the
 * run record and log at the end of a run whose last step was saved
 * already): each one written beside, synced and renamed over the old.
 * 0, or -1 with a message in err.
 */
int ckpt_update(const char *out_dir, const struct ckpt_file *f, int nf,
		char *err, size_t errlen);

/*
 * Reads out_dir/train_state.bin into st and, when n matches, params,
 * am, av (n floats each).  0, or -1 with a message in err (missing,
 * truncated, corrupt, or of a model of another size).
 */
int ckpt_load_state(const char *out_dir, struct ckpt_state *st,
		    float *params, float *am, float *av, size_t n, char *err,
		    size_t errlen);

#endif
