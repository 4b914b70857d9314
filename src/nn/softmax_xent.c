/* Softmax cross-entropy over classes, its mean and its gradient (shaders/softmax_xent.comp). */
#include "nn/kernel.h"

int vkg_softmax_xent(vkg_rec *rec, const vkg_tensor *logits, const vkg_buf *labels,
                     const vkg_buf *out, const vkg_tensor *dlogits, float grad_scale,
                     int accumulate) {
    uint32_t rows = (uint32_t)logits->n, classes = (uint32_t)(vkg_tensor_count(logits) / rows);
    if (classes < 1 || classes > VKG_SOFTMAX_MAX_CLASSES)
        return vkg_set_error("softmax cross-entropy: %u classes (1 to %d)", classes,
                             VKG_SOFTMAX_MAX_CLASSES);
    if (dlogits && vkg_check_count("softmax cross-entropy", "the logit gradient", dlogits,
                                   vkg_tensor_count(logits)) < 0)
        return -1;
    if (labels && labels->size < rows * sizeof(float))
        return vkg_set_error("softmax cross-entropy: %u labels needed", rows);
    if (!out || out->size < (2 + classes) * sizeof(float))
        return vkg_set_error("softmax cross-entropy: the output range must hold %u floats",
                             2 + classes);
    struct {
        uint32_t rows, classes;
        float grad_scale;
        uint32_t has_labels, has_grad, accumulate;
    } p = {rows, classes, grad_scale, labels != NULL, dlogits != NULL, accumulate != 0};
    vkg_kernel k = {.push = &p, .push_size = sizeof p, .groups = {1, 1, 1}};
    vkg_reduction_kernel(rec, VKG_SHADER_SOFTMAX_XENT, &k);
    VKG_BIND(k, 0, &logits->buf);
    VKG_BIND(k, 1, labels ? labels : &logits->buf);
    VKG_BIND(k, 2, out);
    VKG_BIND(k, 3, dlogits ? &dlogits->buf : out); /* unused without a gradient */
    return vkg_rec_kernel(rec, &k);
}
