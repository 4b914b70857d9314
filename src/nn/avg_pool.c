/* Average pooling, forward and backward (shaders/avg_pool_*.comp). */
#include "nn/kernel.h"

typedef struct pool_push {
    uint32_t planes, h_in, w_in, h_out, w_out, kernel, stride;
} pool_push;

static int pool(vkg_rec *rec, vkg_shader_id shader, const char *op, int kernel, int stride,
                const vkg_tensor *in, const vkg_tensor *out, const vkg_buf *src, const vkg_buf *dst,
                size_t threads) {
    if (kernel < 1 || stride < 1)
        return vkg_set_error("%s: invalid kernel %d or stride %d", op, kernel, stride);
    int oh = (in->h - kernel) / stride + 1, ow = (in->w - kernel) / stride + 1;
    if (in->h < kernel || in->w < kernel || out->n != in->n || out->c != in->c || out->h != oh ||
        out->w != ow)
        return vkg_set_error("%s: %dx%dx%dx%d pooled by %d stride %d is not %dx%dx%dx%d", op, in->n,
                             in->c, in->h, in->w, kernel, stride, out->n, out->c, out->h, out->w);
    pool_push p = {
        (uint32_t)(in->n * in->c), (uint32_t)in->h, (uint32_t)in->w, (uint32_t)oh, (uint32_t)ow,
        (uint32_t)kernel,          (uint32_t)stride};
    vkg_kernel k = {.shader = shader,
                    .push = &p,
                    .push_size = sizeof p,
                    .groups = {vkg_elementwise_groups(rec, threads), 1, 1}};
    VKG_BIND(k, 0, src);
    VKG_BIND(k, 1, dst);
    return vkg_rec_kernel(rec, &k);
}

int vkg_avg_pool2d_forward(vkg_rec *rec, int kernel, int stride, const vkg_tensor *x,
                           const vkg_tensor *y) {
    return pool(rec, VKG_SHADER_AVG_POOL_FWD, "avg_pool2d forward", kernel, stride, x, y, &x->buf,
                &y->buf, vkg_tensor_count(y));
}

int vkg_avg_pool2d_backward(vkg_rec *rec, int kernel, int stride, const vkg_tensor *dy,
                            const vkg_tensor *dx) {
    return pool(rec, VKG_SHADER_AVG_POOL_BWD, "avg_pool2d backward", kernel, stride, dx, dy,
                &dy->buf, &dx->buf, vkg_tensor_count(dx));
}
