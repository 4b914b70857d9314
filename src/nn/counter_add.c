/* A counter incremented on the GPU: a step counter that needs no host write per step
 * (shaders/counter_add.comp). */
#include "nn/kernel.h"

int vkg_counter_add(vkg_rec *rec, const vkg_buf *counters, uint32_t index, uint32_t delta) {
    if ((uint64_t)(index + 1) * 4 > counters->size)
        return vkg_set_error("counter add: index %u is outside the counter range", index);
    uint32_t p[2] = {index, delta};
    vkg_kernel k = {
        .shader = VKG_SHADER_COUNTER_ADD, .push = p, .push_size = sizeof p, .groups = {1, 1, 1}};
    VKG_BIND(k, 0, counters);
    return vkg_rec_kernel(rec, &k);
}
