/* reportmetrics.c: packs NER and classification scores as a metrics map, and reads one back. */
#include <math.h>	/* defines: exp */
#include <stdlib.h>
#include <string.h>

#include "reportmetrics.h"

void sift_pack_ner_metrics(msgpack_packer *pk, const struct sift_ner_counts *c)
{
	int ntypes = 0;
	for (int i = 0; i < c->ntypes; i++)
		ntypes += c->types[i].gold || c->types[i].pred;
	msgpack_pack_map(pk, 5);
	sift_pack_str(pk, "task");
	sift_pack_str(pk, "ner");
	sift_pack_str(pk, "scheme");
	sift_pack_str(pk, sift_ner_scheme_name(c->scheme));
	sift_pack_str(pk, "mode");
	sift_pack_str(pk, sift_ner_mode_name(c->mode));
	sift_pack_str(pk, "overall");
	msgpack_pack_map(pk, 10);
	sift_pack_kd(pk, "precision", sift_ner_precision(c));
	sift_pack_kd(pk, "recall", sift_ner_recall(c));
	sift_pack_kd(pk, "f1", sift_ner_f1(c));
	sift_pack_kd(pk, "accuracy", sift_ner_accuracy(c));
	sift_pack_ki(pk, "sentences", c->sentences);
	sift_pack_ki(pk, "tokens", c->tokens);
	sift_pack_ki(pk, "correct_tags", c->correct_tags);
	sift_pack_ki(pk, "phrases_gold", c->gold);
	sift_pack_ki(pk, "phrases_pred", c->pred);
	sift_pack_ki(pk, "correct", c->correct);
	sift_pack_str(pk, "types");
	msgpack_pack_map(pk, ntypes);
	for (int i = 0; i < c->ntypes; i++) {
		const struct sift_ner_type *t = &c->types[i];
		if (!t->gold && !t->pred)
			continue;
		double p, r, f;
		sift_ner_type_prf(t, &p, &r, &f);
		sift_pack_str(pk, t->name);
		msgpack_pack_map(pk, 6);
		sift_pack_kd(pk, "precision", p);
		sift_pack_kd(pk, "recall", r);
		sift_pack_kd(pk, "f1", f);
		sift_pack_ki(pk, "phrases_gold", t->gold);
		sift_pack_ki(pk, "phrases_pred", t->pred);
		sift_pack_ki(pk, "correct", t->correct);
	}
}

static void pack_prf(msgpack_packer *pk, const char *name, struct sift_prf p)
{
	sift_pack_str(pk, name);
	msgpack_pack_map(pk, 4);
	sift_pack_kd(pk, "precision", p.precision);
	sift_pack_kd(pk, "recall", p.recall);
	sift_pack_kd(pk, "f1", p.f1);
	sift_pack_ki(pk, "support", p.support);
}

void sift_pack_cls_metrics(msgpack_packer *pk, const struct sift_cls_metrics *m,
			   const char *task)
{
	sift_pack_cls_metrics_n(pk, m, task, 0);
}

