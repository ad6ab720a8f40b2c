/* lrsched.h: learning-rate schedules as Hugging Face Trainer computes them. */
#ifndef SIFT_LRSCHED_H
#define SIFT_LRSCHED_H

#include <stdint.h>

enum sched_kind {
	SCHED_LINEAR,		/* warmup, then linear decay to 0 (HF default) */
	SCHED_CONSTANT,		/* warmup, then constant */
	SCHED_COSINE,		/* warmup, then half a cosine down to 0 */
};

struct sched {
	enum sched_kind kind;
	double lr;		/* peak learning rate */
	int64_t warmup;		/* warmup steps */
	int64_t total;		/* optimizer steps in the run */
};

/* "linear", "constant", "cosine": 0, or -1 for an unknown name */
int sched_parse(const char *name, enum sched_kind *k);
/* warmup steps from a ratio of the total, as HF: ceil(ratio * total) */
int64_t sched_warmup_from_ratio(double ratio, int64_t total);
/* the learning rate of 0-based optimizer step `step` (the first step of a
 * run with warmup has lr 0, as transformers' LambdaLR schedules) */
double sched_lr(const struct sched *s, int64_t step);

#endif
