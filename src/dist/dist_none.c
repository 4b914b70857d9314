/* One rank: the build has no MPI (see dist.h). */
#include "vkgan/dist.h"

int dist_init(void) {
    return 0;
}
void dist_finalize(void) {}
void dist_abort(int code) {
    (void)code;
}
int dist_available(void) {
    return 0;
}
int dist_rank(void) {
    return 0;
}
int dist_size(void) {
    return 1;
}
int dist_local_rank(void) {
    return 0;
}
int dist_sum(float *values, size_t count) {
    (void)values, (void)count;
    return 0;
}
int dist_broadcast(void *bytes, size_t n) {
    (void)bytes, (void)n;
    return 0;
}
int dist_gather(uint64_t value, uint64_t *all) {
    if (all) all[0] = value;
    return 0;
}
void dist_sum_totals(double *bytes, double *seconds, double *waiting) {
    *bytes = *seconds = *waiting = 0;
}