void sift_pack_cls_metrics_n(msgpack_packer *pk, const struct sift_cls_metrics *m,
			     const char *task, int extra)
{
	msgpack_pack_map(pk, 9 + extra);
	sift_pack_str(pk, "task");
	sift_pack_str(pk, task ? task : "cls");
	sift_pack_kd(pk, "accuracy", sift_cls_accuracy(m));
	sift_pack_ki(pk, "examples", m->total);
	sift_pack_str(pk, "labels");
	msgpack_pack_array(pk, m->n);
	for (int k = 0; k < m->n; k++)
		sift_pack_str(pk, m->labels[k]);
	sift_pack_str(pk, "classes");
	msgpack_pack_map(pk, m->n);
	for (int k = 0; k < m->n; k++) {
		struct sift_prf p = sift_cls_class(m, k);
		long predicted = 0;
		for (int g = 0; g < m->n; g++)
			predicted += sift_cls_count(m, g, k);
		sift_pack_str(pk, m->labels[k]);
		msgpack_pack_map(pk, 5);
		sift_pack_kd(pk, "precision", p.precision);
		sift_pack_kd(pk, "recall", p.recall);
		sift_pack_kd(pk, "f1", p.f1);
		sift_pack_ki(pk, "support", p.support);
		sift_pack_ki(pk, "predicted", predicted);
	}
	pack_prf(pk, "micro", sift_cls_average(m, SIFT_AVG_MICRO));
	pack_prf(pk, "macro", sift_cls_average(m, SIFT_AVG_MACRO));
	pack_prf(pk, "weighted", sift_cls_average(m, SIFT_AVG_WEIGHTED));
	sift_pack_str(pk, "confusion");
	msgpack_pack_array(pk, m->n);
	for (int g = 0; g < m->n; g++) {
		msgpack_pack_array(pk, m->n);
		for (int p = 0; p < m->n; p++)
			msgpack_pack_int64(pk, sift_cls_count(m, g, p));
	}
}

static int need_map(const struct sift_reader *r, const msgpack_object *map,
		    const char *key, const msgpack_object **out)
{
	const msgpack_object *o = sift_get(map, key);
	if (!o || o->type != MSGPACK_OBJECT_MAP) {
		sift_rerror(r, "key '%s' %s", key, o ? "is not a map" : "missing");
		return -1;
	}
	*out = o;
	return 0;
}

/* a count: a whole number from 0 that a double holds exactly */
static int is_count(double v)
{
	return v >= 0 && v <= 9007199254740992.0 && v == floor(v);
}

static int need_long(const struct sift_reader *r, const msgpack_object *map,
		     const char *key, long *v)
{
	int64_t x;
	if (sift_need_int(r, map, key, &x) < 0)
		return -1;
	*v = (long)x;
	return 0;
}

int sift_read_ner_metrics(const struct sift_reader *r, const msgpack_object *map,
			  struct sift_ner_counts *c)
{
	const msgpack_object *ov, *ty;
	const char *s;
	uint32_t len;
	enum sift_ner_scheme scheme = SIFT_SCHEME_IOB2;
	enum sift_ner_mode mode = SIFT_MODE_CONLLEVAL;
	char buf[32];

	if (sift_opt_str(r, map, "scheme", &s, &len) > 0 && len < sizeof buf) {
		memcpy(buf, s, len);
		buf[len] = 0;
		sift_ner_parse_scheme(buf, &scheme);
	}
	if (sift_opt_str(r, map, "mode", &s, &len) > 0 && len < sizeof buf) {
		memcpy(buf, s, len);
		buf[len] = 0;
		sift_ner_parse_mode(buf, &mode);
	}
	sift_ner_init(c, scheme, mode);
	if (need_map(r, map, "overall", &ov) < 0 || need_map(r, map, "types", &ty) < 0)
		return -1;
	int64_t x;
	if (sift_opt_int(r, ov, "sentences", &x) > 0)
		c->sentences = (long)x;
	if (need_long(r, ov, "tokens", &c->tokens) < 0 ||
	    need_long(r, ov, "correct_tags", &c->correct_tags) < 0 ||
	    need_long(r, ov, "phrases_gold", &c->gold) < 0 ||
	    need_long(r, ov, "phrases_pred", &c->pred) < 0 ||
	    need_long(r, ov, "correct", &c->correct) < 0)
		return -1;
	for (uint32_t i = 0; i < ty->via.map.size; i++) {
		const msgpack_object *k = &ty->via.map.ptr[i].key;
		const msgpack_object *v = &ty->via.map.ptr[i].val;
		long g, p, k2;
		if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_MAP) {
			sift_rerror(r, "types: each entry must map a type name to a map");
			return -1;
		}
		if (need_long(r, v, "phrases_gold", &g) < 0 ||
		    need_long(r, v, "phrases_pred", &p) < 0 ||
		    need_long(r, v, "correct", &k2) < 0)
			return -1;
		char *name = sift_xmalloc(k->via.str.size + 1);
		memcpy(name, k->via.str.ptr, k->via.str.size);
		name[k->via.str.size] = 0;
		sift_ner_add_type(c, name, g, p, k2);
		free(name);
	}
	return 0;
}

