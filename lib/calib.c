/* calib.c: the expected calibration error of classifier probabilities, over equal-width bins. */
#include <math.h>

#include "calib.h"

int sift_calib_bin(double p)
{
	int b = (int)ceil(p * SIFT_CALIB_BINS) - 1;
	/* the edges b/15 as doubles, whatever ceil made of p * 15 */
	while (b > 0 && p <= (double)b / SIFT_CALIB_BINS)
		b--;
	while (b < SIFT_CALIB_BINS - 1 && p > (double)(b + 1) / SIFT_CALIB_BINS)
		b++;
	return b < 0 ? 0 : b;
}

void sift_calib_add(struct sift_calib *c, double top, int correct)
{
	int b = sift_calib_bin(top);
	c->n++;
	c->count[b]++;
	c->correct[b] += correct != 0;
	c->conf[b] += top;
}

double sift_calib_ece(const struct sift_calib *c)
{
	if (c->n <= 0)
		return 0.0;
	double e = 0.0;
	for (int b = 0; b < SIFT_CALIB_BINS; b++)
		if (c->count[b])
			e += fabs((double)c->correct[b] - c->conf[b]) / (double)c->n;
	return e;
}
