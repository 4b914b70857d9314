/* Wall-clock intervals (see include/vkgan/clock.h). */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "vkgan/clock.h"

double vkg_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

void vkg_duration_text(double seconds, char *out, size_t size) {
    long t = isfinite(seconds) && seconds > 0 ? lround(seconds) : 0;
    if (t >= 3600)
        snprintf(out, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(out, size, "%ldm%02lds", t / 60, t % 60);
}
