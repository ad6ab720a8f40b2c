/* sift-batch: groups tokenized examples into padded batches. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"	/* defines: sift_plan_epoch, sift_pack_batch */
#include "stream.h"

static const char usage[] =
	"usage: sift-batch [-fs] [-b n] [-e n] [-t n] [--drop-last] [--pad-id id]"
	" [--pool n] [--seed seed] [file]\n";

static const char help[] =
	"Group the examples of an examples stream (from sift-tok) into batches\n"
	"padded to their longest example, and write a batches stream.  Without\n"
	"--shuffle and with one epoch, batches stream out in input order as\n"
	"soon as they are full.\n"
	"\n"
	"  -b, --batch-size N  examples per batch (default 32)\n"
	"  -t, --max-tokens N  at most N padded tokens (B*T) per batch\n"
	"  -s, --shuffle       shuffle examples every epoch, and bucket them by length\n"
	"      --seed S        seed of the shuffle (default 0)\n"
	"      --pool N        sort by length within runs of N batches (default 100;\n"
	"                      0: no bucketing); with --shuffle\n"
	"  -e, --epochs N      write N epochs (default 1)\n"
	"      --drop-last     drop the last batch of an epoch when it is short\n"
	"      --pad-id ID     token id of padding (default: the header's pad_id, or 0)\n"
	"  -f, --force         write the binary stream even to a terminal\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

static int misuse(const char *fmt, const char *arg)
{
	fprintf(stderr, "sift-batch: ");
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'sift-batch --help'.\n", stderr);
	return SIFT_EXIT_USAGE;
}

/* an integer option in [lo, hi]; -1 on misuse (reported) */
static int int_opt(const char *name, const char *s, int64_t lo, int64_t hi,
		   int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (*s == 0 || *end || errno || *v < lo || *v > hi) {
		fprintf(stderr, "sift-batch: %s: expected an integer from %" PRId64
			" to %" PRId64 ", got '%s'\nTry 'sift-batch --help'.\n",
			name, lo, hi, s);
		return -1;
	}
	return 0;
}

