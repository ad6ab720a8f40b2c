/* batch.c: grouping tokenized examples into padded batches, in input order or bucketed by length and shuffled by seed. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "problem.h"	/* defines: sift_problem_of_header */
#include "rng.h"	/* defines: sift_rng, sift_hash64 */

int sift_cut_fits(const struct sift_batch_opts *o, const struct sift_cut *c,
		  uint32_t len)
{
	if (c->n == 0)
		return 1;
	if (c->n >= o->batch_size)
		return 0;
	if (o->max_tokens > 0) {
		uint32_t T = len > c->T ? len : c->T;
		if ((int64_t)(c->n + 1) * T > o->max_tokens)
			return 0;
	}
	return 1;
}

void sift_cut_add(struct sift_cut *c, uint32_t len)
{
	c->n++;
	if (len > c->T)
		c->T = len;
}

int sift_cut_full(const struct sift_batch_opts *o, const struct sift_cut *c)
{
	if (c->n >= o->batch_size)
		return 1;
	/* the next example would pad to at least (n+1) * T */
	return o->max_tokens > 0 && c->n > 0 &&
	       (int64_t)(c->n + 1) * c->T > o->max_tokens;
}

/* a plan under construction */
struct plan_buf {
	size_t nbatch, cap;
	size_t *start;		/* cap + 1 */
	size_t *idx;
	size_t nidx;
};

static void close_batch(struct plan_buf *b)
{
	if (b->nbatch + 1 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->start = sift_xrealloc(b->start, (b->cap + 1) * sizeof *b->start);
	}
	b->start[++b->nbatch] = b->nidx;
}

/*
 * Cuts ord[n] into batches appended to b.  When hold is set, the last
 * batch is not closed unless full: its examples are returned (their
 * count in *held, at the end of ord) to go into the next run.  Returns
 * the number of examples of the last batch (0 if none).
 */
static int cut_run(const uint32_t *len, const size_t *ord, size_t n,
		   const struct sift_batch_opts *o, int hold,
		   struct plan_buf *b, size_t *held)
{
	struct sift_cut c = { 0, 0 };
	size_t first = 0;	/* in ord, of the open batch */

	*held = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t l = len[ord[i]];
		if (!sift_cut_fits(o, &c, l)) {
			close_batch(b);
			c = (struct sift_cut){ 0, 0 };
			first = i;
		}
		sift_cut_add(&c, l);
		b->idx[b->nidx++] = ord[i];
	}
	if (c.n == 0)
		return 0;
	if (hold && !sift_cut_full(o, &c)) {
		b->nidx -= c.n;
		*held = n - first;
		return 0;
	}
	close_batch(b);
	return c.n;
}

/*
 * Bucketing sorts by length with noise, as AllenNLP's bucket sampler does
 * (its padding_noise, 0.1 there): each length is scaled by a factor drawn
 * from [1 - NOISE/1000, 1 + NOISE/1000], in integers so that every machine
 * sorts alike.  Without it, a pool that holds the whole data set would
 * make the same batches every epoch, only in another order.  The noise
 * costs padding: on CoNLL-2003 train in batches of 32, the real share of
 * padded tokens is 0.966 without noise, 0.960 with 2.5% (ours), 0.942
 * with 5% and 0.899 with 10%.
 */
#define NOISE 25

/* sort key of bucketing: noisy length, then place in the shuffled order */
struct lenkey {
	uint64_t len;		/* length x (1 +- noise), in thousandths */
	size_t rank;
	size_t ex;
};

