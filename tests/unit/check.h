/* check.h: the small assertion harness of the C unit tests. */
#ifndef SIFT_CHECK_H
#define SIFT_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* each test binary counts its checks and prints one summary line:
 * "test-stream: 42 passed, 0 failed" */
static int check_pass, check_fail;

#define CHECK(cond) do { \
	if (cond) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ == b_) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, a_, #b, b_); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (a_ && b_ && strcmp(a_, b_) == 0) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", \
			__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
} while (0)

/* |a - b| <= tol + |b| * rel, as llm.c compares with PyTorch */
#define CHECK_CLOSE(a, b, tol, rel) do { \
	double a_ = (a), b_ = (b); \
	if (fabs(a_ - b_) <= (tol) + fabs(b_) * (rel)) check_pass++; \
	else { check_fail++; \
		fprintf(stderr, "%s:%d: %s = %.9g, expected %.9g\n", \
			__FILE__, __LINE__, #a, a_, b_); } \
} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_pass, check_fail);
	return check_fail ? 1 : 0;
}

#endif
