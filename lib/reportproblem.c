/* reportproblem.c: multi-label and regression metrics records as tables. */
#include <math.h>
#include <string.h>

#include "problem.h"	/* defines: sift_problem_parse */
#include "report.h"

/* the number at key k of map m, NaN when absent */
static double num(const msgpack_object *m, const char *k)
{
	double v = NAN;
	const msgpack_object *o = m ? sift_get(m, k) : NULL;
	if (o && o->type == MSGPACK_OBJECT_FLOAT64)
		v = o->via.f64;
	else if (o && o->type == MSGPACK_OBJECT_FLOAT32)
		v = o->via.f64;
	else if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		v = (double)o->via.u64;
	return v;
}

static void row(FILE *f, const struct report_opts *o, int width, const char *name,
		const msgpack_object *m)
{
	if (o->format == REPORT_CSV) {
		fprintf(f, "%s,", name);
		report_num(f, num(m, "precision"));
		fputc(',', f);
		report_num(f, num(m, "recall"));
		fputc(',', f);
		report_num(f, num(m, "f1"));
		fprintf(f, ",%.0f\n", num(m, "support"));
		return;
	}
	int d = o->digits;
	fprintf(f, "%*s  %9.*f %9.*f %9.*f %9.0f\n", width, name, d, num(m, "precision"),
		d, num(m, "recall"), d, num(m, "f1"), num(m, "support"));
}

int report_problem(FILE *f, const struct sift_reader *r, const msgpack_object *rec,
		   const struct report_opts *o)
{
	const char *pt;
	uint32_t pl;
	if (sift_need_str(r, rec, "problem_type", &pt, &pl) < 0)
		return -1;
	int p = sift_problem_parse(pt, pl);
	if (p == SIFT_PROBLEM_REGRESSION) {
		static const char *const keys[] = { "mse", "mae", "pearson", "spearman" };
		if (o->format == REPORT_CSV)
			fputs("metric,value\n", f);
		for (int i = 0; i < 4; i++) {
			if (o->format == REPORT_CSV) {
				fprintf(f, "%s,", keys[i]);
				report_num(f, num(rec, keys[i]));
				fputc('\n', f);
			} else {
				fprintf(f, "%-9s %.*f\n", keys[i], o->digits + 2, num(rec, keys[i]));
			}
		}
		if (o->format != REPORT_CSV)
			fprintf(f, "%-9s %.0f\n", "examples", num(rec, "examples"));
		return 0;
	}
	if (p != SIFT_PROBLEM_MULTI) {
		sift_rerror(r, "problem_type '%.*s': not multi_label_classification or regression",
			    (int)pl, pt);
		return -1;
	}
	const msgpack_object *cl = sift_get(rec, "classes");
	if (!cl || cl->type != MSGPACK_OBJECT_MAP) {
		sift_rerror(r, "key 'classes' missing");
		return -1;
	}
	int width = 15;	/* strlen("subset accuracy") */
	for (uint32_t i = 0; i < cl->via.map.size; i++)
		if (cl->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
		    (int)cl->via.map.ptr[i].key.via.str.size > width)
			width = (int)cl->via.map.ptr[i].key.via.str.size;
	if (o->format == REPORT_CSV)
		fputs("label,precision,recall,f1,support\n", f);
	else
		fprintf(f, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall",
			"f1-score", "support");
	for (uint32_t i = 0; i < cl->via.map.size; i++) {
		const msgpack_object_kv *kv = &cl->via.map.ptr[i];
		char name[256];
		snprintf(name, sizeof name, "%.*s",
			 kv->key.type == MSGPACK_OBJECT_STR ? (int)kv->key.via.str.size : 1,
			 kv->key.type == MSGPACK_OBJECT_STR ? kv->key.via.str.ptr : "?");
		row(f, o, width, name, &kv->val);
	}
	if (o->format != REPORT_CSV)
		fputc('\n', f);
	row(f, o, width, "micro avg", sift_get(rec, "micro"));
	row(f, o, width, "macro avg", sift_get(rec, "macro"));
	if (o->format == REPORT_CSV) {
		fputs("subset_accuracy,,,", f);
		report_num(f, num(rec, "subset_accuracy"));
		fprintf(f, ",%.0f\nhamming_loss,,,", num(rec, "examples"));
		report_num(f, num(rec, "hamming_loss"));
		fputs(",\n", f);
		return 0;
	}
	fputc('\n', f);
	fprintf(f, "%*s  %9s %9s %9.*f %9.0f\n", width, "subset accuracy", "", "", o->digits,
		num(rec, "subset_accuracy"), num(rec, "examples"));
	fprintf(f, "%*s  %9s %9s %9.*f\n", width, "hamming loss", "", "", o->digits,
		num(rec, "hamming_loss"));
	return 0;
}
