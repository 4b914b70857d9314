/* A linear schedule kept on the GPU, e.g. the instance-noise sigma (shaders/linear_decay.comp). */
#include "nn/kernel.h"

int vkg_linear_decay(vkg_rec *rec, const vkg_buf *counters, uint32_t index, float start,
                     float steps, const vkg_buf *out) {
    if (!(steps > 0)) return vkg_set_error("linear decay: %g steps is not positive", steps);
    if ((uint64_t)(index + 1) * 4 > counters->size || out->size < 4)
        return vkg_set_error("linear decay: the counter or the output range is too small");
    struct {
        uint32_t index;
        float start, steps;
    } p = {index, start, steps};
    vkg_kernel k = {
        .shader = VKG_SHADER_LINEAR_DECAY, .push = &p, .push_size = sizeof p, .groups = {1}};
    VKG_BIND(k, 0, counters);
    VKG_BIND(k, 1, out);
    return vkg_rec_kernel(rec, &k);
}