static int cmp_lenkey(const void *a, const void *b)
{
	const struct lenkey *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static void shuffle(struct sift_rng *r, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = sift_rng_below(r, (uint32_t)i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

void sift_plan_epoch(const uint32_t *len, size_t n,
		     const struct sift_batch_opts *o, int epoch,
		     struct sift_plan *p)
{
	struct plan_buf b = { 0 };
	struct sift_rng rng;
	size_t *ord = sift_xmalloc((n ? n : 1) * sizeof *ord);
	int last = 0;		/* examples in the final batch */

	b.cap = 64;
	b.start = sift_xmalloc((b.cap + 1) * sizeof *b.start);
	b.start[0] = 0;
	b.idx = sift_xmalloc((n ? n : 1) * sizeof *b.idx);
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	sift_rng_seed(&rng, sift_hash64(o->seed, (uint64_t)epoch));
	if (o->shuffle)
		shuffle(&rng, ord, n);

	if (o->shuffle && o->pool > 0) {
		/* a batch's worth: batch_size examples, or fewer when
		 * max_tokens holds fewer of the mean length */
		size_t per = (size_t)o->batch_size;
		if (o->max_tokens > 0 && n > 0) {
			uint64_t sum = 0;
			for (size_t i = 0; i < n; i++)
				sum += len[i];
			uint64_t mean = sum / n + 1;
			uint64_t fit = (uint64_t)o->max_tokens / mean;
			if (fit < 1)
				fit = 1;
			if (fit < per)
				per = (size_t)fit;
		}
		size_t run = (size_t)o->pool * per;
		if (run > n)
			run = n;
		/* room for a run and the unfinished batch of the last one */
		size_t cap = run + ((size_t)o->batch_size < n ?
				    (size_t)o->batch_size : n);
		struct lenkey *key = sift_xmalloc(cap * sizeof *key);
		size_t *chunk = sift_xmalloc(cap * sizeof *chunk);
		size_t held = 0, pos = 0;
		while (pos < n) {
			size_t take = n - pos < run ? n - pos : run;
			size_t m = held + take;
			/* held examples (longest of the last run) come first */
			for (size_t i = 0; i < take; i++)
				chunk[held + i] = ord[pos + i];
			pos += take;
			for (size_t i = 0; i < m; i++)
				key[i] = (struct lenkey){
					(uint64_t)len[chunk[i]] *
					(1000 - NOISE + sift_rng_below(&rng, 2 * NOISE + 1)),
					i, chunk[i] };
			qsort(key, m, sizeof *key, cmp_lenkey);
			for (size_t i = 0; i < m; i++)
				chunk[i] = key[i].ex;
			last = cut_run(len, chunk, m, o, pos < n, &b, &held);
			if (held)
				memmove(chunk, chunk + m - held, held * sizeof *chunk);
		}
		free(key);
		free(chunk);
	} else {
		size_t held;
		last = cut_run(len, ord, n, o, 0, &b, &held);
	}

	/* the short last batch (if any) is the final one planned */
	if (o->drop_last && last > 0 && last < o->batch_size) {
		b.nbatch--;
		b.nidx = b.start[b.nbatch];
	}

	p->nbatch = b.nbatch;
	p->start = sift_xmalloc((b.nbatch + 1) * sizeof *p->start);
	p->idx = sift_xmalloc((b.nidx ? b.nidx : 1) * sizeof *p->idx);
	if (o->shuffle) {
		size_t *perm = sift_xmalloc((b.nbatch ? b.nbatch : 1) *
					    sizeof *perm);
		size_t k = 0;
		for (size_t i = 0; i < b.nbatch; i++)
			perm[i] = i;
		shuffle(&rng, perm, b.nbatch);
		p->start[0] = 0;
		for (size_t i = 0; i < b.nbatch; i++) {
			size_t s = b.start[perm[i]], e = b.start[perm[i] + 1];
			memcpy(p->idx + k, b.idx + s, (e - s) * sizeof *p->idx);
			k += e - s;
			p->start[i + 1] = k;
		}
		free(perm);
	} else {
		memcpy(p->start, b.start, (b.nbatch + 1) * sizeof *p->start);
		memcpy(p->idx, b.idx, b.nidx * sizeof *p->idx);
	}
	free(b.start);
	free(b.idx);
	free(ord);
}

void sift_plan_free(struct sift_plan *p)
{
	free(p->start);
	free(p->idx);
	memset(p, 0, sizeof *p);
}

enum sift_label_kind sift_label_kind(const char *task)
{
	if (strcmp(task, "ner") == 0)
		return SIFT_LABELS_TOKEN;
	if (strcmp(task, "cls") == 0 || strcmp(task, "pair") == 0)
		return SIFT_LABELS_EXAMPLE;
	return SIFT_LABELS_NONE;
}

/* keys that travel as padded arrays, not in ex */
static int is_array_key(const msgpack_object *k)
{
	static const char *const keys[] = { "ids", "type_ids", "offsets", "labels" };
	if (k->type != MSGPACK_OBJECT_STR)
		return 0;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (k->via.str.size == strlen(keys[i]) &&
		    memcmp(k->via.str.ptr, keys[i], k->via.str.size) == 0)
			return 1;
	return 0;
}

/* a diagnostic naming the record; silent without a reader (tests) */
static int bad(const struct sift_reader *r, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	if (!r)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sift_rerror(r, "%s", msg);
	return -1;
}

int sift_example_read(const struct sift_reader *r, const msgpack_object *rec,
		      enum sift_label_kind lk, struct sift_example *e)
{
	size_t n, m;

	memset(e, 0, sizeof *e);
	if (rec->type != MSGPACK_OBJECT_MAP) {
		return bad(r, "record is not a map");
	}
	if (sift_need_i32s(r, rec, "ids", &e->ids, &n) < 0)
		goto fail;
	if (n == 0) {
		bad(r, "ids is empty");
		goto fail;
	}
	if (n > UINT32_MAX / 2) {
		bad(r, "ids has %zu elements, too many", n);
		goto fail;
	}
	e->T = (uint32_t)n;
	if (sift_opt_i32s(r, rec, "type_ids", &e->type_ids, &m) < 0)
		goto fail;
	if (e->type_ids && m != n) {
		bad(r, "type_ids has %zu elements, ids has %zu", m, n);
		goto fail;
	}
	if (lk == SIFT_LABELS_TOKEN) {
		if (sift_opt_i32s(r, rec, "labels", &e->labels, &m) < 0)
			goto fail;
		if (e->labels && m != n) {
			bad(r, "labels has %zu elements, ids has %zu", m, n);
			goto fail;
		}
	} else if (lk == SIFT_LABELS_EXAMPLE) {
		if (sift_get(rec, "label")) {
			if (sift_need_int(r, rec, "label", &e->label) < 0)
				goto fail;
			e->has_label = 1;
		}
	} else if (lk == SIFT_LABELS_MULTI) {
		if (sift_opt_i32s(r, rec, "label_set", &e->lset, &m) < 0)
			goto fail;
		e->nlset = (int)m;
	} else if (lk == SIFT_LABELS_TARGET) {
		int k = sift_opt_num(r, rec, "target", &e->target);
		if (k < 0)
			goto fail;
		if (k > 0 && !isfinite(e->target)) {
			bad(r, "target is not a finite number");
			goto fail;
		}
		e->has_target = k > 0;
	}

	/* the metadata: the map without the padded arrays */
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t keep = 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (uint32_t i = 0; i < rec->via.map.size; i++)
		keep += !is_array_key(&rec->via.map.ptr[i].key);
	msgpack_pack_map(&pk, keep);
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object_kv *kv = &rec->via.map.ptr[i];
		if (is_array_key(&kv->key))
			continue;
		sift_pack_obj(&pk, &kv->key);
		sift_pack_obj(&pk, &kv->val);
	}
	/* an exact copy: the sbuffer holds 8 KiB at least */
	e->nmeta = sb.size;
	e->meta = memcpy(sift_xmalloc(sb.size), sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return 0;
fail:
	sift_example_free(e);
	return -1;
}

void sift_example_free(struct sift_example *e)
{
	free(e->ids);
	free(e->type_ids);
	free(e->labels);
	free(e->meta);
	free(e->word_idx);
	free(e->lset);
	memset(e, 0, sizeof *e);
}

/* an examples record as sift_example_read reads it, and, for masking,
 * its id (the record's, else its place in the stream) and word_idx */
static int read_example(const struct sift_reader *r, const msgpack_object *rec,
			enum sift_label_kind lk, const struct sift_batch_opts *o,
			int64_t place, struct sift_example *e)
{
	size_t n;

	if (sift_example_read(r, rec, lk, e) < 0)
		return -1;
	e->id = place;
	e->nhot = o->nhot;
	for (int i = 0; i < e->nlset; i++)
		if (e->lset[i] < 0 || e->lset[i] >= o->nhot) {
			bad(r, "label_set: label id %d outside 0..%d", e->lset[i], o->nhot - 1);
			goto fail;
		}
	if (!o->mlm)
		return 0;
	if (sift_opt_int(r, rec, "id", &e->id) < 0 ||
	    sift_opt_i32s(r, rec, "word_idx", &e->word_idx, &n) < 0)
		goto fail;
	if (e->word_idx && n != e->T) {
		bad(r, "word_idx has %zu elements, ids has %u", n, e->T);
		goto fail;
	}
	if (o->mlm->whole_word && !e->word_idx) {
		bad(r, "missing key 'word_idx' (whole-word masking needs the words)");
		goto fail;
	}
	return 0;
fail:
	sift_example_free(e);
	return -1;
}

/* sift_pack_batch, the examples masked first when o->mlm says so */
static void pack(struct sift_writer *w, struct sift_example *const *ex, int B,
		 int epoch, int32_t pad, enum sift_label_kind lk,
		 const struct sift_batch_opts *o)
{
	if (!o->mlm) {
		sift_pack_batch(w, ex, B, epoch, pad, lk);
		return;
	}
	/* masked copies: the originals are masked afresh every epoch */
	struct sift_example *m = sift_xcalloc(B, sizeof *m);
	struct sift_example **ptr = sift_xcalloc(B, sizeof *ptr);
	for (int b = 0; b < B; b++) {
		m[b] = *ex[b];
		m[b].ids = sift_xmalloc(ex[b]->T * sizeof *m[b].ids);
		memcpy(m[b].ids, ex[b]->ids, ex[b]->T * sizeof *m[b].ids);
		m[b].labels = sift_xmalloc(ex[b]->T * sizeof *m[b].labels);
		sift_mlm_mask(o->mlm, epoch, ex[b]->id, ex[b]->word_idx, m[b].ids,
			      m[b].labels, ex[b]->T);
		ptr[b] = &m[b];
	}
	sift_pack_batch(w, ptr, B, epoch, pad, SIFT_LABELS_TOKEN);
	for (int b = 0; b < B; b++) {
		free(m[b].ids);
		free(m[b].labels);
	}
	free(m);
	free(ptr);
}

void sift_pack_batch(struct sift_writer *w, struct sift_example *const *ex,
		     int B, int epoch, int32_t pad_id, enum sift_label_kind lk)
{
	msgpack_packer *pk = &w->pk;
	uint32_t T = 0;
	int labels = 0;

	for (int b = 0; b < B; b++) {
		if (ex[b]->T > T)
			T = ex[b]->T;
		if (lk == SIFT_LABELS_TOKEN && ex[b]->labels)
			labels = 1;
		if (lk == SIFT_LABELS_EXAMPLE && ex[b]->has_label)
			labels = 1;
		if ((lk == SIFT_LABELS_MULTI && ex[b]->lset) ||
		    (lk == SIFT_LABELS_TARGET && ex[b]->has_target))
			labels = 1;
	}
	int L = lk == SIFT_LABELS_MULTI ? ex[0]->nhot : 1;
	float *flab = NULL;	/* (B,L) multi-hot or (B) targets */
	if (labels && (lk == SIFT_LABELS_MULTI || lk == SIFT_LABELS_TARGET)) {
		flab = sift_xcalloc((size_t)B * L, sizeof *flab);
		for (int b = 0; b < B; b++) {
			float *row = flab + (size_t)b * L;
			if (lk == SIFT_LABELS_TARGET)
				row[0] = ex[b]->has_target ? (float)ex[b]->target : NAN;
			else if (!ex[b]->lset)
				for (int l = 0; l < L; l++)
					row[l] = NAN;
			else
				for (int i = 0; i < ex[b]->nlset; i++)
					row[ex[b]->lset[i]] = 1.0f;
		}
		labels = 0;
	}
	size_t BT = (size_t)B * T;
	int32_t *ids = sift_xmalloc(BT * sizeof *ids);	/* (B,T) */
	int32_t *tt = sift_xcalloc(BT, sizeof *tt);	/* (B,T) */
	uint8_t *mask = sift_xcalloc(BT, 1);		/* (B,T) */
	int32_t *lab = NULL;	/* (B,T) token labels or (B) example labels */

	if (labels)
		lab = sift_xmalloc((lk == SIFT_LABELS_TOKEN ? BT : (size_t)B) *
				   sizeof *lab);
	for (size_t i = 0; i < BT; i++)
		ids[i] = pad_id;
	for (int b = 0; b < B; b++) {
		const struct sift_example *e = ex[b];
		size_t row = (size_t)b * T;
		memcpy(ids + row, e->ids, e->T * sizeof *ids);
		if (e->type_ids)
			memcpy(tt + row, e->type_ids, e->T * sizeof *tt);
		memset(mask + row, 1, e->T);
		if (labels && lk == SIFT_LABELS_TOKEN) {
			for (uint32_t t = 0; t < T; t++)
				lab[row + t] = e->labels && t < e->T ?
					       e->labels[t] : SIFT_IGNORE;
		} else if (labels) {
			lab[b] = e->has_label ? (int32_t)e->label : SIFT_IGNORE;
		}
	}

	msgpack_pack_map(pk, labels || flab ? 8 : 7);
	sift_pack_str(pk, "B");
	msgpack_pack_int(pk, B);
	sift_pack_str(pk, "T");
	msgpack_pack_uint32(pk, T);
	sift_pack_str(pk, "ids");
	sift_pack_i32s(pk, ids, BT);
	sift_pack_str(pk, "type_ids");
	sift_pack_i32s(pk, tt, BT);
	sift_pack_str(pk, "mask");
	sift_pack_u8s(pk, mask, BT);
	if (labels) {
		sift_pack_str(pk, "labels");
		sift_pack_i32s(pk, lab, lk == SIFT_LABELS_TOKEN ? BT : (size_t)B);
	}
	if (flab) {
		sift_pack_str(pk, "labels");
		sift_pack_f32s(pk, flab, (size_t)B * L);
	}
	sift_pack_str(pk, "epoch");
	msgpack_pack_int(pk, epoch);
	sift_pack_str(pk, "ex");
	msgpack_pack_array(pk, (uint32_t)B);
	for (int b = 0; b < B; b++)
		pk->callback(pk->data, ex[b]->meta, ex[b]->nmeta);
	free(ids);
	free(tt);
	free(mask);
	free(lab);
	free(flab);
}

/* header keys that sift_pack_header writes or that this program sets */
static int own_key(const msgpack_object *k)
{
	static const char *const keys[] = {
		"sift", "kind", "task", "labels", "vocab", "producer",
		"total", "epochs", "batch_size", "seed", "mlm_probability",
		"whole_word",
	};
	if (k->type != MSGPACK_OBJECT_STR)
		return 0;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (k->via.str.size == strlen(keys[i]) &&
		    memcmp(k->via.str.ptr, keys[i], k->via.str.size) == 0)
			return 1;
	return 0;
}

/* the examples header as a batches header, other keys passed through */
static int write_header(struct sift_writer *w, struct sift_header *h,
			const msgpack_object *in, int64_t total, int epochs,
			const struct sift_batch_opts *o)
{
	uint32_t pass = 0;

	for (uint32_t i = 0; i < in->via.map.size; i++)
		pass += !own_key(&in->via.map.ptr[i].key);
	snprintf(h->kind, sizeof h->kind, "batches");
	snprintf(h->producer, sizeof h->producer, "sift-batch %s", SIFT_VERSION);
	sift_pack_header(w, h, 4 + (int)pass + (o->mlm ? 2 : 0));
	sift_pack_str(&w->pk, "total");
	msgpack_pack_int64(&w->pk, total);
	sift_pack_str(&w->pk, "epochs");
	msgpack_pack_int(&w->pk, epochs);
	sift_pack_str(&w->pk, "batch_size");
	msgpack_pack_int(&w->pk, o->batch_size);
	sift_pack_str(&w->pk, "seed");
	msgpack_pack_uint64(&w->pk, o->seed);
	if (o->mlm) {
		sift_pack_str(&w->pk, "mlm_probability");
		msgpack_pack_double(&w->pk, o->mlm->p);
		sift_pack_str(&w->pk, "whole_word");
		if (o->mlm->whole_word)
			msgpack_pack_true(&w->pk);
		else
			msgpack_pack_false(&w->pk);
	}
	for (uint32_t i = 0; i < in->via.map.size; i++) {
		if (own_key(&in->via.map.ptr[i].key))
			continue;
		sift_pack_obj(&w->pk, &in->via.map.ptr[i].key);
		sift_pack_obj(&w->pk, &in->via.map.ptr[i].val);
	}
	return sift_commit(w);
}

static int epoch_end(struct sift_writer *w, int e)
{
	msgpack_pack_map(&w->pk, 1);
	sift_pack_str(&w->pk, "epoch_end");
	msgpack_pack_int(&w->pk, e);
	return sift_commit(w);
}

/* pushes what was written down the pipe, for a reader waiting on it */

/* the open batch of stream_batches */
struct open_batch {
	struct sift_writer *w;
	struct sift_example *ex, **ptr;
	struct sift_cut c;
	int32_t pad;
	enum sift_label_kind lk;
	const struct sift_batch_opts *o;
};

/* writes the open batch (if any) and flushes it down the pipe: when it is
 * full, and, with --flush-after, when the input goes quiet */
static int emit_open(void *arg)
{
	struct open_batch *b = arg;
	if (b->c.n == 0)
		return 0;
	pack(b->w, b->ptr, b->c.n, 0, b->pad, b->lk, b->o);
	for (int i = 0; i < b->c.n; i++)
		sift_example_free(&b->ex[i]);
	b->c = (struct sift_cut){ 0, 0 };
	return sift_writer_flush(b->w);
}

/* one epoch, in input order, a batch written as soon as it is full (or,
 * with flush_ms, as soon as the input pauses) */
static int stream_batches(struct sift_reader *r, struct sift_writer *w,
			  const struct sift_batch_opts *o, int32_t pad,
			  enum sift_label_kind lk)
{
	struct open_batch b = {
		w, sift_xcalloc(o->batch_size, sizeof *b.ex),
		sift_xcalloc(o->batch_size, sizeof *b.ptr), { 0, 0 }, pad, lk, o
	};
	const msgpack_object *rec;
	int ret, status = 0;
	int64_t place = 0;

	for (int i = 0; i < o->batch_size; i++)
		b.ptr[i] = &b.ex[i];
	if (o->flush_ms > 0)
		sift_reader_on_idle(r, o->flush_ms, emit_open, &b);
	while ((ret = sift_read(r, &rec)) > 0) {
		struct sift_example e;
		if (read_example(r, rec, lk, o, place++, &e) < 0) {
			ret = -1;
			break;
		}
		if (!sift_cut_fits(o, &b.c, e.T) && emit_open(&b) < 0) {
			sift_example_free(&e);
			status = -1;
			break;
		}
		b.ex[b.c.n] = e;
		sift_cut_add(&b.c, e.T);
		if (sift_cut_full(o, &b.c) && emit_open(&b) < 0) {
			status = -1;
			break;
		}
	}
	if (status == 0) {
		/* after a bad record, the examples before it still go out */
		if (b.c.n > 0 && (ret < 0 || !o->drop_last || b.c.n == o->batch_size)) {
			pack(w, b.ptr, b.c.n, 0, pad, lk, o);
			if (sift_commit(w) < 0)
				status = -1;
		}
		if (ret < 0)
			status = -1;
		else if (status == 0 && epoch_end(w, 0) < 0)
			status = -1;
	}
	sift_reader_on_idle(r, 0, NULL, NULL);
	for (int i = 0; i < b.c.n; i++)
		sift_example_free(&b.ex[i]);
	free(b.ex);
	free(b.ptr);
	return status;
}

/* reads every example, plans all epochs, then writes them */
static int planned_batches(struct sift_reader *r, struct sift_writer *w,
			   struct sift_header *h, const struct sift_batch_opts *o,
			   int epochs, int32_t pad, enum sift_label_kind lk)
{
	struct sift_example *ex = NULL;
	uint32_t *len = NULL;
	size_t n = 0, cap = 0;
	const msgpack_object *rec;
	int ret, status = 0;

	while ((ret = sift_read(r, &rec)) > 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			ex = sift_xrealloc(ex, cap * sizeof *ex);
			len = sift_xrealloc(len, cap * sizeof *len);
		}
		if (read_example(r, rec, lk, o, (int64_t)n, &ex[n]) < 0) {
			ret = -1;
			break;
		}
		len[n] = ex[n].T;
		n++;
	}
	if (ret < 0) {
		status = -1;
		goto out;
	}

	/* plans are cheap beside the I/O: each epoch is planned once to
	 * count its batches for the header, and again to write them, so
	 * memory does not grow with the number of epochs */
	struct sift_plan p;
	struct sift_example **ptr = sift_xcalloc(o->batch_size, sizeof *ptr);
	int64_t total = 0;
	for (int e = 0; e < epochs; e++) {
		sift_plan_epoch(len, n, o, e, &p);
		total += (int64_t)p.nbatch;
		sift_plan_free(&p);
	}
	if (write_header(w, h, sift_reader_header_obj(r), total, epochs, o) < 0)
		status = -1;
	for (int e = 0; e < epochs && status == 0; e++) {
		sift_plan_epoch(len, n, o, e, &p);
		for (size_t k = 0; k < p.nbatch && status == 0; k++) {
			int B = (int)(p.start[k + 1] - p.start[k]);
			for (int b = 0; b < B; b++)
				ptr[b] = &ex[p.idx[p.start[k] + b]];
			pack(w, ptr, B, e, pad, lk, o);
			if (sift_commit(w) < 0)
				status = -1;
		}
		sift_plan_free(&p);
		if (status == 0 && epoch_end(w, e) < 0)
			status = -1;
	}
	free(ptr);
out:
	for (size_t i = 0; i < n; i++)
		sift_example_free(&ex[i]);
	free(ex);
	free(len);
	return status;
}

int sift_batch_run(struct sift_reader *r, struct sift_writer *w,
		   struct sift_header *h, const struct sift_batch_opts *o,
		   int epochs, int32_t pad_id)
{
	enum sift_label_kind lk = sift_label_kind(h->task);
	int problem = sift_problem_of_header(r);
	if (problem < 0)
		return -1;
	struct sift_batch_opts oo = *o;
	if (lk == SIFT_LABELS_EXAMPLE && problem == SIFT_PROBLEM_MULTI) {
		lk = SIFT_LABELS_MULTI;
		oo.nhot = h->nlabels;
	} else if (lk == SIFT_LABELS_EXAMPLE && problem == SIFT_PROBLEM_REGRESSION) {
		lk = SIFT_LABELS_TARGET;
	}
	o = &oo;

	if (!o->shuffle && epochs == 1) {
		if (write_header(w, h, sift_reader_header_obj(r), -1, 1, o) < 0 ||
		    sift_writer_flush(w) < 0)
			return -1;
		return stream_batches(r, w, o, pad_id, lk);
	}
	return planned_batches(r, w, h, o, epochs, pad_id, lk);
}

/* ---- the batch record, read back ---- */

int sift_batch_rec_read(const struct sift_reader *r, const msgpack_object *rec,
			int ner, int need_labels, struct sift_batch_rec *b)
{
	size_t n, nm, nt = 0, nl = 0;
	memset(b, 0, sizeof *b);
	if (sift_need_int(r, rec, "B", &b->B) < 0 ||
	    sift_need_int(r, rec, "T", &b->T) < 0 ||
	    sift_need_i32s(r, rec, "ids", &b->ids, &n) < 0 ||
	    sift_opt_i32s(r, rec, "type_ids", &b->type_ids, &nt) < 0 ||
	    sift_need_u8s(r, rec, "mask", &b->mask, &nm) < 0)
		return -1;
	if (!sift_get(rec, "labels") && need_labels) {
		sift_rerror(r, "missing key 'labels' (training needs gold labels)");
		return -1;
	}
	enum sift_dtype dt;
	const char *data;
	const msgpack_object *lo = sift_get(rec, "labels");
	if (lo && sift_typed(lo, &dt, &nl, &data) == 0 && dt == SIFT_F32) {
		/* multi-label or regression */
		if (sift_need_f32s(r, rec, "labels", &b->flabels, &b->nflabels) < 0)
			return -1;
	} else if (sift_opt_i32s(r, rec, "labels", &b->labels, &nl) < 0)
		return -1;
	if (b->B < 1 || b->T < 1 || b->B > (1 << 30) / b->T) {
		sift_rerror(r, "B=%lld, T=%lld: each must be at least 1 and B*T at most 2^30",
			    (long long)b->B, (long long)b->T);
		return -1;
	}
	size_t bt = (size_t)b->B * (size_t)b->T;
	if (n != bt || nm != bt || (b->type_ids && nt != bt) ||
	    (b->labels && nl != (ner ? bt : (size_t)b->B)) ||
	    (b->flabels && (ner || b->nflabels % (size_t)b->B))) {
		sift_rerror(r, "array sizes do not match B=%lld, T=%lld",
			    (long long)b->B, (long long)b->T);
		return -1;
	}
	return 0;
}

void sift_batch_rec_free(struct sift_batch_rec *b)
{
	free(b->ids);
	free(b->type_ids);
	free(b->labels);
	free(b->flabels);
	free(b->mask);
	memset(b, 0, sizeof *b);
}
