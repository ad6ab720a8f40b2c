/* reportmetrics.h: the metrics record of sift-eval(1), packed from scores and read back. */
#ifndef SIFT_REPORTMETRICS_H
#define SIFT_REPORTMETRICS_H

#include <msgpack.h>

#include "abstain.h"	/* defines: struct sift_abstain */
#include "calib.h"	/* defines: struct sift_calib */
#include "clsmetrics.h"
#include "conlleval.h"
#include "stream.h"

/*
 * NER:  {task:"ner", scheme, mode, overall:{precision, recall, f1,
 *        accuracy, sentences, tokens, correct_tags, phrases_gold,
 *        phrases_pred, correct}, types:{TYPE:{precision, recall, f1,
 *        phrases_gold, phrases_pred, correct}, ...}}
 * cls:  {task:"cls" (or "pair"), accuracy, examples, labels:[str],
 *        classes:{LABEL:{precision, recall, f1, support, predicted}, ...},
 *        micro, macro, weighted:{precision, recall, f1, support},
 *        confusion:[[int]] (rows gold, columns predicted, label order)}
 * mlm:  {task:"mlm", loss, perplexity, accuracy, masked, correct,
 *        examples}: loss the mean negative log-likelihood (nats) of the
 *        masked tokens, perplexity exp(loss), accuracy correct / masked
 * Scores are fractions in [0,1] (msgpack float64); counts are integers.
 * sift-train's dev records embed the same map under "dev".
 */
void sift_pack_ner_metrics(msgpack_packer *pk, const struct sift_ner_counts *c);
void sift_pack_cls_metrics(msgpack_packer *pk, const struct sift_cls_metrics *m,
			   const char *task);
/* the same map with room for extra more keys, which the caller packs
 * next (sift-eval --abstain: "abstain", see abstain.h) */
void sift_pack_cls_metrics_n(msgpack_packer *pk, const struct sift_cls_metrics *m,
			     const char *task, int extra);
/* "abstain": {label, in_scope_accuracy, in_scope, precision, recall, f1,
 * support, predicted[, threshold, objective, score]}: one key and its
 * value, for the cls metrics map (sift_pack_cls_metrics_n's extra) */
void sift_pack_abstain(msgpack_packer *pk, const struct sift_abstain *a);
/* "calibration": {ece, bins (15), examples, count:[int], correct:[int],
 * accuracy:[f], confidence:[f]} (per bin of the top probability, see
 * calib.h; accuracy and confidence 0 for an empty bin): one key and its
 * value, for the cls metrics map (sift_pack_cls_metrics_n's extra) */
void sift_pack_calib(msgpack_packer *pk, const struct sift_calib *c);
/* reads "calibration" of a cls metrics map back into c (zeroed first):
 * 1, 0 when the map has none, -1 with a diagnostic naming the record */
int sift_read_calib(const struct sift_reader *r, const msgpack_object *map,
		    struct sift_calib *c);

/* the scores of masked-token prediction, as sift-eval counts them */
struct sift_mlm_scores {
	double loss;		/* mean of -log p(label) */
	long masked, correct, examples;
};
void sift_pack_mlm_metrics(msgpack_packer *pk, const struct sift_mlm_scores *s);
/* 0, or -1 with a diagnostic naming the record of r */
int sift_read_mlm_metrics(const struct sift_reader *r, const msgpack_object *map,
			  struct sift_mlm_scores *s);

/* reads a metrics map back (counts only; scores are recomputed from them).
 * 0, or -1 with a diagnostic naming the record of r. */
int sift_read_ner_metrics(const struct sift_reader *r, const msgpack_object *map,
			  struct sift_ner_counts *c);
int sift_read_cls_metrics(const struct sift_reader *r, const msgpack_object *map,
			  struct sift_cls_metrics *m);

/* a [str] value as n NUL-terminated strings in one allocation (free *v
 * only); -1 with a diagnostic when missing or not an array of strings,
 * unless optional, where a missing key gives 0 and *v NULL */
int sift_get_strs(const struct sift_reader *r, const msgpack_object *map,
		  const char *key, int optional, char ***v, size_t *n);

#endif
