/* test-batch.c: unit tests of the cut rule, epoch plans and batch records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "check.h"
#include "rng.h"
#include "stream.h"

static struct sift_batch_opts opts(int bs, int64_t maxtok, int shuffle,
				   uint64_t seed, int pool, int drop)
{
	struct sift_batch_opts o = { bs, maxtok, pool, shuffle, seed, drop, 0, NULL, 0 };
	return o;
}

/* random lengths from 3 to 60, like sentences */
static uint32_t *lengths(size_t n, uint64_t seed)
{
	struct sift_rng r;
	uint32_t *len = malloc(n * sizeof *len);
	sift_rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++)
		len[i] = 3 + sift_rng_below(&r, 58);
	return len;
}

/* every example at most once; returns how many appear */
static size_t count_distinct(const struct sift_plan *p, size_t n, int *dup)
{
	char *seen = calloc(n, 1);
	size_t k = 0;
	*dup = 0;
	for (size_t i = 0; i < p->start[p->nbatch]; i++) {
		if (p->idx[i] >= n || seen[p->idx[i]])
			*dup = 1;
		else
			seen[p->idx[i]] = 1, k++;
	}
	free(seen);
	return k;
}

static int64_t padded_tokens(const struct sift_plan *p, const uint32_t *len)
{
	int64_t sum = 0;
	for (size_t k = 0; k < p->nbatch; k++) {
		uint32_t T = 0;
		for (size_t i = p->start[k]; i < p->start[k + 1]; i++)
			if (len[p->idx[i]] > T)
				T = len[p->idx[i]];
		sum += (int64_t)(p->start[k + 1] - p->start[k]) * T;
	}
	return sum;
}

static int same_plan(const struct sift_plan *a, const struct sift_plan *b)
{
	if (a->nbatch != b->nbatch)
		return 0;
	if (memcmp(a->start, b->start, (a->nbatch + 1) * sizeof *a->start))
		return 0;
	return memcmp(a->idx, b->idx, a->start[a->nbatch] * sizeof *a->idx) == 0;
}

static void test_cut(void)
{
	struct sift_batch_opts o = opts(3, 0, 0, 0, 0, 0);
	struct sift_cut c = { 0, 0 };

	CHECK(sift_cut_fits(&o, &c, 1000));
	sift_cut_add(&c, 5);
	sift_cut_add(&c, 9);
	CHECK_EQ_INT(c.T, 9);
	CHECK(!sift_cut_full(&o, &c));
	CHECK(sift_cut_fits(&o, &c, 2));
	sift_cut_add(&c, 2);
	CHECK(sift_cut_full(&o, &c));
	CHECK(!sift_cut_fits(&o, &c, 1));

	/* max tokens: 2 x 10 = 20 fits in 20; 3 x 10 does not */
	o = opts(8, 20, 0, 0, 0, 0);
	c = (struct sift_cut){ 0, 0 };
	sift_cut_add(&c, 10);
	CHECK(sift_cut_fits(&o, &c, 10));
	CHECK(!sift_cut_fits(&o, &c, 11));
	sift_cut_add(&c, 10);
	CHECK(sift_cut_full(&o, &c));
	/* an example longer than the cap still makes a batch of one */
	c = (struct sift_cut){ 0, 0 };
	CHECK(sift_cut_fits(&o, &c, 50));
	sift_cut_add(&c, 50);
	CHECK(sift_cut_full(&o, &c));
	/* 6 x 3 = 18 fits, a 7th (21) does not, and a 4 (7 x 4) neither */
	c = (struct sift_cut){ 0, 0 };
	for (int i = 0; i < 6; i++)
		sift_cut_add(&c, 3);
	CHECK(sift_cut_full(&o, &c));
	CHECK(!sift_cut_fits(&o, &c, 3));
	c.n = 5;
	CHECK(sift_cut_fits(&o, &c, 3));
	CHECK(!sift_cut_fits(&o, &c, 4));
}

