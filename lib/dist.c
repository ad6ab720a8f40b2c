/* dist.c: data-parallel training over MPI ranks, or one rank without MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "prog.h"	/* defines: sift_xmalloc, sift_xcalloc */

/* the launchers' variables: their presence says a launcher started this
 * process (OMPI_*: Open MPI's mpirun; PMIX_*: PMIx, srun --mpi=pmix;
 * PMI_*: MPICH's hydra, srun --mpi=pmi2).  Not SLURM_NTASKS: an sbatch
 * script has it without srun, and srun without an MPI plugin starts
 * tasks that MPI cannot join */
static long launcher_size(void)
{
	static const char *const size_vars[] = {
		"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
	};
	for (size_t i = 0; i < sizeof size_vars / sizeof *size_vars; i++) {
		const char *v = getenv(size_vars[i]);
		if (v && *v)
			return strtol(v, NULL, 10);
	}
	return getenv("PMIX_RANK") ? 0 : 1;	/* 0: launched, size unknown */
}

/* SIFT_DIST_FORCE set (and not 0): the collective path even for one
 * rank, to test it (make check-gpu's 1-GPU NCCL run, mpi.bats) */
static int forced(void)
{
	const char *v = getenv("SIFT_DIST_FORCE");
	return v && *v && strcmp(v, "0");
}

void dist_shard(size_t n, int rank, size_t *lo, size_t *hi)
{
	int N = dist_size();
	*lo = n * (size_t)rank / (size_t)N;
	*hi = n * (size_t)(rank + 1) / (size_t)N;
}

#ifdef SIFT_MPI
#include <mpi.h>
#ifdef SIFT_NCCL
#include <cuda_runtime.h>	/* defines: cudaStreamSynchronize */
#include <nccl.h>	/* defines: ncclAllReduce, the GPUs' sum */
#endif

/* whether a launcher started this process, of however many ranks */
static int launched(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") ||
	       getenv("PMIX_RANK");
}

static int inited, rank_, size_ = 1;
static int coll;	/* the collectives run: N > 1 ranks, or forced */
static const char *summed = "none";	/* what summed the gradients */
static float *hbuf, *tmp;	/* host copies: a device's buffer, a chunk */
static size_t hcap;

/* the most floats one MPI call moves (counts are int) */
#define CHUNK ((size_t)1 << 20)

int dist_built(void)
{
	return 1;
}

#ifdef SIFT_NCCL
static ncclComm_t nccl;
static int nccl_on;

/* the ranks' NCCL communicator, its id from rank 0 over MPI (as llm.c
 * starts it); every rank calls this at the same step */
