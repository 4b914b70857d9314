/* Activations, forward and backward: elementwise kernels (shaders/activation_*.comp). */
#include "nn/kernel.h"

typedef struct activation_push {
    uint32_t count, kind;
    float slope;
} activation_push;

int vkg_activation_forward(vkg_rec *rec, vkg_activation kind, float slope, const vkg_tensor *x,
                           const vkg_tensor *y) {
    size_t count = vkg_tensor_count(x);
    if (vkg_check_count("activation forward", "the output", y, count) < 0) return -1;
    activation_push p = {(uint32_t)count, (uint32_t)kind, slope};
    vkg_kernel k = {.shader = VKG_SHADER_ACTIVATION_FWD,
                    .push = &p,
                    .push_size = sizeof p,
                    .groups = {vkg_elementwise_groups(rec, count), 1, 1}};
    VKG_BIND(k, 0, &x->buf);
    VKG_BIND(k, 1, &y->buf);
    return vkg_rec_kernel(rec, &k);
}

int vkg_activation_backward(vkg_rec *rec, vkg_activation kind, float slope, const vkg_tensor *y,
                            const vkg_tensor *dy, const vkg_tensor *dx) {
    size_t count = vkg_tensor_count(y);
    if (vkg_check_count("activation backward", "dy", dy, count) < 0 ||
        vkg_check_count("activation backward", "dx", dx, count) < 0)
        return -1;
    if (kind == VKG_LEAKY_RELU && slope < 0)
        return vkg_set_error("activation backward: leaky relu slope %g must be >= 0", slope);
    activation_push p = {(uint32_t)count, (uint32_t)kind, slope};
    vkg_kernel k = {.shader = VKG_SHADER_ACTIVATION_BWD,
                    .push = &p,
                    .push_size = sizeof p,
                    .groups = {vkg_elementwise_groups(rec, count), 1, 1}};
    VKG_BIND(k, 0, &y->buf);
    VKG_BIND(k, 1, &dy->buf);
    VKG_BIND(k, 2, &dx->buf);
    return vkg_rec_kernel(rec, &k);
}

int vkg_epilogue_init(const char *op, vkg_activation kind, float slope, const vkg_tensor *pre,
                      const vkg_tensor *y, vkg_epilogue *ep) {
    if ((unsigned)kind > VKG_SIGMOID)
        return vkg_set_error("%s: activation %d is not relu, leaky relu, tanh or sigmoid", op,
                             (int)kind);
    if (vkg_check_count(op, "the output before the activation", pre, vkg_tensor_count(y)) < 0)
        return -1;
    *ep = (vkg_epilogue){1u + (uint32_t)kind, slope, &pre->buf};
    return 0;
}

int vkg_fused_forward(vkg_rec *rec, int fused, const vkg_epilogue *ep, const vkg_tensor *pre,
                      const vkg_tensor *y) {
    if (fused < 0) return -1;
    if (fused == 1 || !ep || !ep->act) return 0;
    return vkg_activation_forward(rec, (vkg_activation)(ep->act - 1), ep->slope, pre, y);
}
