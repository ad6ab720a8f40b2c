/* sift-cat: prints sift streams as JSON lines, and turns JSON lines back into a stream. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msgjson.h"
#include "cli.h"
#include "stream.h"

static const char usage[] =
	"usage: sift-cat [-fjs] [-p digits] [file ...]\n";

static const char help[] =
	"Print sift streams as JSON lines (header first), or turn JSON lines\n"
	"into a stream.  The direction is chosen from the first byte of input.\n"
	"\n"
	"  -j, --to-json       always read a stream and write JSON lines\n"
	"  -s, --from-json     always read JSON lines and write a stream\n"
	"  -f, --force         write a binary stream even to a terminal\n"
	"  -p, --precision N   significant digits of numbers (default 9)\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

enum { AUTO, TO_JSON, FROM_JSON };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to-json", no_argument, NULL, 'j' },
		{ "from-json", no_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "precision", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int mode = AUTO, c, status = SIFT_EXIT_OK, precision = 9, force = 0;
	long long v;

	sift_setprog(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jsfp:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': mode = TO_JSON; break;
		case 's': mode = FROM_JSON; break;
		case 'f': force = 1; break;
		case 'p':
			if (sift_int_opt("--precision", optarg, 1, 17, &v) < 0)
				return SIFT_EXIT_USAGE;
			precision = (int)v;
			break;
		case 'h':
			return sift_help(usage, help);
		case 'V':
			return sift_version();
		default:
			return sift_opt_error(c, argv, opts);
		}
	}

	char *stdin_only[] = { "-", NULL };
	char **files = optind < argc ? argv + optind : stdin_only;
	struct sift_header first = { 0 };
	struct sift_writer w;
	int writer_ready = 0;
	long nrec = 0;

	for (char **f = files; *f && status == SIFT_EXIT_OK; f++) {
		int fd = strcmp(*f, "-") == 0 ? 0 : open(*f, O_RDONLY);
		const char *name = strcmp(*f, "-") == 0 ? "stdin" : *f;
		if (fd < 0) {
			sift_warn("%s: %s", *f, strerror(errno));
			status = SIFT_EXIT_DATA;
			break;
		}
		/* peek one byte: '{' or white space starts JSON, anything
		 * else is taken for a stream (a header map is 0x80-0x8f or 0xde) */
		unsigned char first_byte;
		ssize_t got;
		do
			got = read(fd, &first_byte, 1);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			if (got < 0)
				sift_warn("%s: %s", name, strerror(errno));
			else
				sift_warn("%s: empty input", name);
			if (fd != 0)
				close(fd);
			status = SIFT_EXIT_DATA;
			break;
		}
		/* a pipe, FIFO, terminal or socket is live: each record
		 * goes out as soon as it is read, not when a buffer fills */
		struct stat st;
		int live = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
		int m = mode;
		if (m == AUTO)
			m = strchr("{ \t\r\n", first_byte) ? FROM_JSON : TO_JSON;
		if (m == TO_JSON) {
			if (sift_stream_to_json(fd, name, &first, &first_byte, 1, precision, live) < 0)
				status = SIFT_EXIT_DATA;
			if (fd != 0)
				close(fd);
			continue;
		}
		FILE *in = fdopen(fd, "r");
		if (!in)
			sift_die(SIFT_EXIT_DATA, "%s: %s", name, strerror(errno));
		if (!writer_ready) {
			if (sift_writer_init(&w, stdout, "stdout", force) < 0) {
				fclose(in);
				return SIFT_EXIT_USAGE;
			}
			writer_ready = 1;
		}
		if (sift_json_to_stream(in, name, &w, &nrec, first_byte, live) < 0)
			status = SIFT_EXIT_DATA;
		fclose(in);
	}
	if (writer_ready) {
		/* a failed write was reported where it failed */
		if (!ferror(stdout) && sift_writer_close(&w) < 0)
			status = SIFT_EXIT_DATA;
		status = sift_writer_status(&w, status);
		sift_writer_free(&w);
	}
	sift_header_free(&first);
	if (status == SIFT_EXIT_OK && sift_close_stdout() < 0)
		status = SIFT_EXIT_DATA;
	return status;
}
