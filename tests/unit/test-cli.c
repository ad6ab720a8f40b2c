/* test-cli.c: the option parsers and the getopt error messages every main shares. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "prog.h"

/* what the last call wrote on stderr, its trailing "Try" line cut */
static char said[512];
static int saved_fd = -1;
static FILE *capture;

static void begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	saved_fd = dup(2);
	dup2(fileno(capture), 2);
}

static const char *end(void)
{
	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(capture);
	size_t n = fread(said, 1, sizeof said - 1, capture);
	said[n] = 0;
	fclose(capture);
	char *nl = strchr(said, '\n');
	if (nl)
		*nl = 0;
	return said;
}

static void test_u64(void)
{
	uint64_t v = 7;

	CHECK_EQ_INT(sift_seed_opt("--seed", "0", &v), 0);
	CHECK(v == 0);
	CHECK_EQ_INT(sift_seed_opt("--seed", "18446744073709551615", &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ_INT(sift_seed_opt("--seed", "9007199254740993", &v), 0);
	CHECK(v == 9007199254740993ull);	/* 2^53+1: not through a double */
	v = 7;
	/* 2^64, a sign, blanks, junk, nothing, a decimal: refused, v kept */
	static const char *bad[] = { "18446744073709551616", "-1", "-0", "+1",
		" 1", "1 ", "1x", "", "1e3", "0x10", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		begin();
		int rc = sift_seed_opt("--seed", bad[i], &v);
		end();
		CHECK_EQ_INT(rc, -1);
		CHECK(v == 7);
	}
	begin();
	sift_seed_opt("--init-head", "-1", &v);
	CHECK_STR(end(), "sift-x: --init-head: expected an integer from 0 to "
		  "18446744073709551615, got '-1'");
	begin();
	CHECK_EQ_INT(sift_u64_opt("--n", "4", 5, 9, &v), -1);
	CHECK_STR(end(), "sift-x: --n: expected an integer from 5 to 9, got '4'");
	CHECK_EQ_INT(sift_u64_opt("--n", "9", 5, 9, &v), 0);
	CHECK(v == 9);
}

static void test_int(void)
{
	long long v;

	CHECK_EQ_INT(sift_int_opt("--n", "-3", -5, 5, &v), 0);
	CHECK_EQ_INT(v, -3);
	CHECK_EQ_INT(sift_int_opt("--n", "+3", -5, 5, &v), 0);
	CHECK_EQ_INT(v, 3);
	static const char *bad[] = { " 3", "3 ", "", "-", "6", "3.0",
		"9223372036854775808" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		begin();
		CHECK_EQ_INT(sift_int_opt("--n", bad[i], -5, 5, &v), -1);
		end();
	}
	begin();
	sift_int_opt("--n", " 3", -5, 5, &v);
	CHECK_STR(end(), "sift-x: --n: expected an integer from -5 to 5, got ' 3'");
}

static void test_double(void)
{
	double v = 7;

	CHECK_EQ_INT(sift_double_opt("--lr", "5e-5", 0, 1e3, &v), 0);
	CHECK_CLOSE(v, 5e-5, 0, 1e-15);
	CHECK_EQ_INT(sift_double_opt("--lr", "1000", 0, 1e3, &v), 0);
	CHECK_CLOSE(v, 1000, 0, 0);
	CHECK_EQ_INT(sift_double_opt("--lr", "0", 0, 1e3, &v), 0);
	v = 7;
	static const char *bad[] = { "nan", "inf", "-inf", "1e999", "1e-400",
		"1000.001", "-1", " 1", "1 ", "1x", "", "fast" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		begin();
		int rc = sift_double_opt("--lr", bad[i], 0, 1e3, &v);
		end();
		CHECK_EQ_INT(rc, -1);
		CHECK(v == 7);
	}
	begin();
	sift_double_opt("--dropout", "2", 0, 0.999, &v);
	CHECK_STR(end(), "sift-x: --dropout: expected a number from 0 to 0.999, got '2'");
}

static const struct option longopts[] = {
	{ "shuffle", no_argument, NULL, 's' },
	{ "seed", required_argument, NULL, 'S' },
	{ "max-tokens", required_argument, NULL, 't' },
	{ "force", no_argument, NULL, 'f' },
	{ "freeze-layers", required_argument, NULL, 300 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* the message of the first error getopt_long meets in args */
static const char *error_of(const char *args)
{
	char buf[256], *argv[16];
	int argc = 0;

	snprintf(buf, sizeof buf, "sift-x %s", args);
	for (char *t = strtok(buf, " "); t && argc < 15; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	optind = 0;	/* glibc: start over */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":st:fh", longopts, NULL)) != -1)
		if (c == '?' || c == ':') {
			begin();
			int rc = sift_opt_error(c, argv, longopts);
			end();
			CHECK_EQ_INT(rc, SIFT_EXIT_USAGE);
			return said;
		}
	return "";
}

static void test_opt_error(void)
{
	CHECK_STR(error_of("--bogus"), "sift-x: unknown option '--bogus'");
	CHECK_STR(error_of("--bogus=3"), "sift-x: unknown option '--bogus'");
	CHECK_STR(error_of("-Z"), "sift-x: unknown option '-Z'");
	/* a cluster under way: the argument before it is not the option */
	CHECK_STR(error_of("--shuffle -sZq"), "sift-x: unknown option '-Z'");
	CHECK_STR(error_of("--seed=1 -Sx"), "sift-x: unknown option '-S'");
	CHECK_STR(error_of("--max-tokens"), "sift-x: option '--max-tokens' needs a value");
	CHECK_STR(error_of("--max-tok"), "sift-x: option '--max-tok' needs a value");
	CHECK_STR(error_of("-s -t"), "sift-x: option '-t' needs a value");
	CHECK_STR(error_of("--freeze-layers"), "sift-x: option '--freeze-layers' needs a value");
	CHECK_STR(error_of("--help=1"), "sift-x: option '--help' takes no value");
	CHECK_STR(error_of("--f"), "sift-x: option '--f' is ambiguous");
	CHECK_STR(error_of("--fo=1"), "sift-x: option '--fo' takes no value");
	CHECK_STR(error_of("a -- --bogus"), "");
}

int main(void)
{
	sift_setprog("/some/where/sift-x");
	test_u64();
	test_int();
	test_double();
	test_opt_error();
	return check_done("test-cli");
}