static void test_plan_in_order(void)
{
	uint32_t len[10] = { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 };
	struct sift_batch_opts o = opts(4, 0, 0, 0, 100, 0);
	struct sift_plan p;

	sift_plan_epoch(len, 10, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 3);
	CHECK_EQ_INT(p.start[1], 4);
	CHECK_EQ_INT(p.start[2], 8);
	CHECK_EQ_INT(p.start[3], 10);
	int inorder = 1;
	for (size_t i = 0; i < 10; i++)
		inorder &= p.idx[i] == i;
	CHECK(inorder);
	sift_plan_free(&p);

	o.drop_last = 1;
	sift_plan_epoch(len, 10, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 2);
	CHECK_EQ_INT(p.start[2], 8);
	sift_plan_free(&p);

	/* a full last batch is kept by drop_last */
	sift_plan_epoch(len, 8, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 2);
	sift_plan_free(&p);

	/* no examples, no batches */
	sift_plan_epoch(len, 0, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 0);
	sift_plan_free(&p);
}

static void test_plan_max_tokens(void)
{
	size_t n = 2000;
	uint32_t *len = lengths(n, 7);
	len[100] = 500;		/* longer than the cap on its own */
	int shuffles[2] = { 0, 1 };

	for (int s = 0; s < 2; s++) {
		struct sift_batch_opts o = opts(64, 256, shuffles[s], 1, 10, 0);
		struct sift_plan p;
		int over = 0, dup;
		sift_plan_epoch(len, n, &o, 0, &p);
		for (size_t k = 0; k < p.nbatch; k++) {
			size_t B = p.start[k + 1] - p.start[k];
			uint32_t T = 0;
			for (size_t i = p.start[k]; i < p.start[k + 1]; i++)
				if (len[p.idx[i]] > T)
					T = len[p.idx[i]];
			if (B * T > 256 && B > 1)
				over++;
			if (B > 64)
				over++;
		}
		CHECK_EQ_INT(over, 0);
		CHECK_EQ_INT(count_distinct(&p, n, &dup), n);
		CHECK(!dup);
		sift_plan_free(&p);
	}
	free(len);
}

static void test_plan_shuffle(void)
{
	size_t n = 1000;
	uint32_t *len = lengths(n, 11);
	struct sift_batch_opts o = opts(32, 0, 1, 42, 100, 0);
	struct sift_plan a, b, c, d;
	int dup;

	sift_plan_epoch(len, n, &o, 0, &a);
	sift_plan_epoch(len, n, &o, 0, &b);
	CHECK(same_plan(&a, &b));
	CHECK_EQ_INT(count_distinct(&a, n, &dup), n);
	CHECK(!dup);
	/* bucketed: one run of 100 batches holds all 1000 examples, so
	 * exactly one batch is short */
	CHECK_EQ_INT(a.nbatch, 32);
	int short_batches = 0;
	for (size_t k = 0; k < a.nbatch; k++)
		short_batches += a.start[k + 1] - a.start[k] != 32;
	CHECK_EQ_INT(short_batches, 1);

	/* another epoch, another seed: another order */
	sift_plan_epoch(len, n, &o, 1, &c);
	CHECK(!same_plan(&a, &c));
	o.seed = 43;
	sift_plan_epoch(len, n, &o, 0, &d);
	CHECK(!same_plan(&a, &d));
	sift_plan_free(&b);
	sift_plan_free(&c);
	sift_plan_free(&d);

	/* bucketing pads far less than a plain shuffle */
	struct sift_batch_opts plain = opts(32, 0, 1, 42, 0, 0);
	sift_plan_epoch(len, n, &plain, 0, &b);
	CHECK_EQ_INT(count_distinct(&b, n, &dup), n);
	int64_t real = 0;
	for (size_t i = 0; i < n; i++)
		real += len[i];
	int64_t pb = padded_tokens(&a, len), pp = padded_tokens(&b, len);
	CHECK(pb < real + real / 10);	/* under 10% padding */
	CHECK(pp > real + real / 2);	/* lengths 3..60: lots of padding */
	/* a plain shuffle is not in input order */
	int inorder = 1;
	for (size_t i = 0; i < n; i++)
		inorder &= b.idx[i] == i;
	CHECK(!inorder);
	sift_plan_free(&a);
	sift_plan_free(&b);
	free(len);
}

