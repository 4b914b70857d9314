/* A fused multiply-add loop for measuring a device's peak rate (shaders/fma_peak.comp). */
#include "nn/kernel.h"

int vkg_fma_peak(vkg_rec *rec, const vkg_buf *out, uint32_t groups, uint32_t iterations) {
    if (out->size < (uint64_t)groups * 256 * sizeof(float))
        return vkg_set_error("fma benchmark: the output range is too small");
    struct {
        uint32_t iterations;
        float seed;
    } p = {iterations, 0.5f};
    vkg_kernel k = {
        .shader = VKG_SHADER_FMA_PEAK, .push = &p, .push_size = sizeof p, .groups = {groups, 1, 1}};
    VKG_BIND(k, 0, out);
    return vkg_rec_kernel(rec, &k);
}
