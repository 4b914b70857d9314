/* The loss, the optimizer and the small GPU-side bookkeeping kernels. */
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

int vkg_adam_step(vkg_rec *rec, const vkg_buf *params, const vkg_buf *grads, const vkg_buf *m,
                  const vkg_buf *v, const vkg_buf *hyper) {
    if (grads->size != params->size || m->size != params->size || v->size != params->size)
        return vkg_set_error("adam: parameters, gradients and moments differ in size");
    if (hyper->size < sizeof(vkg_adam_hyper))
        return vkg_set_error("adam: the hyperparameter range is smaller than vkg_adam_hyper");
    uint32_t count = (uint32_t)(params->size / sizeof(float));
    vkg_kernel k = {.shader = VKG_SHADER_ADAM,
                    .push = &count,
                    .push_size = sizeof count,
                    .groups = {vkg_elementwise_groups(rec, count), 1, 1}};
    VKG_BIND(k, 0, params);
    VKG_BIND(k, 1, grads);
    VKG_BIND(k, 2, m);
    VKG_BIND(k, 3, v);
    VKG_BIND(k, 4, hyper);
    return vkg_rec_kernel(rec, &k);
}

int vkg_counter_add(vkg_rec *rec, const vkg_buf *counters, uint32_t index, uint32_t delta) {
    if ((uint64_t)(index + 1) * 4 > counters->size)
        return vkg_set_error("counter add: index %u is outside the counter range", index);
    uint32_t p[2] = {index, delta};
    vkg_kernel k = {
        .shader = VKG_SHADER_COUNTER_ADD, .push = p, .push_size = sizeof p, .groups = {1, 1, 1}};
    VKG_BIND(k, 0, counters);
    return vkg_rec_kernel(rec, &k);
}

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
