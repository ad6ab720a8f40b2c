/* fwdrun.h: the sift-fwd run: a batches stream in, the model over each batch, a predictions stream out. */
#ifndef SIFT_FWDRUN_H
#define SIFT_FWDRUN_H

#include <stdint.h>

#include "backend.h"

struct fwd_cfg {
	const char *model_dir;	/* -m */
	const char *input;	/* batches stream, "-" for stdin */
	int init;		/* --init-head given: a head-less model gets
				 * one initialised from seed */
	uint64_t seed;
	int force;		/* write the stream even to a terminal */
	struct sift_backend *be;	/* where the model runs (--device) */
	int topk;		/* --top-k, 0 when not given */
	float threshold;	/* --threshold, with abstain */
	const char *abstain;	/* --abstain, NULL when not given */
	int has_threshold;	/* --threshold given */
	const char *thresholds;	/* --thresholds FILE (multi-label), or NULL */
	const char *adapter;	/* --adapter: a LoRA adapter, merged at load */
	const char *save_merged;	/* --save-merged: write the merged model
				 * here and read no stream */
	int int8;		/* --precision int8: the linear layers
				 * quantised at load (quant.h) */
};

/* --save-merged: model_dir with the adapter merged, saved as an
 * ordinary checkpoint; the exit status */
int fwd_save_merged(const struct fwd_cfg *c);

/* runs it; returns the exit status (diagnostics already printed) */
int fwd_run(const struct fwd_cfg *c);

#endif
