/* The ranks through MPI (see dist.h): point-to-point and broadcasts, nonblocking, polled against
 * a deadline. */
#include <mpi.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vkgan/dist.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"

static struct {
    int on, rank, size, local_rank;
    double timeout;
    float *scratch; /* rank 0: the other ranks' values */
    size_t scratch_count;
    double sum_bytes, sum_seconds, sum_waiting;
} d = {.size = 1};

/* Whether a launcher started this process as one of several ranks (Open MPI's mpirun, PMIx,
 * Slurm's srun, MPICH's PMI). */
static int launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") ||
           getenv("PMI_SIZE");
}

int dist_init(void) {
    if (!launched()) return 0;
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS)
        return vkg_set_error("MPI_Init failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d.size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d.rank, MPI_INFO_NULL, &local) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(local, &d.local_rank);
        MPI_Comm_free(&local);
    }
    const char *t = getenv("VKGAN_DIST_TIMEOUT");
    d.timeout = t && atof(t) > 0 ? atof(t) : 600;
    d.on = 1;
    return 0;
}

void dist_finalize(void) {
    if (d.on) MPI_Finalize();
    free(d.scratch);
    d.scratch = NULL, d.on = 0;
}

void dist_abort(int code) {
    if (d.on) MPI_Abort(MPI_COMM_WORLD, code);
}

int dist_available(void) {
    return 1;
}
int dist_rank(void) {
    return d.rank;
}
int dist_size(void) {
    return d.size;
}
int dist_local_rank(void) {
    return d.local_rank;
}

/* Polls the requests until all are done or the deadline passes: yielding the core between the
 * first polls (a message in flight needs both ranks to poll, fragment by fragment), then
 * sleeping 0.1 ms between them (the other ranks may be computing on these cores). */
static int wait_all(MPI_Request *req, int n, const char *what) {
    double until = vkg_now() + d.timeout;
    for (long polls = 0;; polls++) {
        int done = 0;
        if (MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            return vkg_set_error("rank %d of %d: %s failed: a rank is gone", d.rank, d.size, what);
        if (done) return 0;
        if (vkg_now() > until)
            return vkg_set_error("rank %d of %d: %s got no answer within %.0f s "
                                 "(VKGAN_DIST_TIMEOUT): a rank died or stopped answering",
                                 d.rank, d.size, what, d.timeout);
        if (polls < 1000) {
            sched_yield();
        } else {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
        }
    }
}

/* MPI counts are ints: larger messages go in pieces. */
enum { PIECE = 1 << 28 };

int dist_sum(float *values, size_t count) {
    if (d.size < 2) return 0;
    double t0 = vkg_now();
    if (d.rank == 0 && d.scratch_count < count * (size_t)(d.size - 1)) {
        free(d.scratch);
        d.scratch_count = count * (size_t)(d.size - 1);
        if (!(d.scratch = malloc(sizeof(float) * d.scratch_count))) {
            d.scratch_count = 0;
            return vkg_set_error("out of host memory");
        }
    }
    for (size_t at = 0; at < count; at += PIECE) {
        int n = (int)(count - at < PIECE ? count - at : PIECE);
        MPI_Request req[64];
        int nreq = 0;
        if (d.rank == 0) {
            for (int k = 1; k < d.size; k++) { /* the scratch holds the ranks in rank order */
                float *from = d.scratch + (size_t)(k - 1) * count + at;
                if (MPI_Irecv(from, n, MPI_FLOAT, k, 1, MPI_COMM_WORLD, &req[nreq++]) !=
                    MPI_SUCCESS)
                    return vkg_set_error("rank 0 of %d: cannot receive from rank %d", d.size, k);
                if ((nreq == 64 || k == d.size - 1) && wait_all(req, nreq, "summing gradients") < 0)
                    return -1;
                if (nreq == 64) nreq = 0;
            }
            d.sum_waiting += vkg_now() - t0; /* until the last rank's values are in */
            for (int k = 1; k < d.size; k++) {
                const float *from = d.scratch + (size_t)(k - 1) * count + at;
                for (int i = 0; i < n; i++) values[at + i] += from[i];
            }
        } else {
            if (MPI_Isend(values + at, n, MPI_FLOAT, 0, 1, MPI_COMM_WORLD, &req[0]) != MPI_SUCCESS)
                return vkg_set_error("rank %d of %d: cannot send to rank 0", d.rank, d.size);
            if (wait_all(req, 1, "summing gradients") < 0) return -1;
        }
        MPI_Request b;
        if (MPI_Ibcast(values + at, n, MPI_FLOAT, 0, MPI_COMM_WORLD, &b) != MPI_SUCCESS)
            return vkg_set_error("rank %d of %d: a broadcast failed", d.rank, d.size);
        if (wait_all(&b, 1, "summing gradients") < 0) return -1;
    }
    d.sum_bytes += (double)count * sizeof(float);
    d.sum_seconds += vkg_now() - t0;
    return 0;
}

int dist_broadcast(void *bytes, size_t n) {
    if (d.size < 2) return 0;
    MPI_Request b;
    if (MPI_Ibcast(bytes, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD, &b) != MPI_SUCCESS)
        return vkg_set_error("rank %d of %d: a broadcast failed", d.rank, d.size);
    return wait_all(&b, 1, "waiting for rank 0");
}

int dist_gather(uint64_t value, uint64_t *all) {
    if (d.size < 2) {
        if (all) all[0] = value;
        return 0;
    }
    MPI_Request g;
    if (MPI_Igather(&value, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &g) !=
        MPI_SUCCESS)
        return vkg_set_error("rank %d of %d: a gather failed", d.rank, d.size);
    return wait_all(&g, 1, d.rank ? "waiting for rank 0" : "waiting for the other ranks");
}

void dist_sum_totals(double *bytes, double *seconds, double *waiting) {
    *bytes = d.sum_bytes, *seconds = d.sum_seconds, *waiting = d.sum_waiting;
}
