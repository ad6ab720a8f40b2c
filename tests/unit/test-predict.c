/* test-predict.c: the cls prediction records of a router: top-k order and the abstain decision. */
#include "check.h"
#include "predict.h"
#include "stream.h"

/* the committed records, concatenated */
struct buf {
	char *data;
	size_t n;
};

static int sink(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;
	b->data = realloc(b->data, b->n + n);
	memcpy(b->data + b->n, p, n);
	b->n += n;
	return 0;
}

/* the record at *off of b into u */
static void next(const struct buf *b, size_t *off, msgpack_unpacked *u)
{
	CHECK(msgpack_unpack_next(u, b->data, b->n, off) == MSGPACK_UNPACK_SUCCESS);
}

/* "l:p,l:p,..." of a record's top, p with 3 decimals */
static void top_str(const msgpack_object *rec, char *s, size_t n)
{
	const msgpack_object *t = sift_get(rec, "top");
	s[0] = 0;
	if (!t || t->type != MSGPACK_OBJECT_ARRAY)
		return;
	size_t len = 0;
	for (uint32_t i = 0; i < t->via.array.size; i++) {
		const msgpack_object *l = sift_get(&t->via.array.ptr[i], "label");
		const msgpack_object *p = sift_get(&t->via.array.ptr[i], "prob");
		len += snprintf(s + len, n - len, "%s%.*s:%.3f", i ? "," : "",
				(int)l->via.str.size, l->via.str.ptr, p->via.f64);
	}
}

static const char *str(const msgpack_object *rec, const char *key, char *s)
{
	const msgpack_object *o = sift_get(rec, key);
	if (!o || o->type != MSGPACK_OBJECT_STR)
		return "(none)";
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = 0;
	return s;
}

/* B examples with ids 0..B-1 through p: the records in out */
static void run(struct sift_pred *p, const float *probs, int B, struct buf *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	sift_pack_str(&pk, "ex");
	msgpack_pack_array(&pk, B);
	for (int b = 0; b < B; b++) {
		msgpack_pack_map(&pk, 1);
		sift_pack_str(&pk, "id");
		msgpack_pack_int(&pk, b);
	}
	msgpack_unpacked u;
	size_t off = 0;
	msgpack_unpacked_init(&u);
	CHECK(msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS);
	struct sift_writer w;
	sift_writer_init_sink(&w, "test", sink, out);
	struct sift_reader *r = sift_reader_new(0, "test");
	struct bert_batch bb = { .B = B };
	CHECK_EQ_INT(sift_pred_batch(p, r, &u.data, &bb, probs, &w), 0);
	sift_reader_free(r);
	sift_writer_free(&w);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

static void test_top_and_abstain(void)
{
	char *labels[] = { "a", "b", "c", "d" };
	struct sift_header in;
	sift_header_init(&in, "batches", "cls", NULL);
	/* ties go by label id; at the threshold (0.5) a record is kept */
	const float probs[] = {
		0.25f, 0.25f, 0.25f, 0.25f,
		0.125f, 0.375f, 0.375f, 0.125f,
		0.0f, 0.125f, 0.375f, 0.5f,
	};
	struct sift_pred *p = sift_pred_new(0, labels, 4, &in);
	sift_pred_set_decision(p, 3, 0.5f, "oos");
	struct buf out = { 0 };
	run(p, probs, 3, &out);
	static const char *const want_top[] = {
		"a:0.250,b:0.250,c:0.250", "b:0.375,c:0.375,a:0.125",
		"d:0.500,c:0.375,b:0.125",
	};
	static const char *const want_pred[] = { "oos", "oos", "d" };
	size_t off = 0;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	for (int i = 0; i < 3; i++) {
		char s[256], t[64];
		next(&out, &off, &u);
		top_str(&u.data, s, sizeof s);
		CHECK_STR(s, want_top[i]);
		CHECK_STR(str(&u.data, "pred", t), want_pred[i]);
		const msgpack_object *ab = sift_get(&u.data, "abstained");
		CHECK(ab && ab->type == MSGPACK_OBJECT_BOOLEAN &&
		      ab->via.boolean == (i < 2));
	}
	CHECK_EQ_INT(off, out.n);
	sift_pred_free(p);
	free(out.data);

	/* no decision: no top, no abstained, the argmax (the first of a tie) */
	p = sift_pred_new(0, labels, 4, &in);
	out = (struct buf){ 0 };
	run(p, probs, 3, &out);
	off = 0;
	for (int i = 0; i < 3; i++) {
		char t[64];
		next(&out, &off, &u);
		CHECK(!sift_get(&u.data, "top") && !sift_get(&u.data, "abstained"));
		CHECK_STR(str(&u.data, "pred", t), i == 0 ? "a" : i == 1 ? "b" : "d");
	}
	sift_pred_free(p);
	free(out.data);

	/* k over the label count: every label */
	p = sift_pred_new(0, labels, 4, &in);
	sift_pred_set_decision(p, 9, 0, NULL);
	out = (struct buf){ 0 };
	run(p, probs + 8, 1, &out);
	off = 0;
	next(&out, &off, &u);
	char s[256];
	top_str(&u.data, s, sizeof s);
	CHECK_STR(s, "d:0.500,c:0.375,b:0.125,a:0.000");
	CHECK(!sift_get(&u.data, "abstained"));
	sift_pred_free(p);
	free(out.data);
	msgpack_unpacked_destroy(&u);
	sift_header_free(&in);
}

int main(void)
{
	test_top_and_abstain();
	return check_done("test-predict");
}
