/* trainrun.h: sift-train's driver (as fwdrun.h is sift-fwd's): a batches stream in, the trainer's steps, dev scoring, checkpoints, a log stream out. */
#ifndef SIFT_TRAINRUN_H
#define SIFT_TRAINRUN_H

#include <signal.h>	/* defines: sig_atomic_t */
#include <stdint.h>

#include "lora.h"	/* defines: lora_cfg */
#include "trainer.h"

struct run_cfg {
	const char *model_dir;	/* -m: initial model (NULL with --config) */
	const char *config;	/* --config: random initialisation from it */
	const char *out_dir;	/* -o */
	const char *input;	/* batches stream, "-" for stdin */
	const char *dev;	/* --dev batches stream, or NULL */
	const char *task;	/* --task, checked against the header; NULL */
	const char *metric;	/* --metric f1|accuracy|macro_f1|loss; NULL:
				 * f1 for ner, loss for mlm, accuracy
				 * otherwise */
	struct trainer_opts o;
	/* the loss (cls, pair, ner): --class-weights "auto" or a file,
	 * NULL: none; --label-smoothing, 0: none */
	const char *class_weights;
	float label_smoothing;
	float dropout;		/* hidden dropout, < 0: the config's */
	float attn_dropout;	/* attention dropout, < 0: the config's */
	int64_t max_steps;	/* > 0: the run's total steps (schedule too) */
	int64_t stop_after;	/* > 0: save and stop after this many steps
				 * (an interruption; the schedule is unchanged) */
	int64_t save_every;	/* > 0: checkpoint every N steps */
	int64_t eval_every;	/* > 0: score --dev every N steps */
	int patience;		/* > 0: stop after K evaluations without a
				 * better dev score */
	int resume;		/* continue from out_dir's training state */
	int no_state;		/* --no-state: checkpoints without the state
				 * (a signal's still has it) */
	const char *precision;	/* --precision, for the run record */
	const volatile sig_atomic_t *stop;	/* set to SIGTERM or SIGINT by
				 * the main's handler: save at the next step
				 * boundary and return SIFT_EXIT_SIGNAL + it;
				 * NULL: none */
	int force;		/* write the log stream even to a terminal */
	const struct sift_backend *be;	/* where the ops run (--device);
				 * NULL: the CPU */
	const struct lora_cfg *lora;	/* --lora: train an adapter (and
				 * o.freeze.freeze_base set); NULL: none */
};

/* runs it; returns the exit status (diagnostics already printed): -o
 * is checked (its parent made) before anything is read */
int train_run(const struct run_cfg *c);

#endif
