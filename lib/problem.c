/* problem.c: the losses and outputs of multi-label and regression heads. */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "bert.h"	/* defines: struct bert_model, bert_config_load */
#include "problem.h"

static const char *const names[] = {
	"single_label_classification",
	"multi_label_classification",
	"regression",
};

const char *sift_problem_name(enum sift_problem p)
{
	return names[p];
}

int sift_problem_parse(const char *s, size_t n)
{
	for (int i = 0; i < 3; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

int sift_problem_of_header(const struct sift_reader *r)
{
	const msgpack_object *v = sift_get(sift_reader_header_obj((struct sift_reader *)r),
					   "problem_type");
	if (!v)
		return SIFT_PROBLEM_SINGLE;
	int p = v->type == MSGPACK_OBJECT_STR ?
		sift_problem_parse(v->via.str.ptr, v->via.str.size) : -1;
	if (p < 0)
		sift_rerror(r, "problem_type: expected multi_label_classification or regression");
	return p;
}

static int of_json(json_t *c)
{
	json_t *v = json_object_get(c, "problem_type");
	if (!v || json_is_null(v))
		return SIFT_PROBLEM_SINGLE;
	return json_is_string(v) ? sift_problem_parse(json_string_value(v),
						      strlen(json_string_value(v))) : -1;
}

int sift_problem_of_model(const struct bert_model *m, const char *dir)
{
	int p = m->head == BERT_HEAD_SEQ ? of_json(m->cfg.json) : SIFT_PROBLEM_SINGLE;
	if (p < 0)
		sift_warn("%s/config.json: problem_type: expected single_label_classification, multi_label_classification or regression",
			  dir);
	else if (p == SIFT_PROBLEM_REGRESSION && m->nlabels != 1) {
		sift_warn("%s/config.json: problem_type regression with %d labels, not 1",
			  dir, m->nlabels);
		p = -1;
	}
	return p;
}

int sift_problem_of_dir(const char *dir)
{
	struct bert_config c;
	char err[512];
	if (bert_config_load(&c, dir, err, sizeof err))
		return -1;
	int p = of_json(c.json);
	bert_config_free(&c);
	return p;
}

static double sigmoid(double x)
{
	return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

void sift_problem_outputs(enum sift_problem p, const float *logits,
			  float *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = p == SIFT_PROBLEM_MULTI ? (float)sigmoid(logits[i]) : logits[i];
}

double sift_problem_loss(enum sift_problem p, const float *logits,
			 const float *targets, int B, int L, float *dlogits,
			 float scale)
{
	size_t n = (size_t)B * L;
	double loss = 0.0;
	if (n == 0)
		return 0.0;
	for (size_t i = 0; i < n; i++) {
		double x = logits[i], y = targets[i];
		if (p == SIFT_PROBLEM_MULTI) {
			loss += (x > 0 ? x : 0) - x * y + log1p(exp(-fabs(x)));
			if (dlogits)
				dlogits[i] = (float)((sigmoid(x) - y) * scale / (double)n);
		} else {
			loss += (x - y) * (x - y);
			if (dlogits)
				dlogits[i] = (float)(2.0 * (x - y) * scale / (double)n);
		}
	}
	return loss / (double)n;
}
