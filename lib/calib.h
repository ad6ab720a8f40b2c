/* calib.h: the expected calibration error of classifier probabilities, over equal-width bins. */
#ifndef SIFT_CALIB_H
#define SIFT_CALIB_H

#define SIFT_CALIB_BINS 15

/*
 * Examples by the bin of their top probability p: bin b holds
 * b/15 < p <= (b+1)/15 (the first one 0 <= p too), as Guo et al. (2017)
 * and the usual implementations bin; correct when the argmax of the
 * probabilities is the gold label.  ECE = sum over the bins of
 * |accuracy - mean confidence| * count / n.
 */
struct sift_calib {
	long n;
	long count[SIFT_CALIB_BINS];
	long correct[SIFT_CALIB_BINS];
	double conf[SIFT_CALIB_BINS];	/* the sum of the top probabilities */
};

/* the bin of top probability p in [0, 1] */
int sift_calib_bin(double p);
void sift_calib_add(struct sift_calib *c, double top, int correct);
double sift_calib_ece(const struct sift_calib *c);

#endif
