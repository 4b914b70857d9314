/* Sums across processes at points of a recording (see vkg_allsum in include/vkgan/nn.h). */
#include <stdlib.h>

#include "nn/kernel.h"
#include "vkgan/clock.h"

struct vkg_allsum_point {
    vkg_allsum *owner;
    float *map;
    size_t count;
    float scale;
};

static int sum_point(void *user) {
    vkg_allsum_point *p = user;
    vkg_allsum *s = p->owner;
    double t0 = vkg_now();
    if (s->sum(s->user, p->map, p->count) < 0) return -1;
    if (p->scale != 1.0f)
        for (size_t i = 0; i < p->count; i++) p->map[i] *= p->scale;
    s->seconds += vkg_now() - t0;
    return 0;
}

int vkg_allsum_record(vkg_rec *rec, vkg_allsum *s, const vkg_buf *const *ranges, int n,
                      float scale) {
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += ranges[i]->size;
    vkg_allsum_point **grown = realloc(s->points, sizeof *grown * (size_t)(s->count + 1));
    if (!grown) return vkg_set_error("out of host memory");
    s->points = grown;
    vkg_allsum_point *p = calloc(1, sizeof *p);
    if (!p) return vkg_set_error("out of host memory");
    s->points[s->count++] = p;
    vkg_buf stage;
    if (vkg_arena_alloc(s->host, bytes, &stage) < 0) return -1;
    *p = (vkg_allsum_point){s, vkg_arena_host(s->host, &stage), bytes / sizeof(float), scale};
    s->bytes += (double)bytes;
    int r = 0;
    vkg_buf part = stage;
    for (int pass = 0; pass < 2; pass++) { /* into staging; the host call; back */
        part.offset = stage.offset;
        for (int i = 0; i < n; i++) {
            part.size = ranges[i]->size;
            r |= pass ? vkg_rec_copy(rec, &part, ranges[i]) : vkg_rec_copy(rec, ranges[i], &part);
            part.offset += part.size;
        }
        if (pass == 0) r |= vkg_rec_host_call(rec, sum_point, p);
    }
    return r ? -1 : 0;
}

void vkg_allsum_free(vkg_allsum *s) {
    for (int i = 0; i < s->count; i++) free(s->points[i]);
    free(s->points);
    s->points = NULL, s->count = 0;
}
