/* Feature matching loss and gradient (shaders/feature_match.comp). */
#include "nn/kernel.h"

int vkg_feature_match(vkg_rec *rec, const vkg_tensor *real_mean, const vkg_tensor *fake_mean,
                      const vkg_buf *loss, const vkg_tensor *grad) {
    size_t features = vkg_tensor_count(real_mean);
    const char *op = "feature matching";
    if (vkg_check_count(op, "the generated features' mean", fake_mean, features) < 0 ||
        vkg_check_count(op, "the gradient", grad, (size_t)grad->n * features) < 0)
        return -1;
    for (uint32_t mode = 0; mode < 2; mode++) {
        uint32_t p[3] = {(uint32_t)grad->n, (uint32_t)features, mode};
        vkg_kernel k = {.push = p, .push_size = sizeof p};
        vkg_reduction_kernel(rec, VKG_SHADER_FEATURE_MATCH, &k);
        size_t count = (size_t)grad->n * features, groups = (count + k.spec[0] - 1) / k.spec[0];
        k.groups[0] = mode == 0 ? 1 : (uint32_t)(groups < 4096 ? groups : 4096);
        VKG_BIND(k, 0, &real_mean->buf);
        VKG_BIND(k, 1, &fake_mean->buf);
        VKG_BIND(k, 2, loss); /* writable in the shader: written as far as sync goes */
        VKG_BIND(k, 3, &grad->buf);
        if (vkg_rec_kernel(rec, &k) < 0) return -1;
    }
    return 0;
}
