/* sift-batch: groups tokenized examples into padded batches. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"	/* defines: sift_batch_run */
#include "cli.h"
#include "stream.h"

static const char usage[] =
	"usage: sift-batch [-fs] [-b n] [-e n] [-t n] [--drop-last] [--pad-id id]"
	" [--pool n] [--seed seed] [--flush-after sec] [--mlm-probability p]"
	" [--whole-word-mask] [file]\n";

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
	"      --flush-after S write a short batch when the input pauses for S\n"
	"                      seconds (a live feed; not with -s or -e)\n"
	"      --pad-id ID     token id of padding (default: the header's pad_id, or 0)\n"
	"      --mlm-probability P\n"
	"                      mlm: the chance of each token to be masked (default\n"
	"                      0.15; 0: no masking, for sift-fwd's fill-mask); masks\n"
	"                      are drawn from --seed, epoch and example\n"
	"      --whole-word-mask\n"
	"                      mlm: choose whole words, every token of a word or none\n"
	"  -f, --force         write the binary stream even to a terminal\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

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
		{ "flush-after", required_argument, NULL, 'F' },
		{ "mlm-probability", required_argument, NULL, 'M' },
		{ "whole-word-mask", no_argument, NULL, 'W' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sift_batch_opts o = { .batch_size = 32, .pool = 100 };
	long long v, epochs = 1;
	int64_t pad = -1;
	int c, force = 0;
	struct sift_mlm mlm = { .p = 0.15 };
	const char *mlm_opt = NULL;	/* the first mlm option given */
	int32_t *special = NULL;

	sift_setprog(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:t:se:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (sift_int_opt("--batch-size", optarg, 1, 1 << 20, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.batch_size = (int)v;
			break;
		case 't':
			if (sift_int_opt("--max-tokens", optarg, 1, INT32_MAX, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.max_tokens = v;
			break;
		case 's':
			o.shuffle = 1;
			break;
		case 'S':
			if (sift_seed_opt("--seed", optarg, &o.seed) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case 'P':
			if (sift_int_opt("--pool", optarg, 0, 1 << 20, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.pool = (int)v;
			break;
		case 'e':
			if (sift_int_opt("--epochs", optarg, 1, 1 << 20, &epochs) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case 'd':
			o.drop_last = 1;
			break;
		case 'p':
			if (sift_int_opt("--pad-id", optarg, 0, INT32_MAX, &v) < 0)
				return SIFT_EXIT_USAGE;
			pad = v;
			break;
		case 'F': {
			double s;
			if (sift_double_opt("--flush-after", optarg, 0.001, 86400, &s) < 0)
				return SIFT_EXIT_USAGE;
			o.flush_ms = (int)(s * 1000 + 0.5);
			break;
		}
		case 'M':
			if (sift_double_opt("--mlm-probability", optarg, 0, 1, &mlm.p) < 0)
				return SIFT_EXIT_USAGE;
			if (mlm.p < 0 || mlm.p >= 1)
				return sift_misuse("--mlm-probability: expected a number from "
						   "0 to 1, 1 excluded, got '%s'", optarg);
			mlm_opt = mlm_opt ? mlm_opt : "--mlm-probability";
			break;
		case 'W':
			mlm.whole_word = 1;
			mlm_opt = mlm_opt ? mlm_opt : "--whole-word-mask";
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			return sift_help(usage, help);
		case 'V':
			return sift_version();
		default:
			return sift_opt_error(c, argv, longopts);
		}
	}
	if (argc - optind > 1)
		return sift_misuse("one input file at most, got '%s' too", argv[optind + 1]);
	if (o.flush_ms > 0 && (o.shuffle || epochs > 1))
		return sift_misuse("--flush-after: batches stream out only without "
			      "--shuffle and --epochs");

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

	if (strcmp(h.task, "mlm") == 0) {
		/* the masking's constants, from the examples header */
		int64_t mask_id;
		size_t ns;
		if (sift_need_int(r, hobj, "mask_id", &mask_id) < 0 ||
		    sift_need_i32s(r, hobj, "special_ids", &special, &ns) < 0) {
			status = SIFT_EXIT_DATA;
			goto out;
		}
		if (mask_id < 0 || h.vocab_size <= 0 || mask_id >= h.vocab_size) {
			sift_rerror(r, "key 'mask_id': %" PRId64 " is no token id of a vocabulary "
				    "of %" PRId64, mask_id, h.vocab_size);
			status = SIFT_EXIT_DATA;
			goto out;
		}
		mlm.seed = o.seed;
		mlm.mask_id = (int32_t)mask_id;
		mlm.vocab_size = h.vocab_size;
		mlm.special = special;
		mlm.nspecial = (int)ns;
		o.mlm = mlm.p > 0 ? &mlm : NULL;	/* 0: the text as it is */
	} else if (mlm_opt) {
		status = sift_misuse("%s: masking is for an mlm examples stream, %s has "
				     "task '%s'", mlm_opt, sift_reader_name(r), h.task);
		goto out;
	}

	int ret = sift_batch_run(r, &w, &h, &o, (int)epochs, (int32_t)pad);
	/* one diagnostic per failure: after one, no more checks of stdout */
	if (ret < 0 || sift_writer_close(&w) < 0 || sift_close_stdout() < 0)
		status = SIFT_EXIT_DATA;
	status = sift_writer_status(&w, status);
out:
	free(special);
	sift_writer_free(&w);
	sift_header_free(&h);
	sift_reader_free(r);
	return status;
}
