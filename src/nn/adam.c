/* The Adam / AdamW step (shaders/adam.comp). */
#include "nn/kernel.h"

int vkg_adam_step(vkg_rec *rec, const vkg_buf *params, const vkg_buf *grads, const vkg_buf *m,
                  const vkg_buf *v, const vkg_buf *hyper) {
    if (grads->size != params->size || m->size != params->size || v->size != params->size)
        return vkg_set_error("adam: parameters, gradients and moments differ in size");
    if (hyper->size < sizeof(vkg_adam_hyper))
        return vkg_set_error("adam: the hyperparameter range is smaller than vkg_adam_hyper");
    uint32_t count = (uint32_t)(params->size / sizeof(float));
    /* on CPU devices the four ranges are read as texels, 4 parameters an invocation's iteration
     * (shaders/adam.glsl); bindings 5-7 view the ranges 0, 2 and 3 write */
    vkg_buf pt, gt, mt, vt;
    int texels = vkg_texel_floats(rec, params, &pt) && vkg_texel_floats(rec, grads, &gt) &&
                 vkg_texel_floats(rec, m, &mt) && vkg_texel_floats(rec, v, &vt);
    vkg_kernel k = {
        .shader = texels ? VKG_SHADER_ADAM_TEXEL : VKG_SHADER_ADAM,
        .push = &count,
        .push_size = sizeof count,
        .groups = {vkg_elementwise_groups(rec, texels ? (count + 3) / 4 : count), 1, 1}};
    VKG_BIND(k, 0, params);
    VKG_BIND(k, 1, texels ? &gt : grads);
    VKG_BIND(k, 2, m);
    VKG_BIND(k, 3, v);
    VKG_BIND(k, 4, hyper);
    if (texels) {
        VKG_BIND(k, 5, &pt);
        VKG_BIND(k, 6, &mt);
        VKG_BIND(k, 7, &vt);
    }
    return vkg_rec_kernel(rec, &k);
}
