/* problempred.c: multi-label label sets and regression values as prediction records. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problempred.h"

int sift_problem_pred_prep(const struct sift_problem_pred *pp,
			   const struct sift_reader *r, const msgpack_object *ex,
			   int64_t id, struct sift_problem_gold *g)
{
	memset(g, 0, sizeof *g);
	if (pp->problem == SIFT_PROBLEM_REGRESSION) {
		int k = sift_opt_num(r, ex, "target", &g->target);
		if (k < 0)
			return -1;
		g->has = k > 0;
		return 1 + g->has;
	}
	int k = sift_opt_i32s(r, ex, "label_set", &g->set, &g->nset);
	if (k < 0)
		return -1;
	g->has = k > 0;
	for (size_t i = 0; i < g->nset; i++)
		if (g->set[i] < 0 || g->set[i] >= pp->in->nlabels) {
			sift_rerror(r, "example %lld: gold label %d outside the header's %d labels",
				    (long long)id, g->set[i], pp->in->nlabels);
			free(g->set);
			g->set = NULL;
			return -1;
		}
	return 2 + g->has;
}

void sift_problem_pred_pack(const struct sift_problem_pred *pp,
			    struct sift_problem_gold *g, const float *out,
			    msgpack_packer *pk)
{
	sift_pack_str(pk, "pred");
	if (pp->problem == SIFT_PROBLEM_REGRESSION) {
		msgpack_pack_float(pk, out[0]);
		if (g->has) {
			sift_pack_str(pk, "gold");
			msgpack_pack_double(pk, g->target);
		}
		return;
	}
	uint32_t n = 0;
	for (int l = 0; l < pp->L; l++)
		n += out[l] >= pp->thr[l];
	msgpack_pack_array(pk, n);
	for (int l = 0; l < pp->L; l++)
		if (out[l] >= pp->thr[l])
			sift_pack_str(pk, pp->labels[l]);
	sift_pack_str(pk, "probs");
	sift_pack_f32s(pk, out, pp->L);
	if (g->has) {
		sift_pack_str(pk, "gold");
		msgpack_pack_array(pk, (uint32_t)g->nset);
		for (size_t i = 0; i < g->nset; i++)
			sift_pack_str(pk, pp->in->labels[g->set[i]]);
	}
	free(g->set);
	g->set = NULL;
}

int sift_problem_read_thresholds(const char *path, char *const *labels, int L,
				 float thr0, float *thr)
{
	for (int l = 0; l < L; l++)
		thr[l] = thr0;
	if (!path)
		return 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		sift_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	long no = 0;
	ssize_t k;
	int rc = 0;
	while (rc == 0 && (k = getline(&line, &cap, f)) >= 0) {
		no++;
		while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
			line[--k] = 0;
		if (!k)
			continue;
		char *sep = strrchr(line, '\t');
		if (!sep)
			sep = strrchr(line, ' ');
		if (!sep) {
			sift_warn("%s:%ld: expected a label and a threshold", path, no);
			rc = -1;
			break;
		}
		*sep = 0;
		char *end;
		double x = strtod(sep + 1, &end);
		if (end == sep + 1 || *end || !(x >= 0 && x <= 1)) {
			sift_warn("%s:%ld: threshold '%s' is not a number from 0 to 1", path, no,
				  sep + 1);
			rc = -1;
			break;
		}
		int l = 0;
		while (l < L && strcmp(labels[l], line))
			l++;
		if (l == L) {
			sift_warn("%s:%ld: label '%s' is not one of the model's", path, no, line);
			rc = -1;
			break;
		}
		thr[l] = (float)x;
	}
	free(line);
	fclose(f);
	return rc;
}
