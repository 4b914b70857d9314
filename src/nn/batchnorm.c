/* Batch normalisation forward and backward, one workgroup per channel. */
#include "nn/kernel.h"

typedef struct bn_forward_push {
    uint32_t batch, channels, hw;
    float eps, momentum;
    uint32_t ranks;
    float slope;
} bn_forward_push;

typedef struct bn_backward_push {
    uint32_t batch, channels, hw, ranks;
    float slope;
} bn_backward_push;

/* The shaders' specialization constants after the workgroup size (id 0). */
enum { FWD_MODE = 1, FWD_STAGE, FWD_ACT, FWD_ALIGNED };
enum { BWD_TRAINING = 1, BWD_STAGE, BWD_ACT, BWD_PARAM_GRADS, BWD_ACCUMULATE, BWD_ALIGNED };

/* The shaders' code for an activation folded into batch norm (act -1: none, code 0); -1 with
 * vkg_error() when it cannot be folded in. */
static int act_code(const char *op, const vkg_batchnorm *bn, int act, float slope) {
    if (act < 0) return 0;
    if ((act != VKG_RELU && act != VKG_LEAKY_RELU) || slope < 0 || bn->sync)
        return vkg_set_error("%s: only a ReLU or leaky ReLU (slope >= 0) folds into an "
                             "unsynchronised batch norm",
                             op);
    return act == VKG_RELU ? 1 : 2;
}

/* Synchronised batch norm: the first or second half of a [2C] range, summed across the
 * processes between two stages of a kernel. */
static int sum_half(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *t, int half) {
    vkg_buf b = t->buf;
    b.size = sizeof(float) * (uint64_t)t->c;
    b.offset += half ? b.size : 0;
    const vkg_buf *ranges[1] = {&b};
    return vkg_allsum_record(rec, bn->sync, ranges, 1, 1.0f);
}

static int check_params(const char *op, const vkg_batchnorm *bn, const vkg_tensor *x) {
    size_t c = (size_t)x->c;
    if (vkg_check_count(op, "gamma", &bn->gamma, c) < 0 ||
        vkg_check_count(op, "beta", &bn->beta, c) < 0 ||
        vkg_check_count(op, "the running mean", &bn->running_mean, c) < 0 ||
        vkg_check_count(op, "the running variance", &bn->running_var, c) < 0 ||
        vkg_check_count(op, "the saved statistics", &bn->saved, 2 * c) < 0)
        return -1;
    return 0;
}

int vkg_batchnorm_act_forward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                              const vkg_tensor *y, int training, int act, float slope) {
    const char *op = "batchnorm forward";
    int code = act_code(op, bn, act, slope);
    if (code < 0 || check_params(op, bn, x) < 0 ||
        vkg_check_count(op, "the output", y, vkg_tensor_count(x)) < 0)
        return -1;
    bn_forward_push p = {(uint32_t)x->n, (uint32_t)x->c, (uint32_t)(x->h * x->w),
                         bn->eps,        bn->momentum,   bn->sync ? (uint32_t)bn->sync->ranks : 1,
                         slope};
    vkg_kernel k = {.push = &p, .push_size = sizeof p, .groups = {(uint32_t)x->c, 1, 1}};
    /* on CPU devices x is read as texels (shaders/batchnorm_fwd.glsl) */
    vkg_buf xt;
    int texels = vkg_texel_floats(rec, &x->buf, &xt);
    vkg_reduction_kernel(rec, texels ? VKG_SHADER_BATCHNORM_FWD_TEXEL : VKG_SHADER_BATCHNORM_FWD,
                         &k);
    k.spec[FWD_MODE] = (uint32_t)training;
    k.spec[FWD_STAGE] = 0;
    k.spec[FWD_ACT] = (uint32_t)code;
    k.spec[FWD_ALIGNED] = p.hw % 4 == 0;
    k.nspec = FWD_ALIGNED + 1;
    VKG_BIND(k, 0, texels ? &xt : &x->buf);
    VKG_BIND(k, 1, &bn->gamma.buf);
    VKG_BIND(k, 2, &bn->beta.buf);
    /* writable in the shader (updated in training): written as far as synchronization goes */
    VKG_BIND(k, 3, &bn->running_mean.buf);
    VKG_BIND(k, 4, &bn->running_var.buf);
    VKG_BIND(k, 5, &bn->saved.buf);
    VKG_BIND(k, 6, &y->buf);
    if (!bn->sync || training != VKG_BN_TRAIN) return vkg_rec_kernel(rec, &k);
    int r = 0; /* the sum, the squared deviations from the global mean, the normalisation */
    for (uint32_t stage = 1; stage <= 3; stage++) {
        k.spec[FWD_STAGE] = stage;
        r |= vkg_rec_kernel(rec, &k);
        if (stage < 3) r |= sum_half(rec, bn, &bn->saved, (int)stage - 1);
    }
    return r ? -1 : 0;
}

