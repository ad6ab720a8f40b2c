/* lrsched.c: learning-rate schedules as Hugging Face Trainer computes them. */
#include <math.h>
#include <string.h>

#include "lrsched.h"

int sched_parse(const char *name, enum sched_kind *k)
{
	if (strcmp(name, "linear") == 0)
		*k = SCHED_LINEAR;
	else if (strcmp(name, "constant") == 0)
		*k = SCHED_CONSTANT;
	else if (strcmp(name, "cosine") == 0)
		*k = SCHED_COSINE;
	else
		return -1;
	return 0;
}

int64_t sched_warmup_from_ratio(double ratio, int64_t total)
{
	return (int64_t)ceil(ratio * (double)total);
}

double sched_lr(const struct sched *s, int64_t step)
{
	double f;
	if (step < s->warmup) {
		/* transformers: float(step) / float(max(1, warmup)) */
		f = (double)step / (double)(s->warmup > 1 ? s->warmup : 1);
	} else if (s->kind == SCHED_CONSTANT) {
		f = 1.0;
	} else {
		int64_t span = s->total - s->warmup;
		if (span < 1)
			span = 1;
		if (s->kind == SCHED_LINEAR) {
			f = (double)(s->total - step) / (double)span;
		} else {
			double progress = (double)(step - s->warmup) / (double)span;
			f = 0.5 * (1.0 + cos(M_PI * 2.0 * 0.5 * progress));
		}
		if (f < 0.0)
			f = 0.0;
	}
	return s->lr * f;
}