static void test_plan_pools(void)
{
	/* small pools: the unfinished batch of a run goes on into the next,
	 * so only the last batch of the epoch can be short */
	size_t n = 1003;
	uint32_t *len = lengths(n, 5);
	struct sift_batch_opts o = opts(10, 0, 1, 9, 3, 0);
	struct sift_plan p;
	int dup;

	sift_plan_epoch(len, n, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 101);
	CHECK_EQ_INT(count_distinct(&p, n, &dup), n);
	CHECK(!dup);
	int short_batches = 0;
	for (size_t k = 0; k < p.nbatch; k++)
		short_batches += p.start[k + 1] - p.start[k] != 10;
	CHECK_EQ_INT(short_batches, 1);
	sift_plan_free(&p);

	o.drop_last = 1;
	sift_plan_epoch(len, n, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 100);
	CHECK_EQ_INT(count_distinct(&p, n, &dup), 1000);
	CHECK(!dup);
	sift_plan_free(&p);

	/* exact multiple of the batch size: nothing to drop */
	sift_plan_epoch(len, 1000, &o, 0, &p);
	CHECK_EQ_INT(p.nbatch, 100);
	sift_plan_free(&p);
	free(len);
}

/* the set of examples of each batch, as a sorted signature */
static int same_batches(const struct sift_plan *a, const struct sift_plan *b,
			size_t n)
{
	/* batch number of each example in a, then: do the examples of
	 * each batch of b all share one batch of a? */
	size_t *in = malloc(n * sizeof *in);
	int same = a->nbatch == b->nbatch;
	for (size_t k = 0; k < a->nbatch; k++)
		for (size_t i = a->start[k]; i < a->start[k + 1]; i++)
			in[a->idx[i]] = k;
	for (size_t k = 0; same && k < b->nbatch; k++)
		for (size_t i = b->start[k]; i < b->start[k + 1]; i++)
			same &= in[b->idx[i]] == in[b->idx[b->start[k]]];
	free(in);
	return same;
}

/* the mean of (longest - shortest) over the batches */
static double mean_span(const struct sift_plan *p, const uint32_t *len)
{
	double sum = 0;
	for (size_t k = 0; k < p->nbatch; k++) {
		uint32_t lo = UINT32_MAX, hi = 0;
		for (size_t i = p->start[k]; i < p->start[k + 1]; i++) {
			if (len[p->idx[i]] < lo)
				lo = len[p->idx[i]];
			if (len[p->idx[i]] > hi)
				hi = len[p->idx[i]];
		}
		sum += hi - lo;
	}
	return p->nbatch ? sum / p->nbatch : 0;
}

static void test_plan_max_tokens_pool(void)
{
	/* a huge batch size under a token cap: a pool is 10 batches of
	 * about 1024 / mean-length examples, not 10 x 100000 */
	size_t n = 5000;
	uint32_t *len = lengths(n, 3);
	struct sift_batch_opts o = opts(100000, 1024, 1, 5, 10, 0);
	struct sift_plan a, b;
	int dup;

	sift_plan_epoch(len, n, &o, 0, &a);
	sift_plan_epoch(len, n, &o, 1, &b);
	CHECK_EQ_INT(count_distinct(&a, n, &dup), n);
	CHECK(!dup);
	int64_t real = 0;
	for (size_t i = 0; i < n; i++)
		real += len[i];
	CHECK(padded_tokens(&a, len) < real + real / 5);
	/* small pools: epochs group examples differently */
	CHECK(!same_batches(&a, &b, n));
	CHECK(same_batches(&a, &a, n));
	/* and a batch holds several lengths, where one sort of all the
	 * examples (a pool larger than the data) gives one length a batch */
	struct sift_batch_opts all = opts(100000, 1024, 1, 5, 1 << 20, 0);
	struct sift_plan g;
	sift_plan_epoch(len, n, &all, 0, &g);
	double sa = mean_span(&a, len), sg = mean_span(&g, len);
	CHECK(sa > 1.5 * sg);
	sift_plan_free(&g);
	sift_plan_free(&a);
	sift_plan_free(&b);

	/* no examples at all */
	sift_plan_epoch(len, 0, &o, 0, &a);
	CHECK_EQ_INT(a.nbatch, 0);
	sift_plan_free(&a);
	free(len);
}

