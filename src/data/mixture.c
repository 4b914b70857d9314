/* 2D mixtures of Gaussians: 8 on a ring and 25 on a grid, the mode-collapse benchmarks of the GAN
 * literature (e.g. Metz et al. 2016, "Unrolled GANs"; Srivastava et al. 2017, "VEEGAN"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/data.h"
#include "vkgan/error.h"

/* splitmix64: a small deterministic generator for the host-side draws. */
static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) {
    return ((double)(next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s) {
    return sqrt(-2 * log(uniform(s))) * cos(6.283185307179586 * uniform(s));
}

int vkg_make_mixture(const char *kind, int count, uint64_t seed, vkg_dataset *out) {
    memset(out, 0, sizeof *out);
    if (strcmp(kind, "ring8") == 0) {
        out->mode_count = 8;
        out->mode_sigma = 0.02f;
        for (int i = 0; i < 8; i++) {
            out->modes[i][0] = (float)(2 * cos(6.283185307179586 * i / 8));
            out->modes[i][1] = (float)(2 * sin(6.283185307179586 * i / 8));
        }
    } else if (strcmp(kind, "grid25") == 0) {
        out->mode_count = 25;
        out->mode_sigma = 0.05f;
        for (int i = 0; i < 25; i++) {
            out->modes[i][0] = (float)(-4 + 2 * (i % 5));
            out->modes[i][1] = (float)(-4 + 2 * (i / 5));
        }
    } else {
        return vkg_set_error("unknown mixture '%s' (ring8 or grid25)", kind);
    }
    if (count <= 0) return vkg_set_error("a mixture needs a positive number of points");
    out->points = malloc(sizeof *out->points * 2 * (size_t)count);
    out->labels = malloc(sizeof *out->labels * (size_t)count);
    if (!out->points || !out->labels) {
        vkg_dataset_free(out);
        return vkg_set_error("out of host memory");
    }
    uint64_t state = seed;
    for (int i = 0; i < count; i++) {
        int mode = (int)(next(&state) % (uint64_t)out->mode_count);
        out->labels[i] = mode;
        out->points[2 * i] = (float)(out->modes[mode][0] + out->mode_sigma * normal(&state));
        out->points[2 * i + 1] = (float)(out->modes[mode][1] + out->mode_sigma * normal(&state));
    }
    snprintf(out->name, sizeof out->name, "%s", kind);
    out->count = count;
    out->channels = 2;
    out->height = out->width = 1;
    out->classes = out->mode_count;
    return 0;
}

void vkg_mode_metrics(const vkg_dataset *d, const float *points, int n, int *modes_covered,
                      double *high_quality) {
    int counts[25] = {0}, good = 0;
    double radius = 3.0 * d->mode_sigma;
    for (int i = 0; i < n; i++)
        for (int m = 0; m < d->mode_count; m++) {
            double dx = points[2 * i] - d->modes[m][0], dy = points[2 * i + 1] - d->modes[m][1];
            if (dx * dx + dy * dy <= radius * radius) {
                counts[m]++;
                good++;
                break;
            }
        }
    int covered = 0, needed = n / 100 > 1 ? n / 100 : 1;
    for (int m = 0; m < d->mode_count; m++) covered += counts[m] >= needed;
    *modes_covered = covered;
    *high_quality = n ? (double)good / n : 0;
}
