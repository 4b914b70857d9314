/* The ranks of a data-parallel run (vkgan train under mpirun or srun): one process per device,
 * each running the step on its share of the batch. Built on MPI when the build found it
 * (dist_mpi.c); without MPI, or when no launcher started the process, there is one rank and
 * every call below is a no-op (dist_none.c).
 *
 * Every collective polls nonblocking MPI calls against a deadline (VKGAN_DIST_TIMEOUT seconds,
 * 600 by default), so a rank that died or hangs gives an error naming the wait, never a hang.
 * Like the rest of the library these print nothing and never exit (dist_abort excepted):
 * errors are -1 with vkg_error(). */
#ifndef VKGAN_DIST_H
#define VKGAN_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Joins the ranks when a launcher (mpirun, srun) started this process; 0, or -1. */
int dist_init(void);
/* Leaves them (after dist_init). */
void dist_finalize(void);
/* Ends every rank at once with `code` (a rank that cannot go on). */
void dist_abort(int code);
/* Whether this build has MPI. */
int dist_available(void);
int dist_rank(void);
int dist_size(void);
/* The rank among the processes on this machine (which device to open). */
int dist_local_rank(void);

/* Sums `count` floats across the ranks, in place on every rank, in a fixed order: rank 0
 * receives each rank's values and adds them in rank order (((v0 + v1) + v2) + ...), then
 * broadcasts the sums, so the same ranks give the same bits every time. */
int dist_sum(float *values, size_t count);
/* `bytes` of rank 0 copied to every rank. */
int dist_broadcast(void *bytes, size_t n);
/* Each rank's value, in rank order, into all[dist_size()] on rank 0 (all may be NULL
 * elsewhere). */
int dist_gather(uint64_t value, uint64_t *all);

/* What dist_sum cost so far: the bytes summed, the seconds its calls took, and of those (on rank
 * 0) the seconds until every other rank's values had arrived (waiting for slower ranks). */
void dist_sum_totals(double *bytes, double *seconds, double *waiting);

#endif
