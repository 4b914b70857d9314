/* Minibatch standard deviation layer (shaders/mbstd.comp). */
#include "nn/kernel.h"

typedef struct mbstd_push {
    uint32_t batch, channels, hw, mode;
    float eps;
} mbstd_push;

enum { STATS, BROADCAST, SUM_GRAD, INPUT_GRAD };

static int check(const char *op, const vkg_tensor *x, const vkg_tensor *y,
                 const vkg_tensor *saved) {
    size_t features = (size_t)x->c * x->h * x->w;
    if (vkg_check_count(op, "the output (one more channel)", y,
                        (size_t)x->n * (x->c + 1) * x->h * x->w) < 0 ||
        vkg_check_count(op, "the saved statistics", saved, 2 * features + 2) < 0)
        return -1;
    return 0;
}

static int record(vkg_rec *rec, const vkg_tensor *x, const vkg_buf *y, const vkg_tensor *saved,
                  const vkg_buf *dx, uint32_t mode, size_t count) {
    mbstd_push p = {(uint32_t)x->n, (uint32_t)x->c, (uint32_t)(x->h * x->w), mode, 1e-8f};
    vkg_kernel k = {.push = &p, .push_size = sizeof p};
    vkg_reduction_kernel(rec, VKG_SHADER_MBSTD, &k);
    uint32_t threads = k.spec[0];
    k.groups[0] =
        mode == STATS || mode == SUM_GRAD ? 1 : (uint32_t)((count + threads - 1) / threads);
    if (k.groups[0] > 4096) k.groups[0] = 4096; /* the shader loops over the rest */
    /* bindings 1-3 are writable in the shader: written as far as synchronization goes */
    VKG_BIND(k, 0, &x->buf);
    VKG_BIND(k, 1, y);
    VKG_BIND(k, 2, &saved->buf);
    VKG_BIND(k, 3, dx);
    return vkg_rec_kernel(rec, &k);
}

int vkg_mbstd_forward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *y,
                      const vkg_tensor *saved) {
    if (check("minibatch stddev forward", x, y, saved) < 0) return -1;
    if (record(rec, x, &y->buf, saved, &saved->buf, STATS, 1) < 0) return -1;
    return record(rec, x, &y->buf, saved, &saved->buf, BROADCAST, vkg_tensor_count(y));
}

int vkg_mbstd_backward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *dy,
                       const vkg_tensor *saved, const vkg_tensor *dx) {
    const char *op = "minibatch stddev backward";
    if (check(op, x, dy, saved) < 0 || vkg_check_count(op, "dx", dx, vkg_tensor_count(x)) < 0)
        return -1;
    if (record(rec, x, &dy->buf, saved, &dx->buf, SUM_GRAD, 1) < 0) return -1;
    return record(rec, x, &dy->buf, saved, &dx->buf, INPUT_GRAD, vkg_tensor_count(x));
}
