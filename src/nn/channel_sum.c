/* Per-channel sums over batch and space (bias gradients, means). */
#include "nn/kernel.h"

typedef struct channel_sum_push {
    uint32_t batch, channels, hw;
    float scale;
    uint32_t accumulate;
} channel_sum_push;

int vkg_channel_sum(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *out, float scale,
                    int accumulate) {
    if (vkg_check_count("channel sum", "the output", out, (size_t)x->c) < 0) return -1;
    channel_sum_push p = {(uint32_t)x->n, (uint32_t)x->c, (uint32_t)(x->h * x->w), scale,
                          accumulate ? 1u : 0u};
    vkg_kernel k = {.push = &p, .push_size = sizeof p, .groups = {(uint32_t)x->c, 1, 1}};
    vkg_reduction_kernel(rec, VKG_SHADER_CHANNEL_SUM, &k);
    VKG_BIND(k, 0, &x->buf);
    VKG_BIND(k, 1, &out->buf);
    return vkg_rec_kernel(rec, &k);
}

int vkg_bias_backward(vkg_rec *rec, const vkg_tensor *dy, const vkg_tensor *db, int accumulate) {
    return vkg_channel_sum(rec, dy, db, 1.0f, accumulate);
}
