/* dist.h: data-parallel training over MPI ranks, or one rank without MPI. */
#ifndef SIFT_DIST_H
#define SIFT_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"	/* defines: sift_backend (device buffers) */

/*
 * A job of N ranks (mpirun -np N, srun) trains one model: rank r takes
 * batches r, r+N, ... of each group of N x --accum batches of the same
 * stream, and one optimizer step sums the group's gradients over the
 * ranks in rank order (dist_sum_floats), the sum one process with
 * --accum N makes.  MPI is used only when the process was started by a
 * launcher (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_SIZE in the
 * environment); otherwise, and when built without MPI, this is rank 0
 * of 1 and every call below does nothing.  Communication errors abort
 * the job (MPI's default handler): a rank that dies stops the others.
 */

/* whether MPI was compiled in */
int dist_built(void);

/* starts MPI when launched by one: 0; -1 with a message in err (a job of
 * N > 1 ranks and no MPI built in) */
int dist_init(char *err, size_t errlen);
int dist_rank(void);
int dist_size(void);

/* whether the collectives below run: N > 1 ranks, or one rank a
 * launcher started with SIFT_DIST_FORCE set (then they move one rank's
 * data, through MPI and NCCL all the same; without it dist_init refuses
 * SIFT_DIST_FORCE outside a launcher, and in a build without MPI) */
int dist_collective(void);

/* what summed the gradients so far: "none" (one rank, no collective),
 * "mpi" (dist_sum_floats's chain) or "nccl" (ncclAllReduce on the GPU) */
const char *dist_summed(void);

/* ends MPI: status 0, MPI_Finalize; otherwise, with N > 1 ranks,
 * MPI_Abort(status), which ends the others (they may wait for this one
 * in a collective); 128 + a signal, which every rank stops with at the
 * same step, MPI_Finalize.  Returns status */
int dist_finish(int status);

/* ends MPI where every rank ends with status, for the same reason
 * (misuse all of them see): MPI_Finalize, whatever status.  Returns it */
int dist_finish_agreed(int status);

/* v of rank 0 on every rank; the largest v of the ranks */
int dist_bcast_int(int v);
int dist_max_int(int v);

/* bytes of buf (host memory) from rank 0 to every rank */
void dist_bcast(void *buf, size_t bytes);

/*
 * The sums of an optimizer step's group: *loss (the sum of this rank's
 * micro-batch losses) becomes the sum over the ranks, added in rank
 * order from 0.0; *tokens likewise; have (N) says which ranks computed
 * a micro-batch (lmicro > 0) of it
 */
void dist_sum_scalars(double *loss, int64_t *tokens, int lmicro, int *have);

/*
 * x (n floats, in be's memory) becomes ((x_0 + x_1) + x_2) + ... over
 * the ranks r with have[r], in rank order, on every rank: a chain from
 * rank 0 to rank N-1 in chunks, then a broadcast from N-1.  Bit for bit
 * the sum one process makes adding the gradients in that order
 */
void dist_sum_floats(const struct sift_backend *be, float *x, size_t n,
		     const int *have);

/* ZeRO-1: the span [*lo, *hi) of n parameters whose AdamW moments this
 * rank holds (n split in N near-equal parts, in rank order) */
void dist_shard(size_t n, int rank, size_t *lo, size_t *hi);

/* x (n floats, in be's memory): every rank's shard (dist_shard) sent to
 * every other rank, after each updated its own */
void dist_allgather_floats(const struct sift_backend *be, float *x, size_t n);

/* ZeRO-1 checkpoints: part (this rank's shard of n floats, host) into
 * full (n, host, rank 0's only) and back */
void dist_gather_shards(const float *part, float *full, size_t n);
void dist_scatter_shards(const float *full, float *part, size_t n);

#endif
