/* Dense layers on the strided GEMM kernel (shaders/gemm.comp). */
#include "nn/kernel.h"

int vkg_gemm(vkg_rec *rec, vkg_gemm_shape push, const vkg_buf *a, const vkg_buf *b,
             const vkg_buf *bias, const vkg_buf *c) {
    if (push.bias_div == 0) push.bias_div = 1;
    /* Packed path (CPU devices): the longer of M and N goes along the invocations (x), so small
     * batches still give every thread work. */
    int swap = push.M > push.N;
    vkg_pack pm = vkg_pack_matrix(push.M, push.K, push.sam, push.sak),
             pn = vkg_pack_matrix(push.N, push.K, push.sbn, push.sbk);
    uint32_t rows_out = swap ? push.M : push.N; /* the packed GEMM's N */
    vkg_packed_gemm g = {.a = swap ? pn : pm,
                         .b = swap ? pm : pn,
                         .a_src = swap ? b : a,
                         .b_src = swap ? a : b,
                         .bias = bias,
                         .c = c,
                         .bias_div = push.bias_div,
                         .csm = swap ? 1 : push.N,
                         .d1 = rows_out ? rows_out : 1,
                         .d2 = rows_out ? rows_out : 1,
                         .cs3 = swap ? push.N : 1};
    if (push.flags & VKG_GEMM_BIAS) g.flags |= swap ? VKG_PACKED_BIAS_M : VKG_PACKED_BIAS_N;
    if (push.flags & VKG_GEMM_ACCUMULATE) g.flags |= VKG_PACKED_ACCUMULATE;
    int packed = vkg_packed_gemms(rec, &g, 1);
    if (packed != 0) return packed < 0 ? -1 : 0;
    vkg_kernel k = {.shader = VKG_SHADER_GEMM, .push = &push, .push_size = sizeof push};
    VKG_BIND(k, 0, a);
    VKG_BIND(k, 1, b);
    VKG_BIND(k, 2, bias ? bias : a);
    VKG_BIND(k, 3, c);
    vkg_gemm_setup(rec, push.M, push.N, &k);
    return vkg_rec_kernel(rec, &k);
}

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
    vkg_gemm_shape p = {n, out, in, in, 1, out, 1, b ? VKG_GEMM_BIAS : 0u, 1};
    return vkg_gemm(rec, p, &x->buf, &w->buf, b ? &b->buf : NULL, &y->buf);
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
    vkg_gemm_shape p = {in, out, n, 1, in, out, 1, accumulate ? VKG_GEMM_ACCUMULATE : 0u, 1};
    return vkg_gemm(rec, p, &x->buf, &dy->buf, NULL, &dw->buf);
}
