/* A step's scalars into a host-visible ring slot picked by a GPU counter, so the host reads them
 * without waiting (shaders/loss_ring.comp). */
#include "nn/kernel.h"

int vkg_loss_ring(vkg_rec *rec, const vkg_buf *counters, uint32_t index, const vkg_buf *a,
                  const vkg_buf *b, const vkg_buf *c, const vkg_buf *ring, uint32_t slots) {
    if (slots < 1 || ring->size < (uint64_t)slots * 8 * sizeof(float))
        return vkg_set_error("loss ring: %u slots do not fit %llu bytes", slots,
                             (unsigned long long)ring->size);
    uint32_t p[2] = {index, slots};
    vkg_kernel k = {
        .shader = VKG_SHADER_LOSS_RING, .push = p, .push_size = sizeof p, .groups = {1, 1, 1}};
    VKG_BIND(k, 0, counters);
    VKG_BIND(k, 1, a);
    VKG_BIND(k, 2, b);
    VKG_BIND(k, 3, c);
    VKG_BIND(k, 4, ring);
    return vkg_rec_kernel(rec, &k);
}
