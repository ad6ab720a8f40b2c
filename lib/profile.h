/* profile.h: SIFT_PROFILE=1, the wall time of every op of a backend's table, printed at exit. */
#ifndef SIFT_PROFILE_H
#define SIFT_PROFILE_H

#include "backend.h"

/*
 * Replaces every slot of be by a wrapper that calls the op, syncs the
 * device (a no-op on the CPU) and adds the wall time, the call count and
 * (for the products) the floating-point operations to the op's totals;
 * the totals go to stderr at exit, largest first, beside the process's
 * wall time.  The CPU backend installs it on itself when SIFT_PROFILE is
 * set and not "0" (lib/backend_cpu.c), so with it unset nothing is
 * wrapped and nothing costs.  Safe when ops run in several threads at
 * once (inference's row groups): the totals are then thread time.
 * Installing twice, or on a second backend, does nothing.
 */
void sift_profile_install(struct sift_backend *be);

/* the totals of op so far: seconds, calls, GFLOP (products; else 0) */
void sift_profile_get(enum sift_op op, double *s, long *calls, double *gflop);

#endif