static void test_plan_noise(void)
{
	/* distinct lengths, one pool for all: the length noise still gives
	 * each epoch other batches, of like length */
	size_t n = 200;
	uint32_t len[200];
	struct sift_batch_opts o = opts(8, 0, 1, 7, 100, 0);
	struct sift_plan a, b;

	for (size_t i = 0; i < n; i++)
		len[i] = 10 + (uint32_t)i;
	sift_plan_epoch(len, n, &o, 0, &a);
	sift_plan_epoch(len, n, &o, 1, &b);
	CHECK(!same_batches(&a, &b, n));
	/* within 5% of each other, give or take */
	int wide = 0;
	for (size_t k = 0; k < a.nbatch; k++) {
		uint32_t lo = UINT32_MAX, hi = 0;
		for (size_t i = a.start[k]; i < a.start[k + 1]; i++) {
			lo = len[a.idx[i]] < lo ? len[a.idx[i]] : lo;
			hi = len[a.idx[i]] > hi ? len[a.idx[i]] : hi;
		}
		wide += hi - lo > 8 + hi / 8;
	}
	CHECK_EQ_INT(wide, 0);
	sift_plan_free(&a);
	sift_plan_free(&b);
}

static void test_label_kind(void)
{
	CHECK_EQ_INT(sift_label_kind("ner"), SIFT_LABELS_TOKEN);
	CHECK_EQ_INT(sift_label_kind("cls"), SIFT_LABELS_EXAMPLE);
	CHECK_EQ_INT(sift_label_kind("pair"), SIFT_LABELS_EXAMPLE);
	CHECK_EQ_INT(sift_label_kind(""), SIFT_LABELS_NONE);
}

/* an examples record built with the writer API, read back; the objects
 * point into buf, so it lives as long as they do */
struct rec {
	msgpack_unpacked u;	/* first: a struct rec * is a msgpack_unpacked * */
	char *buf;
};

static msgpack_unpacked *record(struct sift_writer *w)
{
	struct rec *r = malloc(sizeof *r);
	size_t off = 0;
	r->buf = malloc(w->sb.size);
	memcpy(r->buf, w->sb.data, w->sb.size);
	msgpack_unpacked_init(&r->u);
	CHECK(msgpack_unpack_next(&r->u, r->buf, w->sb.size, &off) ==
	      MSGPACK_UNPACK_SUCCESS);
	msgpack_sbuffer_clear(&w->sb);
	return &r->u;
}

static void record_free(msgpack_unpacked *u)
{
	struct rec *r = (struct rec *)u;
	msgpack_unpacked_destroy(&r->u);
	free(r->buf);
	free(r);
}

static msgpack_unpacked *ner_example(struct sift_writer *w, int id,
				     const int32_t *ids, size_t T,
				     const int32_t *labels)
{
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, labels ? 5 : 4);
	sift_pack_str(pk, "id");
	msgpack_pack_int(pk, id);
	sift_pack_str(pk, "ids");
	sift_pack_i32s(pk, ids, T);
	sift_pack_str(pk, "offsets");
	msgpack_pack_array(pk, 0);
	sift_pack_str(pk, "words");
	msgpack_pack_array(pk, 1);
	sift_pack_str(pk, "w");
	if (labels) {
		sift_pack_str(pk, "labels");
		msgpack_pack_array(pk, (uint32_t)T);	/* plain array */
		for (size_t i = 0; i < T; i++)
			msgpack_pack_int(pk, labels[i]);
	}
	return record(w);
}

