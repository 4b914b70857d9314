/* Virtual batch normalisation (shaders/vbn_fwd.comp, shaders/vbn_bwd.comp). */
#include "nn/kernel.h"

static int check(const char *op, const vkg_batchnorm *bn, const vkg_tensor *x,
                 const vkg_tensor *stats) {
    size_t c = (size_t)x->c;
    if (vkg_check_count(op, "gamma", &bn->gamma, c) < 0 ||
        vkg_check_count(op, "beta", &bn->beta, c) < 0 ||
        vkg_check_count(op, "the reference statistics", &bn->saved, 2 * c) < 0 ||
        vkg_check_count(op, "the per-example statistics", stats, 2 * c * (size_t)x->n) < 0)
        return -1;
    return 0;
}

int vkg_vbn_forward(vkg_rec *rec, const vkg_batchnorm *bn, int ref_count, const vkg_tensor *x,
                    const vkg_tensor *stats, const vkg_tensor *y) {
    const char *op = "virtual batchnorm forward";
    if (check(op, bn, x, stats) < 0 || vkg_check_count(op, "y", y, vkg_tensor_count(x)) < 0)
        return -1;
    struct {
        uint32_t batch, channels, hw, ref_count;
        float eps;
    } p = {(uint32_t)x->n, (uint32_t)x->c, (uint32_t)(x->h * x->w), (uint32_t)ref_count, bn->eps};
    vkg_kernel k = {.push = &p, .push_size = sizeof p, .groups = {(uint32_t)(x->n * x->c), 1, 1}};
    vkg_reduction_kernel(rec, VKG_SHADER_VBN_FWD, &k);
    VKG_BIND(k, 0, &x->buf);
    VKG_BIND(k, 1, &bn->gamma.buf);
    VKG_BIND(k, 2, &bn->beta.buf);
    VKG_BIND(k, 3, &bn->saved.buf);
    VKG_BIND(k, 4, &stats->buf);
    VKG_BIND(k, 5, &y->buf);
    return vkg_rec_kernel(rec, &k);
}

int vkg_vbn_backward(vkg_rec *rec, const vkg_batchnorm *bn, int ref_count, const vkg_tensor *x,
                     const vkg_tensor *stats, const vkg_tensor *dy, const vkg_tensor *dx,
                     const vkg_tensor *dgamma, const vkg_tensor *dbeta, int accumulate) {
    const char *op = "virtual batchnorm backward";
    size_t count = vkg_tensor_count(x);
    if (check(op, bn, x, stats) < 0 || vkg_check_count(op, "dy", dy, count) < 0 ||
        (dx && vkg_check_count(op, "dx", dx, count) < 0) ||
        (dgamma && (vkg_check_count(op, "dgamma", dgamma, (size_t)x->c) < 0 ||
                    vkg_check_count(op, "dbeta", dbeta, (size_t)x->c) < 0)))
        return -1;
    for (uint32_t mode = 0; mode < 2; mode++) {
        if ((mode == 0 && !dx) || (mode == 1 && !dgamma)) continue;
        uint32_t p[6] = {(uint32_t)x->n,      (uint32_t)x->c, (uint32_t)(x->h * x->w),
                         (uint32_t)ref_count, mode,           accumulate ? 1u : 0u};
        vkg_kernel k = {.push = p, .push_size = sizeof p};
        k.groups[0] = mode == 0 ? (uint32_t)(x->n * x->c) : (uint32_t)x->c;
        vkg_reduction_kernel(rec, VKG_SHADER_VBN_BWD, &k);
        const vkg_tensor *grads = dgamma ? dgamma : &bn->saved; /* bound, unused in mode 0 */
        VKG_BIND(k, 0, &x->buf);
        VKG_BIND(k, 1, &dy->buf);
        VKG_BIND(k, 2, &bn->gamma.buf);
        VKG_BIND(k, 3, &stats->buf);
        /* writable in the shader: written as far as synchronization goes, in either mode */
        VKG_BIND(k, 4, dx ? &dx->buf : &bn->saved.buf);
        VKG_BIND(k, 5, &grads->buf);
        VKG_BIND(k, 6, dbeta ? &dbeta->buf : &bn->saved.buf);
        if (vkg_rec_kernel(rec, &k) < 0) return -1;
    }
    return 0;
}