int sift_read_cls_metrics(const struct sift_reader *r, const msgpack_object *map,
			  struct sift_cls_metrics *m)
{
	char **labels;
	size_t n;
	sift_cls_init(m, NULL, 0);
	if (sift_get_strs(r, map, "labels", 0, &labels, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		sift_cls_label(m, labels[i], 1);
	free(labels);
	if ((size_t)m->n != n) {
		sift_rerror(r, "labels: a label appears twice");
		return -1;
	}
	const msgpack_object *cf = sift_get(map, "confusion");
	if (!cf || cf->type != MSGPACK_OBJECT_ARRAY || cf->via.array.size != n)
		goto bad;
	/* a row as sift-eval writes it (integers) or as sift-cat -s reads
	 * it back from JSON (a typed array) */
	double *row = sift_xmalloc((n ? n : 1) * sizeof *row);
	for (size_t g = 0; g < n; g++) {
		if (sift_nums(&cf->via.array.ptr[g], n, row) < 0)
			goto bad_row;
		for (size_t p = 0; p < n; p++) {
			if (!is_count(row[p]))
				goto bad_row;
			sift_cls_add_count(m, (int)g, (int)p, (long)row[p]);
		}
	}
	free(row);
	return 0;
bad_row:
	free(row);
bad:
	sift_rerror(r, "confusion: expected %zu rows of %zu counts", n, n);
	return -1;
}

int sift_get_strs(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, int optional, char ***v, size_t *n)
{
	const msgpack_object *o = sift_get(map, key);
	*v = NULL;
	*n = 0;
	if (!o) {
		if (optional)
			return 0;
		sift_rerror(r, "key '%s' missing", key);
		return -1;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY)
		goto bad;
	size_t cnt = o->via.array.size, bytes = 0;
	for (size_t i = 0; i < cnt; i++) {
		if (o->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			goto bad;
		bytes += o->via.array.ptr[i].via.str.size + 1;
	}
	char **a = sift_xmalloc((cnt + 1) * sizeof *a + bytes);
	char *p = (char *)(a + cnt + 1);
	for (size_t i = 0; i < cnt; i++) {
		const msgpack_object_str *s = &o->via.array.ptr[i].via.str;
		a[i] = p;
		memcpy(p, s->ptr, s->size);
		p[s->size] = 0;
		p += s->size + 1;
	}
	a[cnt] = NULL;
	*v = a;
	*n = cnt;
	return 1;
bad:
	sift_rerror(r, "key '%s' is not an array of strings", key);
	return -1;
}

void sift_pack_abstain(msgpack_packer *pk, const struct sift_abstain *a)
{
	sift_pack_str(pk, "abstain");
	msgpack_pack_map(pk, 8 + 3 * a->found);
	sift_pack_str(pk, "label");
	sift_pack_str(pk, a->label);
	sift_pack_kd(pk, "in_scope_accuracy", a->in_scope_accuracy);
	sift_pack_ki(pk, "in_scope", a->in_scope);
	sift_pack_kd(pk, "precision", a->oos.precision);
	sift_pack_kd(pk, "recall", a->oos.recall);
	sift_pack_kd(pk, "f1", a->oos.f1);
	sift_pack_ki(pk, "support", a->oos.support);
	sift_pack_ki(pk, "predicted", a->predicted);
	if (a->found) {
		sift_pack_kd(pk, "threshold", a->threshold);
		sift_pack_str(pk, "objective");
		sift_pack_str(pk, a->objective);
		sift_pack_kd(pk, "score", a->score);
	}
}

void sift_pack_calib(msgpack_packer *pk, const struct sift_calib *c)
{
	enum { NB = SIFT_CALIB_BINS };
	sift_pack_str(pk, "calibration");
	msgpack_pack_map(pk, 7);
	sift_pack_kd(pk, "ece", sift_calib_ece(c));
	sift_pack_ki(pk, "bins", NB);
	sift_pack_ki(pk, "examples", c->n);
	sift_pack_str(pk, "count");
	msgpack_pack_array(pk, NB);
	for (int b = 0; b < NB; b++)
		msgpack_pack_int64(pk, c->count[b]);
	sift_pack_str(pk, "correct");
	msgpack_pack_array(pk, NB);
	for (int b = 0; b < NB; b++)
		msgpack_pack_int64(pk, c->correct[b]);
	sift_pack_str(pk, "accuracy");
	msgpack_pack_array(pk, NB);
	for (int b = 0; b < NB; b++)
		msgpack_pack_double(pk, c->count[b] ? (double)c->correct[b] / c->count[b] : 0.0);
	sift_pack_str(pk, "confidence");
	msgpack_pack_array(pk, NB);
	for (int b = 0; b < NB; b++)
		msgpack_pack_double(pk, c->count[b] ? c->conf[b] / c->count[b] : 0.0);
}

int sift_read_calib(const struct sift_reader *r, const msgpack_object *map,
		    struct sift_calib *c)
{
	enum { NB = SIFT_CALIB_BINS };
	memset(c, 0, sizeof *c);
	const msgpack_object *cal = sift_get(map, "calibration");
	if (!cal)
		return 0;
	if (cal->type != MSGPACK_OBJECT_MAP)
		goto bad;
	/* plain arrays as sift-eval writes them, or typed ones as sift-cat
	 * -s reads them back from JSON */
	const msgpack_object *cn = sift_get(cal, "count"), *ok = sift_get(cal, "correct");
	const msgpack_object *cf = sift_get(cal, "confidence");
	double x[NB], y[NB], z[NB];
	if (!cn || !ok || !cf || sift_nums(cn, NB, x) < 0 ||
	    sift_nums(ok, NB, y) < 0 || sift_nums(cf, NB, z) < 0)
		goto bad;
	for (int b = 0; b < NB; b++) {
		if (!is_count(x[b]) || !is_count(y[b]) || y[b] > x[b] ||
		    !(z[b] >= 0 && z[b] <= 1))
			goto bad;
		c->count[b] = (long)x[b];
		c->correct[b] = (long)y[b];
		c->conf[b] = z[b] * (double)c->count[b];
		c->n += c->count[b];
	}
	return 1;
bad:
	sift_rerror(r, "calibration: expected count, correct and confidence arrays of %d bins", NB);
	return -1;
}

void sift_pack_mlm_metrics(msgpack_packer *pk, const struct sift_mlm_scores *s)
{
	msgpack_pack_map(pk, 7);
	sift_pack_str(pk, "task");
	sift_pack_str(pk, "mlm");
	sift_pack_kd(pk, "loss", s->loss);
	sift_pack_kd(pk, "perplexity", exp(s->loss));
	sift_pack_kd(pk, "accuracy", s->masked ? (double)s->correct / s->masked : 0.0);
	sift_pack_ki(pk, "masked", s->masked);
	sift_pack_ki(pk, "correct", s->correct);
	sift_pack_ki(pk, "examples", s->examples);
}

int sift_read_mlm_metrics(const struct sift_reader *r, const msgpack_object *map,
			  struct sift_mlm_scores *s)
{
	memset(s, 0, sizeof *s);
	int got = sift_opt_num(r, map, "loss", &s->loss);
	if (got == 0)
		sift_rerror(r, "missing key 'loss'");
	if (got <= 0 || need_long(r, map, "masked", &s->masked) < 0 ||
	    need_long(r, map, "correct", &s->correct) < 0 ||
	    need_long(r, map, "examples", &s->examples) < 0)
		return -1;
	return 0;
}