static void test_pack_batch(void)
{
	struct sift_writer w;
	FILE *f = tmpfile();
	int32_t a[4] = { 101, 7, 8, 102 }, la[4] = { -100, 1, 2, -100 };
	int32_t b[2] = { 101, 102 };
	struct sift_example ex[2], *ptr[2] = { &ex[0], &ex[1] };

	CHECK(sift_writer_init(&w, f, "tmp", 1) == 0);
	msgpack_unpacked *ua = ner_example(&w, 0, a, 4, la);
	msgpack_unpacked *ub = ner_example(&w, 1, b, 2, NULL);
	CHECK(sift_example_read(NULL, &ua->data, SIFT_LABELS_TOKEN, &ex[0]) == 0);
	CHECK(sift_example_read(NULL, &ub->data, SIFT_LABELS_TOKEN, &ex[1]) == 0);
	CHECK_EQ_INT(ex[0].T, 4);
	CHECK(ex[0].labels != NULL);
	CHECK(ex[1].labels == NULL);
	CHECK(ex[1].type_ids == NULL);

	sift_pack_batch(&w, ptr, 2, 3, 0, SIFT_LABELS_TOKEN);
	msgpack_unpacked *ub2 = record(&w);
	const msgpack_object *o = &ub2->data;
	int64_t B = 0, T = 0, ep = 0;
	int32_t *ids, *tt, *lab;
	uint8_t *mask;
	size_t n;
	CHECK(sift_need_int(NULL, o, "B", &B) == 1);
	CHECK(sift_need_int(NULL, o, "T", &T) == 1);
	CHECK(sift_need_int(NULL, o, "epoch", &ep) == 1);
	CHECK_EQ_INT(B, 2);
	CHECK_EQ_INT(T, 4);
	CHECK_EQ_INT(ep, 3);
	CHECK(sift_need_i32s(NULL, o, "ids", &ids, &n) == 1);
	int32_t want_ids[8] = { 101, 7, 8, 102, 101, 102, 0, 0 };
	CHECK_EQ_INT(n, 8);
	CHECK(memcmp(ids, want_ids, sizeof want_ids) == 0);
	CHECK(sift_need_i32s(NULL, o, "type_ids", &tt, &n) == 1);
	int32_t zeros[8] = { 0 };
	CHECK(memcmp(tt, zeros, sizeof zeros) == 0);
	CHECK(sift_need_u8s(NULL, o, "mask", &mask, &n) == 1);
	uint8_t want_mask[8] = { 1, 1, 1, 1, 1, 1, 0, 0 };
	CHECK(memcmp(mask, want_mask, sizeof want_mask) == 0);
	CHECK(sift_need_i32s(NULL, o, "labels", &lab, &n) == 1);
	int32_t want_lab[8] = { -100, 1, 2, -100, -100, -100, -100, -100 };
	CHECK_EQ_INT(n, 8);
	CHECK(memcmp(lab, want_lab, sizeof want_lab) == 0);
	/* typed arrays, not plain ones, on the way out */
	enum sift_dtype dt;
	const char *data;
	CHECK(sift_typed(sift_get(o, "labels"), &dt, &n, &data) == 0 &&
	      dt == SIFT_I32);
	CHECK(sift_typed(sift_get(o, "mask"), &dt, &n, &data) == 0 &&
	      dt == SIFT_U8);
	/* ex: the examples without ids, offsets and labels */
	const msgpack_object *e = sift_get(o, "ex");
	CHECK(e && e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 2);
	if (e && e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 2) {
		const msgpack_object *e1 = &e->via.array.ptr[1];
		int64_t id = -1;
		CHECK(sift_need_int(NULL, e1, "id", &id) == 1);
		CHECK_EQ_INT(id, 1);
		CHECK(sift_get(e1, "words") != NULL);
		CHECK(sift_get(e1, "ids") == NULL);
		CHECK(sift_get(e1, "offsets") == NULL);
		CHECK(sift_get(&e->via.array.ptr[0], "labels") == NULL);
		CHECK_EQ_INT(e1->via.map.size, 2);
	}
	free(ids);
	free(tt);
	free(mask);
	free(lab);

	/* with a pad id, and no labels at all: no labels key */
	ptr[0] = &ex[1];
	sift_pack_batch(&w, ptr, 1, 0, 5, SIFT_LABELS_TOKEN);
	msgpack_unpacked *ub3 = record(&w);
	CHECK(sift_get(&ub3->data, "labels") == NULL);
	ptr[1] = &ex[0];
	sift_pack_batch(&w, ptr, 2, 0, 5, SIFT_LABELS_NONE);
	msgpack_unpacked *ub4 = record(&w);
	CHECK(sift_get(&ub4->data, "labels") == NULL);
	CHECK(sift_need_i32s(NULL, &ub4->data, "ids", &ids, &n) == 1);
	int32_t want_pad[8] = { 101, 102, 5, 5, 101, 7, 8, 102 };
	CHECK(memcmp(ids, want_pad, sizeof want_pad) == 0);
	free(ids);

	msgpack_unpacked *all[] = { ua, ub, ub2, ub3, ub4 };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		record_free(all[i]);
	}
	sift_example_free(&ex[0]);
	sift_example_free(&ex[1]);
	sift_writer_free(&w);
	fclose(f);
}

