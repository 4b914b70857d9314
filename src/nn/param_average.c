/* Parameter averages (EMA, historical mean) and the historical-averaging penalty
 * (shaders/param_average.comp). */
#include "nn/kernel.h"

typedef struct average_push {
    uint32_t count, mode, index;
    float a;
} average_push;

enum { AVERAGE_EMA, AVERAGE_MEAN, AVERAGE_PENALTY };

static int record(vkg_rec *rec, average_push *p, const vkg_buf *counters, const vkg_buf *params,
                  const vkg_buf *avg, const vkg_buf *grads) {
    if (avg->size < params->size || (grads && grads->size < params->size))
        return vkg_set_error("parameter average: the ranges are smaller than the parameters");
    p->count = (uint32_t)(params->size / sizeof(float));
    vkg_kernel k = {.shader = VKG_SHADER_PARAM_AVERAGE,
                    .push = p,
                    .push_size = sizeof *p,
                    .groups = {vkg_elementwise_groups(rec, p->count), 1, 1}};
    VKG_BIND(k, 0, counters ? counters : params);
    VKG_BIND(k, 1, params);
    VKG_BIND(k, 2, avg);
    VKG_BIND(k, 3, grads ? grads : avg);
    return vkg_rec_kernel(rec, &k);
}

int vkg_param_average(vkg_rec *rec, const vkg_buf *params, const vkg_buf *avg, float decay,
                      const vkg_buf *counters, uint32_t index) {
    if (decay >= 1.0f) return vkg_set_error("parameter average: decay %g is not below 1", decay);
    if (decay < 0 && (!counters || (uint64_t)(index + 1) * 4 > counters->size))
        return vkg_set_error("parameter average: the mean needs a counter");
    average_push p = {0, decay < 0 ? AVERAGE_MEAN : AVERAGE_EMA, index, 1.0f - decay};
    return record(rec, &p, decay < 0 ? counters : NULL, params, avg, NULL);
}

int vkg_average_penalty(vkg_rec *rec, const vkg_buf *params, const vkg_buf *avg, float lambda,
                        const vkg_buf *grads) {
    average_push p = {0, AVERAGE_PENALTY, 0, 2.0f * lambda};
    return record(rec, &p, NULL, params, avg, grads);
}