int vkg_batchnorm_forward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                          const vkg_tensor *y, int training) {
    return vkg_batchnorm_act_forward(rec, bn, x, y, training, -1, 0);
}

int vkg_batchnorm_act_backward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                               const vkg_tensor *y, const vkg_tensor *dy, const vkg_tensor *dx,
                               const vkg_tensor *dgamma, const vkg_tensor *dbeta, int training,
                               int accumulate, int act, float slope) {
    const char *op = "batchnorm backward";
    size_t count = vkg_tensor_count(x), c = (size_t)x->c;
    int code = act_code(op, bn, act, slope);
    if (code < 0 || (code && vkg_check_count(op, "the activation's output", y, count) < 0))
        return -1;
    if (check_params(op, bn, x) < 0 || vkg_check_count(op, "dy", dy, count) < 0 ||
        vkg_check_count(op, "dx", dx, count) < 0 ||
        (dgamma && (vkg_check_count(op, "dgamma", dgamma, c) < 0 ||
                    vkg_check_count(op, "dbeta", dbeta, c) < 0)))
        return -1;
    bn_backward_push p = {(uint32_t)x->n, (uint32_t)x->c, (uint32_t)(x->h * x->w),
                          bn->sync ? (uint32_t)bn->sync->ranks : 1, slope};
    int sync = bn->sync && training;
    vkg_kernel k = {.push = &p, .push_size = sizeof p, .groups = {(uint32_t)x->c, 1, 1}};
    /* on CPU devices x, dy and y are read as texels (shaders/batchnorm_bwd.glsl); binding 7
     * then holds y's texels or, without an activation, any texels */
    vkg_buf xt, dyt, yt;
    int texels = !sync && vkg_texel_floats(rec, &x->buf, &xt) &&
                 vkg_texel_floats(rec, &dy->buf, &dyt) &&
                 (code ? vkg_texel_floats(rec, &y->buf, &yt) : (yt = xt, 1));
    vkg_reduction_kernel(rec, texels ? VKG_SHADER_BATCHNORM_BWD_TEXEL : VKG_SHADER_BATCHNORM_BWD,
                         &k);
    k.spec[BWD_TRAINING] = training ? 1u : 0u;
    k.spec[BWD_STAGE] = 0;
    k.spec[BWD_ACT] = (uint32_t)code;
    k.spec[BWD_PARAM_GRADS] = dgamma ? 1u : 0u;
    k.spec[BWD_ACCUMULATE] = accumulate ? 1u : 0u;
    k.spec[BWD_ALIGNED] = p.hw % 4 == 0;
    k.nspec = BWD_ALIGNED + 1;
    VKG_BIND(k, 0, texels ? &xt : &x->buf);
    VKG_BIND(k, 1, texels ? &dyt : &dy->buf);
    VKG_BIND(k, 2, &bn->gamma.buf);
    VKG_BIND(k, 3, &bn->saved.buf);
    /* without parameter gradients dx stands in for them: bound, never written */
    VKG_BIND(k, 4, dgamma ? &dgamma->buf : &dx->buf);
    VKG_BIND(k, 5, dgamma ? &dbeta->buf : &dx->buf);
    VKG_BIND(k, 6, &dx->buf);
    /* the sums when synchronised, the activation's output when one is folded in, else any range
     * will do */
    VKG_BIND(k, 7, texels ? &yt : sync ? &bn->sums.buf : code ? &y->buf : &dx->buf);
    if (!sync) return vkg_rec_kernel(rec, &k);
    k.spec[BWD_STAGE] = 1; /* this batch's sums (and the parameters' gradients), summed, then dx */
    const vkg_buf *sums[1] = {&bn->sums.buf};
    int r = vkg_rec_kernel(rec, &k) | vkg_allsum_record(rec, bn->sync, sums, 1, 1.0f);
    k.spec[BWD_STAGE] = 2;
    return r | vkg_rec_kernel(rec, &k) ? -1 : 0;
}

int vkg_batchnorm_backward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                           const vkg_tensor *dy, const vkg_tensor *dx, const vkg_tensor *dgamma,
                           const vkg_tensor *dbeta, int training, int accumulate) {
    return vkg_batchnorm_act_backward(rec, bn, x, NULL, dy, dx, dgamma, dbeta, training, accumulate,
                                      -1, 0);
}