static void nccl_start(void)
{
	ncclUniqueId id;
	memset(&id, 0, sizeof id);
	if (rank_ == 0 && ncclGetUniqueId(&id) != ncclSuccess) {
		fprintf(stderr, "%s: ncclGetUniqueId failed\n", sift_prog);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
	ncclResult_t k = ncclCommInitRank(&nccl, size_, id, rank_);
	if (k != ncclSuccess) {
		fprintf(stderr, "%s: ncclCommInitRank: %s\n", sift_prog, ncclGetErrorString(k));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	nccl_on = 1;
}

/* x (n floats, device memory) summed over the ranks by NCCL on the
 * stream the CUDA backend computes on (0): NCCL's order, not rank order */
static void nccl_sum(const struct sift_backend *be, float *x, size_t n)
{
	if (!nccl_on)
		nccl_start();
	be->sync();
	ncclResult_t k = ncclAllReduce(x, x, n, ncclFloat, ncclSum, nccl, 0);
	if (k != ncclSuccess || cudaStreamSynchronize(0) != cudaSuccess) {
		fprintf(stderr, "%s: ncclAllReduce: %s\n", sift_prog, ncclGetErrorString(k));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	summed = "nccl";
}
#endif

int dist_init(char *err, size_t errlen)
{
	long want = launcher_size();
	int force = forced();
	if (force && !launched()) {
		snprintf(err, errlen, "SIFT_DIST_FORCE: the collective path is for a process a launcher started (mpirun -np 1)");
		return -1;
	}
	if (want == 1 && !force)
		return 0;
	if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
		snprintf(err, errlen, "MPI_Init failed");
		return -1;
	}
	inited = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
	MPI_Comm_size(MPI_COMM_WORLD, &size_);
	if (want > 1 && size_ != want) {
		snprintf(err, errlen, "the launcher started %ld ranks, MPI sees %d",
			 want, size_);
		return -1;
	}
	coll = size_ > 1 || force;
	return 0;
}

int dist_rank(void)
{
	return rank_;
}

int dist_collective(void)
{
	return coll;
}

const char *dist_summed(void)
{
	return summed;
}

int dist_size(void)
{
	return size_;
}

/* agreed: every rank ends with status, none waits for another */
static int finish(int status, int agreed)
{
	free(hbuf);
	free(tmp);
	hbuf = tmp = NULL;
	hcap = 0;
	coll = 0;
#ifdef SIFT_NCCL
	if (nccl_on && (status == 0 || agreed))
		ncclCommDestroy(nccl);
	nccl_on = 0;
#endif
	if (!inited)
		return status;
	inited = 0;
	if (status != 0 && !agreed && size_ > 1)
		MPI_Abort(MPI_COMM_WORLD, status);
	MPI_Finalize();
	return status;
}

int dist_finish(int status)
{
	/* 128 + a signal: the ranks stopped together (at a step they
	 * agreed on), each with this status */
	return finish(status, status >= 128);
}

int dist_finish_agreed(int status)
{
	return finish(status, 1);
}

int dist_bcast_int(int v)
{
	if (coll)
		MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
	return v;
}

int dist_max_int(int v)
{
	int out = v;
	if (coll)
		MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return out;
}

void dist_bcast(void *buf, size_t bytes)
{
	if (!coll)
		return;
	for (size_t o = 0; o < bytes; o += 4 * CHUNK) {
		size_t len = bytes - o < 4 * CHUNK ? bytes - o : 4 * CHUNK;
		MPI_Bcast((char *)buf + o, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
	}
}

void dist_sum_scalars(double *loss, int64_t *tokens, int lmicro, int *have)
{
	if (!coll) {
		have[0] = lmicro > 0;
		return;
	}
	double *l = sift_xcalloc((size_t)size_, sizeof *l);
	int64_t *t = sift_xcalloc((size_t)size_, sizeof *t);
	MPI_Allgather(loss, 1, MPI_DOUBLE, l, 1, MPI_DOUBLE, MPI_COMM_WORLD);
	MPI_Allgather(tokens, 1, MPI_INT64_T, t, 1, MPI_INT64_T, MPI_COMM_WORLD);
	MPI_Allgather(&lmicro, 1, MPI_INT, have, 1, MPI_INT, MPI_COMM_WORLD);
	/* as one process adds its micro-batches' losses: from 0.0, in order */
	double s = 0.0;
	int64_t k = 0;
	for (int r = 0; r < size_; r++) {
		if (have[r])
			s += l[r];
		k += t[r];
		have[r] = have[r] > 0;
	}
	*loss = s;
	*tokens = k;
	free(l);
	free(t);
}

/* x in host memory: itself, or a copy downloaded into hbuf */
static float *host(const struct sift_backend *be, float *x, size_t n)
{
	if (be->host_memory)
		return x;
	if (n > hcap) {
		free(hbuf);
		hbuf = sift_xmalloc(n * sizeof *hbuf);
		hcap = n;
	}
	be->download(hbuf, x, n * sizeof *hbuf);
	return hbuf;
}

static void unhost(const struct sift_backend *be, float *x, const float *h,
		   size_t n)
{
	if (!be->host_memory)
		be->upload(x, h, n * sizeof *h);
}

void dist_sum_floats(const struct sift_backend *be, float *x, size_t n,
		     const int *have)
{
	if (!coll)
		return;
#ifdef SIFT_NCCL
	if (!be->host_memory) {
		nccl_sum(be, x, n);
		return;
	}
#endif
	float *h = host(be, x, n);
	if (!tmp)
		tmp = sift_xmalloc(CHUNK * sizeof *tmp);
	/* whether a rank before this one holds a term: the partial sum that
	 * arrives is then the sum so far, else nothing yet (zeros: adding
	 * them would turn a -0 into +0, which one process does not do) */
	int started = 0;
	for (int r = 0; r < rank_; r++)
		started |= have[r];
	for (size_t o = 0; o < n; o += CHUNK) {
		int len = (int)(n - o < CHUNK ? n - o : CHUNK);
		float *mine = h + o;
		if (rank_ == 0) {	/* one rank: its own terms are the sum */
			if (size_ > 1)
				MPI_Send(mine, len, MPI_FLOAT, 1, 0, MPI_COMM_WORLD);
			continue;
		}
		MPI_Recv(tmp, len, MPI_FLOAT, rank_ - 1, 0, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
		if (have[rank_] && started)
			for (int i = 0; i < len; i++)
				tmp[i] = tmp[i] + mine[i];
		else if (have[rank_])
			memcpy(tmp, mine, (size_t)len * sizeof *tmp);
		if (rank_ < size_ - 1)
			MPI_Send(tmp, len, MPI_FLOAT, rank_ + 1, 0, MPI_COMM_WORLD);
		else
			memcpy(mine, tmp, (size_t)len * sizeof *tmp);
	}
	for (size_t o = 0; o < n; o += CHUNK) {
		int len = (int)(n - o < CHUNK ? n - o : CHUNK);
		MPI_Bcast(h + o, len, MPI_FLOAT, size_ - 1, MPI_COMM_WORLD);
	}
	unhost(be, x, h, n);
	summed = "mpi";
}

/* each rank's shard of n as MPI's counts and displacements */
static void shards(size_t n, int *count, int *displ)
{
	for (int r = 0; r < size_; r++) {
		size_t lo, hi;
		dist_shard(n, r, &lo, &hi);
		count[r] = (int)(hi - lo);
		displ[r] = (int)lo;
	}
}

void dist_allgather_floats(const struct sift_backend *be, float *x, size_t n)
{
	if (!coll)
		return;
	int *count = sift_xcalloc((size_t)size_, sizeof *count);
	int *displ = sift_xcalloc((size_t)size_, sizeof *displ);
	shards(n, count, displ);
	float *h = host(be, x, n);
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, h, count, displ,
		       MPI_FLOAT, MPI_COMM_WORLD);
	unhost(be, x, h, n);
	free(count);
	free(displ);
}

void dist_gather_shards(const float *part, float *full, size_t n)
{
	if (!coll) {
		memcpy(full, part, n * sizeof *full);
		return;
	}
	int *count = sift_xcalloc((size_t)size_, sizeof *count);
	int *displ = sift_xcalloc((size_t)size_, sizeof *displ);
	shards(n, count, displ);
	MPI_Gatherv(part, count[rank_], MPI_FLOAT, full, count, displ,
		    MPI_FLOAT, 0, MPI_COMM_WORLD);
	free(count);
	free(displ);
}

void dist_scatter_shards(const float *full, float *part, size_t n)
{
	if (!coll) {
		memcpy(part, full, n * sizeof *part);
		return;
	}
	int *count = sift_xcalloc((size_t)size_, sizeof *count);
	int *displ = sift_xcalloc((size_t)size_, sizeof *displ);
	shards(n, count, displ);
	MPI_Scatterv(full, count, displ, MPI_FLOAT, part, count[rank_],
		     MPI_FLOAT, 0, MPI_COMM_WORLD);
	free(count);
	free(displ);
}

#else	/* no MPI: one rank */

int dist_built(void)
{
	return 0;
}

int dist_init(char *err, size_t errlen)
{
	long want = launcher_size();
	if (forced()) {
		snprintf(err, errlen, "SIFT_DIST_FORCE: built without MPI, there is no collective path (rebuild where mpicc is found)");
		return -1;
	}
	if (want > 1) {
		snprintf(err, errlen, "built without MPI: %ld ranks cannot train as one (rebuild where mpicc is found)",
			 want);
		return -1;
	}
	return 0;
}

int dist_rank(void)
{
	return 0;
}

int dist_size(void)
{
	return 1;
}

int dist_collective(void)
{
	return 0;
}

const char *dist_summed(void)
{
	return "none";
}

int dist_finish(int status)
{
	return status;
}

int dist_finish_agreed(int status)
{
	return status;
}

int dist_bcast_int(int v)
{
	return v;
}

int dist_max_int(int v)
{
	return v;
}

void dist_bcast(void *buf, size_t bytes)
{
	(void)buf;
	(void)bytes;
}

void dist_sum_scalars(double *loss, int64_t *tokens, int lmicro, int *have)
{
	(void)loss;
	(void)tokens;
	have[0] = lmicro > 0;
}

void dist_sum_floats(const struct sift_backend *be, float *x, size_t n,
		     const int *have)
{
	(void)be;
	(void)x;
	(void)n;
	(void)have;
}

void dist_allgather_floats(const struct sift_backend *be, float *x, size_t n)
{
	(void)be;
	(void)x;
	(void)n;
}

void dist_gather_shards(const float *part, float *full, size_t n)
{
	memcpy(full, part, n * sizeof *full);
}

void dist_scatter_shards(const float *full, float *part, size_t n)
{
	memcpy(part, full, n * sizeof *part);
}

#endif
