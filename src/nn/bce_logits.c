/* Binary cross-entropy with logits, its mean and its gradient (shaders/bce_logits.comp). */
#include "nn/kernel.h"

int vkg_bce_with_logits(vkg_rec *rec, const vkg_tensor *logits, const vkg_tensor *targets,
                        const vkg_buf *out, const vkg_tensor *dlogits, float grad_scale) {
    size_t n = vkg_tensor_count(logits);
    if (vkg_check_count("bce with logits", "the targets", targets, n) < 0 ||
        vkg_check_count("bce with logits", "the logit gradient", dlogits, n) < 0)
        return -1;
    if (!out || out->size < 2 * sizeof(float))
        return vkg_set_error("bce with logits: the output range must hold 2 floats");
    struct {
        uint32_t count;
        float grad_scale;
    } p = {(uint32_t)n, grad_scale};
    vkg_kernel k = {.push = &p, .push_size = sizeof p, .groups = {1, 1, 1}};
    vkg_reduction_kernel(rec, VKG_SHADER_BCE_LOGITS, &k);
    VKG_BIND(k, 0, &logits->buf);
    VKG_BIND(k, 1, &targets->buf);
    VKG_BIND(k, 2, out);
    VKG_BIND(k, 3, &dlogits->buf);
    return vkg_rec_kernel(rec, &k);
}
