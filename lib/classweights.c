/* classweights.c: the class weights and label smoothing of the classifier loss. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>	/* defines: open */
#include <math.h>	/* defines: isfinite */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>	/* defines: close */

#include "batch.h"	/* defines: sift_batch_rec_read */
#include "classweights.h"
#include "prog.h"	/* defines: sift_warn */
#include "stream.h"

int bert_set_loss(struct bert_model *m, const float *weight, float smoothing)
{
	const struct sift_backend *be = m->be;
	if (m->ce_dweight && m->ce_dweight != m->ce_weight)
		be->free(m->ce_dweight);
	free(m->ce_weight);
	m->ce_weight = m->ce_dweight = NULL;
	m->ce_smoothing = smoothing;
	if (!weight)
		return 0;
	size_t bytes = (size_t)m->nout * sizeof *weight;
	m->ce_weight = malloc(bytes);
	if (!m->ce_weight)
		return -1;
	memcpy(m->ce_weight, weight, bytes);
	if (be->host_memory) {
		m->ce_dweight = m->ce_weight;
		return 0;
	}
	m->ce_dweight = be->alloc(bytes);
	if (!m->ce_dweight)
		return -1;
	be->upload(m->ce_dweight, weight, bytes);
	return 0;
}

int classweights_read(const char *path, char *const *labels, int nlabels,
		      float *w, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *seen = calloc((size_t)nlabels + 1, 1);
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;
	if (!seen) {
		snprintf(err, errlen, "out of memory");
		fclose(f);
		return -1;
	}
	for (int i = 0; i < nlabels; i++)
		w[i] = 1.0f;
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		size_t n = strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		/* the weight is the last field, the label what is before it */
		char *sp = s + strlen(s);
		while (sp > s && !isspace((unsigned char)sp[-1]))
			sp--;
		char *ws = sp, *le = sp;
		while (le > s && isspace((unsigned char)le[-1]))
			le--;
		if (le == s) {
			snprintf(err, errlen, "%s:%ld: expected 'label weight'", path, lineno);
			rc = -1;
			break;
		}
		*le = '\0';
		int id = -1;
		for (int i = 0; i < nlabels; i++)
			if (!strcmp(labels[i], s))
				id = i;
		if (id < 0) {
			snprintf(err, errlen, "%s:%ld: unknown label '%s'", path, lineno, s);
			rc = -1;
			break;
		}
		if (seen[id]) {
			snprintf(err, errlen, "%s:%ld: label '%s' given twice", path, lineno, s);
			rc = -1;
			break;
		}
		char *end;
		errno = 0;
		double v = strtod(ws, &end);
		if (*end || end == ws || errno || !isfinite(v) || v <= 0 ||
		    (float)v <= 0.0f || !isfinite((float)v)) {
			snprintf(err, errlen, "%s:%ld: weight '%s' is not a positive finite number",
				 path, lineno, ws);
			rc = -1;
			break;
		}
		seen[id] = 1;
		w[id] = (float)v;
	}
	if (!rc && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	free(line);
	free(seen);
	fclose(f);
	return rc;
}

int classweights_balanced(const char *path, int ner, char *const *labels,
			  int nlabels, float *w)
{
	/* a second descriptor of its own (its own offset): the run reads
	 * the first */
	int fd = open(strcmp(path, "-") ? path : "/dev/stdin", O_RDONLY);
	if (fd < 0) {
		sift_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	struct sift_reader *rd = sift_reader_new(fd, path);
	struct sift_header h;
	memset(&h, 0, sizeof h);
	int64_t *cnt = calloc((size_t)nlabels, sizeof *cnt);
	int64_t n = 0, epoch = -1;
	int rc = -1, k;
	if (!rd || !cnt) {
		sift_warn("out of memory");
		goto out;
	}
	if (sift_read_header(rd, &h) < 0)
		goto out;
	const msgpack_object *rec;
	while ((k = sift_read(rd, &rec)) == 1) {
		if (sift_get(rec, "epoch_end"))
			break;	/* the first epoch's examples, once each */
		int64_t e;
		if (sift_opt_int(rd, rec, "epoch", &e) == 1) {
			if (epoch >= 0 && e != epoch)
				break;
			epoch = e;
		}
		struct sift_batch_rec b;
		if (sift_batch_rec_read(rd, rec, ner, 1, &b) < 0) {
			sift_batch_rec_free(&b);
			goto out;
		}
		int64_t m = ner ? b.B * b.T : b.B;
		for (int64_t i = 0; i < m; i++) {
			int32_t y = b.labels[i];
			if (y == SIFT_IGNORE)
				continue;
			if (y < 0 || y >= nlabels) {
				sift_rerror(rd, "label id %d outside 0..%d", y, nlabels - 1);
				sift_batch_rec_free(&b);
				goto out;
			}
			cnt[y]++;
			n++;
		}
		sift_batch_rec_free(&b);
	}
	if (k < 0)
		goto out;
	for (int c = 0; c < nlabels; c++)
		if (cnt[c] == 0) {
			sift_warn("--class-weights auto: label '%s' never occurs in %s; give the weights in a file",
				  labels[c], strcmp(path, "-") ? path : "stdin");
			goto out;
		}
	for (int c = 0; c < nlabels; c++)
		w[c] = (float)((double)n / ((double)nlabels * (double)cnt[c]));
	rc = 0;
out:
	free(cnt);
	sift_header_free(&h);
	if (rd)
		sift_reader_free(rd);
	close(fd);
	return rc;
}
