/* test-problem.c: the multi-label and regression losses and scores at their edges. */
#include "check.h"
#include "problem.h"
#include "problemeval.h"

/* BCEWithLogitsLoss stays finite where sigmoid saturates, as PyTorch's */
static void test_bce_extremes(void)
{
	const float x[4] = { 100.0f, -100.0f, 0.0f, 30.0f };
	const float y[4] = { 0.0f, 1.0f, 1.0f, 1.0f };
	float d[4];
	/* mean of 100, 100, log 2, log(1 + e^-30) */
	double want = (200.0 + log(2.0) + log1p(exp(-30.0))) / 4.0;
	double l = sift_problem_loss(SIFT_PROBLEM_MULTI, x, y, 2, 2, d, 1.0f);
	CHECK(isfinite(l));
	CHECK_CLOSE(l, want, 1e-12, 1e-12);
	/* (sigmoid(x) - y) / (B*L) */
	CHECK_CLOSE(d[0], 0.25, 1e-7, 0);
	CHECK_CLOSE(d[1], -0.25, 1e-7, 0);
	CHECK_CLOSE(d[2], -0.125, 1e-7, 0);
	CHECK(fabs(d[3]) < 1e-13);
	float o[4];
	sift_problem_outputs(SIFT_PROBLEM_MULTI, x, o, 4);
	CHECK(o[0] == 1.0f && o[1] >= 0.0f && o[1] < 1e-40 && o[2] == 0.5f);
}

/* MSELoss on the squeezed logit; the gradient scaled for accumulation */
static void test_mse(void)
{
	const float x[3] = { 1.0f, 2.0f, 4.0f }, y[3] = { 1.0f, 0.0f, 5.0f };
	float d[3];
	double l = sift_problem_loss(SIFT_PROBLEM_REGRESSION, x, y, 3, 1, d, 0.5f);
	CHECK_CLOSE(l, 5.0 / 3.0, 1e-12, 0);
	CHECK_CLOSE(d[0], 0.0, 1e-9, 0);
	CHECK_CLOSE(d[1], 2.0 * 2.0 * 0.5 / 3.0, 1e-7, 0);
	CHECK_CLOSE(d[2], -2.0 * 0.5 / 3.0, 1e-7, 0);
	float o[3];
	sift_problem_outputs(SIFT_PROBLEM_REGRESSION, x, o, 3);
	CHECK(o[0] == 1.0f && o[1] == 2.0f && o[2] == 4.0f);
}

/* correlations: ties ranked by their mean rank, constants NaN */
static void test_correlations(void)
{
	struct sift_problem_metrics m;
	char *lab[] = { "score" };
	sift_pm_init(&m, SIFT_PROBLEM_REGRESSION, lab, 1);
	double x[] = { 1, 2, 2, 3 }, y[] = { 10, 20, 30, 40 };
	m.x = malloc(sizeof x);
	m.y = malloc(sizeof y);
	memcpy(m.x, x, sizeof x);
	memcpy(m.y, y, sizeof y);
	m.total = 4;
	m.cap = 4;
	/* ranks 1, 2.5, 2.5, 4 against 1, 2, 3, 4: r = 4.5 / sqrt(4.5 * 5) */
	CHECK_CLOSE(sift_pm_spearman(&m), 4.5 / sqrt(4.5 * 5.0), 1e-12, 0);
	CHECK_CLOSE(sift_pm_pearson(&m), sift_pm_spearman(&m), 1e-12, 0);
	CHECK_CLOSE(sift_pm_mae(&m), (9 + 18 + 28 + 37) / 4.0, 1e-12, 0);
	for (int i = 0; i < 4; i++)
		m.x[i] = 7;
	CHECK(isnan(sift_pm_pearson(&m)));
	CHECK(isnan(sift_pm_spearman(&m)));
	sift_pm_free(&m);
}

/* an empty stream scores 0, not NaN or a division by zero */
static void test_empty(void)
{
	struct sift_problem_metrics m;
	char *lab[] = { "a", "b" };
	sift_pm_init(&m, SIFT_PROBLEM_MULTI, lab, 2);
	CHECK(sift_pm_subset_accuracy(&m) == 0.0);
	CHECK(sift_pm_hamming(&m) == 0.0);
	CHECK(sift_pm_micro(&m).f1 == 0.0 && sift_pm_macro(&m).f1 == 0.0);
	sift_pm_free(&m);
	CHECK_EQ_INT(sift_problem_parse("regression", 10), SIFT_PROBLEM_REGRESSION);
	CHECK_EQ_INT(sift_problem_parse("multi_label_classification", 26), SIFT_PROBLEM_MULTI);
	CHECK_EQ_INT(sift_problem_parse("multi", 5), -1);
}

int main(void)
{
	test_bce_extremes();
	test_mse();
	test_correlations();
	test_empty();
	return check_done("test-problem");
}