/* header keys that sift_pack_header writes or that this program sets */
static int own_key(const msgpack_object *k)
{
	static const char *const keys[] = {
		"sift", "kind", "task", "labels", "vocab", "producer",
		"total", "epochs", "batch_size", "seed",
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
	sift_pack_header(w, h, 4 + (int)pass);
	sift_pack_str(&w->pk, "total");
	msgpack_pack_int64(&w->pk, total);
	sift_pack_str(&w->pk, "epochs");
	msgpack_pack_int(&w->pk, epochs);
	sift_pack_str(&w->pk, "batch_size");
	msgpack_pack_int(&w->pk, o->batch_size);
	sift_pack_str(&w->pk, "seed");
	msgpack_pack_uint64(&w->pk, o->seed);
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
static int flush(struct sift_writer *w)
{
	errno = 0;
	if (fflush(w->f) == 0)
		return 0;
	if (errno == EPIPE)
		exit(SIFT_EXIT_OK);
	sift_warn("%s: write error: %s", w->name, strerror(errno));
	return -1;
}

/* one epoch, in input order, a batch written as soon as it is full */
static int stream_batches(struct sift_reader *r, struct sift_writer *w,
			  const struct sift_batch_opts *o, int32_t pad,
			  enum sift_label_kind lk)
{
	struct sift_example *ex = sift_xcalloc(o->batch_size, sizeof *ex);
	struct sift_example **ptr = sift_xcalloc(o->batch_size, sizeof *ptr);
	struct sift_cut c = { 0, 0 };
	const msgpack_object *rec;
	int ret, status = 0;

	for (int i = 0; i < o->batch_size; i++)
		ptr[i] = &ex[i];
	while ((ret = sift_read(r, &rec)) > 0) {
		struct sift_example e;
		if (sift_example_read(r, rec, lk, &e) < 0) {
			ret = -1;
			break;
		}
		if (!sift_cut_fits(o, &c, e.T)) {
			sift_pack_batch(w, ptr, c.n, 0, pad, lk);
			for (int i = 0; i < c.n; i++)
				sift_example_free(&ex[i]);
			c = (struct sift_cut){ 0, 0 };
			if (sift_commit(w) < 0 || flush(w) < 0) {
				sift_example_free(&e);
				status = -1;
				break;
			}
		}
		ex[c.n] = e;
		sift_cut_add(&c, e.T);
		if (sift_cut_full(o, &c)) {
			sift_pack_batch(w, ptr, c.n, 0, pad, lk);
			for (int i = 0; i < c.n; i++)
				sift_example_free(&ex[i]);
			c = (struct sift_cut){ 0, 0 };
			if (sift_commit(w) < 0 || flush(w) < 0) {
				status = -1;
				break;
			}
		}
	}
	if (status == 0) {
		/* after a bad record, the examples before it still go out */
		if (c.n > 0 && (ret < 0 || !o->drop_last || c.n == o->batch_size)) {
			sift_pack_batch(w, ptr, c.n, 0, pad, lk);
			if (sift_commit(w) < 0)
				status = -1;
		}
		if (ret < 0)
			status = -1;
		else if (status == 0 && epoch_end(w, 0) < 0)
			status = -1;
	}
	for (int i = 0; i < c.n; i++)
		sift_example_free(&ex[i]);
	free(ex);
	free(ptr);
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
		if (sift_example_read(r, rec, lk, &ex[n]) < 0) {
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

	struct sift_plan *plan = sift_xcalloc(epochs, sizeof *plan);
	struct sift_example **ptr = sift_xcalloc(o->batch_size, sizeof *ptr);
	int64_t total = 0;
	for (int e = 0; e < epochs; e++) {
		sift_plan_epoch(len, n, o, e, &plan[e]);
		total += (int64_t)plan[e].nbatch;
	}
	if (write_header(w, h, sift_reader_header_obj(r), total, epochs, o) < 0)
		status = -1;
	for (int e = 0; e < epochs && status == 0; e++) {
		const struct sift_plan *p = &plan[e];
		for (size_t k = 0; k < p->nbatch && status == 0; k++) {
			int B = (int)(p->start[k + 1] - p->start[k]);
			for (int b = 0; b < B; b++)
				ptr[b] = &ex[p->idx[p->start[k] + b]];
			sift_pack_batch(w, ptr, B, e, pad, lk);
			if (sift_commit(w) < 0)
				status = -1;
		}
		if (status == 0 && epoch_end(w, e) < 0)
			status = -1;
	}
	for (int e = 0; e < epochs; e++)
		sift_plan_free(&plan[e]);
	free(plan);
	free(ptr);
out:
	for (size_t i = 0; i < n; i++)
		sift_example_free(&ex[i]);
	free(ex);
	free(len);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch-size", required_argument, NULL, 'b' },
		{ "max-tokens", required_argument, NULL, 't' },
		{ "shuffle", no_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "pool", required_argument, NULL, 'P' },
		{ "epochs", required_argument, NULL, 'e' },
		{ "drop-last", no_argument, NULL, 'd' },
		{ "pad-id", required_argument, NULL, 'p' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sift_batch_opts o = { .batch_size = 32, .pool = 100 };
	int64_t v, pad = -1, epochs = 1;
	int c, force = 0;
	char *end;

	sift_setprog(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:t:se:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (int_opt("--batch-size", optarg, 1, 1 << 20, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.batch_size = (int)v;
			break;
		case 't':
			if (int_opt("--max-tokens", optarg, 1, INT32_MAX, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.max_tokens = v;
			break;
		case 's':
			o.shuffle = 1;
			break;
		case 'S':
			errno = 0;
			o.seed = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || strchr(optarg, '-'))
				return misuse("--seed: expected an integer from 0 to "
					      "18446744073709551615, got '%s'", optarg);
			break;
		case 'P':
			if (int_opt("--pool", optarg, 0, 1 << 20, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.pool = (int)v;
			break;
		case 'e':
			if (int_opt("--epochs", optarg, 1, 1 << 20, &epochs) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case 'd':
			o.drop_last = 1;
			break;
		case 'p':
			if (int_opt("--pad-id", optarg, 0, INT32_MAX, &pad) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(help, stdout);
			return sift_close_stdout() < 0 ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
		case 'V':
			printf("sift-batch %s\n", SIFT_VERSION);
			return sift_close_stdout() < 0 ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
		case ':':
			return misuse("option '%s' needs a value", argv[optind - 1]);
		default:
			return misuse("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return misuse("one input file at most, got '%s' too", argv[optind + 1]);

	const char *file = optind < argc ? argv[optind] : "-";
	int fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY);
	if (fd < 0)
		sift_die(SIFT_EXIT_DATA, "%s: %s", file, strerror(errno));

	struct sift_writer w;
	if (sift_writer_init(&w, stdout, "stdout", force) < 0)
		return SIFT_EXIT_USAGE;

	struct sift_reader *r = sift_reader_new(fd, file);
	struct sift_header h;
	int status = SIFT_EXIT_OK;
	if (sift_read_header(r, &h) < 0) {
		sift_reader_free(r);
		sift_writer_free(&w);
		return SIFT_EXIT_DATA;
	}
	const msgpack_object *hobj = sift_reader_header_obj(r);
	if (strcmp(h.kind, "examples") != 0) {
		sift_rerror(r, "expected an examples stream (from sift-tok), got kind '%s'",
			    h.kind);
		status = SIFT_EXIT_DATA;
		goto out;
	}
	if (pad < 0) {
		int got = sift_opt_int(r, hobj, "pad_id", &pad);
		if (got < 0 || (got > 0 && (pad < 0 || pad > INT32_MAX))) {
			if (got > 0)
				sift_rerror(r, "key 'pad_id': %" PRId64
					    " is no token id", pad);
			status = SIFT_EXIT_DATA;
			goto out;
		}
		if (got == 0)
			pad = 0;
	}

	enum sift_label_kind lk = sift_label_kind(h.task);
	int ret;
	if (!o.shuffle && epochs == 1) {
		ret = write_header(&w, &h, hobj, -1, 1, &o);
		if (ret == 0)
			ret = flush(&w);
		if (ret == 0)
			ret = stream_batches(r, &w, &o, (int32_t)pad, lk);
	} else {
		ret = planned_batches(r, &w, &h, &o, (int)epochs, (int32_t)pad, lk);
	}
	/* one diagnostic per failure: after one, no more checks of stdout */
	if (ret < 0 || sift_writer_close(&w) < 0 || sift_close_stdout() < 0)
		status = SIFT_EXIT_DATA;
out:
	sift_writer_free(&w);
	sift_header_free(&h);
	sift_reader_free(r);
	return status;
}