static void test_cls_labels(void)
{
	struct sift_writer w;
	FILE *f = tmpfile();
	int32_t a[3] = { 101, 7, 102 }, ta[3] = { 0, 0, 1 };
	struct sift_example ex[2], *ptr[2] = { &ex[0], &ex[1] };
	msgpack_packer *pk = &w.pk;

	CHECK(sift_writer_init(&w, f, "tmp", 1) == 0);
	msgpack_pack_map(pk, 3);
	sift_pack_str(pk, "ids");
	sift_pack_i32s(pk, a, 3);
	sift_pack_str(pk, "type_ids");
	sift_pack_i32s(pk, ta, 3);
	sift_pack_str(pk, "label");
	msgpack_pack_int(pk, 2);
	msgpack_unpacked *ua = record(&w);
	msgpack_pack_map(pk, 1);
	sift_pack_str(pk, "ids");
	sift_pack_i32s(pk, a, 2);
	msgpack_unpacked *ub = record(&w);
	CHECK(sift_example_read(NULL, &ua->data, SIFT_LABELS_EXAMPLE, &ex[0]) == 0);
	CHECK(sift_example_read(NULL, &ub->data, SIFT_LABELS_EXAMPLE, &ex[1]) == 0);
	CHECK(ex[0].has_label && ex[0].label == 2);
	CHECK(!ex[1].has_label);
	sift_pack_batch(&w, ptr, 2, 0, 0, SIFT_LABELS_EXAMPLE);
	msgpack_unpacked *u = record(&w);
	int32_t *lab, *tt;
	size_t n;
	CHECK(sift_need_i32s(NULL, &u->data, "labels", &lab, &n) == 1);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(lab[0], 2);
	CHECK_EQ_INT(lab[1], -100);
	CHECK(sift_need_i32s(NULL, &u->data, "type_ids", &tt, &n) == 1);
	int32_t want_tt[6] = { 0, 0, 1, 0, 0, 0 };
	CHECK(memcmp(tt, want_tt, sizeof want_tt) == 0);
	/* the gold label stays in ex too */
	const msgpack_object *e = sift_get(&u->data, "ex");
	CHECK(e && sift_get(&e->via.array.ptr[0], "label") != NULL);
	free(lab);
	free(tt);

	/* mismatched lengths are refused */
	struct sift_example bad;
	msgpack_pack_map(pk, 2);
	sift_pack_str(pk, "ids");
	sift_pack_i32s(pk, a, 3);
	sift_pack_str(pk, "type_ids");
	sift_pack_i32s(pk, ta, 2);
	msgpack_unpacked *uc = record(&w);
	CHECK(sift_example_read(NULL, &uc->data, SIFT_LABELS_EXAMPLE, &bad) < 0);
	CHECK(bad.ids == NULL && bad.meta == NULL);

	msgpack_unpacked *all[] = { ua, ub, u, uc };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
		record_free(all[i]);
	}
	sift_example_free(&ex[0]);
	sift_example_free(&ex[1]);
	sift_writer_free(&w);
	fclose(f);
}

int main(void)
{
	test_cut();
	test_plan_in_order();
	test_plan_max_tokens();
	test_plan_shuffle();
	test_plan_pools();
	test_plan_max_tokens_pool();
	test_plan_noise();
	test_label_kind();
	test_pack_batch();
	test_cls_labels();
	return check_done("test-batch");
}
