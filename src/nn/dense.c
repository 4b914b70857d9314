/* Dense layers, forward and backward, on vkg_gemm (src/nn/gemm.c). */
#include "nn/kernel.h"

static int dense_shapes(const char *op, const vkg_tensor *x, const vkg_tensor *w,
                        const vkg_tensor *y, uint32_t *n, uint32_t *in, uint32_t *out) {
    *n = (uint32_t)x->n;
    *in = (uint32_t)(vkg_tensor_count(x) / (size_t)x->n);
    *out = (uint32_t)(vkg_tensor_count(y) / (size_t)(y->n ? y->n : 1));
    if (y->n != x->n)
        return vkg_set_error("%s: batch %d of the input differs from batch %d of the output", op,
                             x->n, y->n);
    return vkg_check_count(op, "the weight", w, (size_t)*in * *out);
}

int vkg_dense_forward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *w, const vkg_tensor *b,
                      const vkg_tensor *y) {
    uint32_t n, in, out;
    if (dense_shapes("dense forward", x, w, y, &n, &in, &out) < 0) return -1;
    if (b && vkg_check_count("dense forward", "the bias", b, out) < 0) return -1;
    vkg_gemm_shape p = {n, out, in, in, 1, out, 1, b ? GEMM_FLAG_BIAS : 0u, 1};
    return vkg_gemm(rec, p, &x->buf, &w->buf, b ? &b->buf : NULL, &y->buf);
}

int vkg_dense_act_forward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *w,
                          const vkg_tensor *b, vkg_activation kind, float slope,
                          const vkg_tensor *pre, const vkg_tensor *y) {
    uint32_t n, in, out;
    if (dense_shapes("dense forward", x, w, y, &n, &in, &out) < 0) return -1;
    if (b && vkg_check_count("dense forward", "the bias", b, out) < 0) return -1;
    vkg_epilogue ep;
    if (vkg_epilogue_init("dense forward", kind, slope, pre, y, &ep) < 0) return -1;
    vkg_gemm_shape p = {n, out, in, in, 1, out, 1, b ? GEMM_FLAG_BIAS : 0u, 1};
    int fused = vkg_gemm_ep(rec, p, &x->buf, &w->buf, b ? &b->buf : NULL, &y->buf, &ep);
    return vkg_fused_forward(rec, fused, &ep, pre, y);
}

int vkg_dense_backward_input(vkg_rec *rec, const vkg_tensor *dy, const vkg_tensor *w,
                             const vkg_tensor *dx) {
    uint32_t n, in, out;
    if (dense_shapes("dense backward (input)", dx, w, dy, &n, &in, &out) < 0) return -1;
    vkg_gemm_shape p = {n, in, out, out, 1, 1, out, 0, 1};
    return vkg_gemm(rec, p, &dy->buf, &w->buf, NULL, &dx->buf);
}

int vkg_dense_backward_weight(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *dy,
                              const vkg_tensor *dw, int accumulate) {
    uint32_t n, in, out;
    if (dense_shapes("dense backward (weight)", x, dw, dy, &n, &in, &out) < 0) return -1;
    vkg_gemm_shape p = {in, out, n, 1, in, out, 1, accumulate ? GEMM_FLAG_ACCUMULATE : 0u, 1};
    return vkg_gemm(rec, p, &x->buf, &dy->buf, NULL, &dw->buf);
}
