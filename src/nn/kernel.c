/* Shared helpers: dispatch sizes, shader variants, shape checks. */
#include "nn/kernel.h"

uint32_t vkg_elementwise_groups(vkg_rec *rec, size_t count) {
    size_t groups = (count + 255) / 256,
           most = vkg_ctx_uses_direct_tiles(vkg_rec_ctx(rec)) ? 16 : 65535;
    if (groups == 0) groups = 1;
    return groups > most ? (uint32_t)most : (uint32_t)groups;
}

void vkg_reduction_kernel(vkg_rec *rec, vkg_shader_id base, vkg_kernel *k) {
    vkg_ctx *ctx = vkg_rec_ctx(rec);
    vkg_shader_id variant = vkg_shader_get(base)->subgroup;
    k->shader = vkg_ctx_uses_subgroups(ctx) && variant ? variant : base;
    k->spec[0] = vkg_ctx_uses_direct_tiles(ctx) ? 64 : 256;
    k->nspec = 1;
}

int vkg_check_count(const char *op, const char *what, const vkg_tensor *t, size_t count) {
    if (!t || !t->buf.buffer) return vkg_set_error("%s: %s is not allocated", op, what);
    if (vkg_tensor_count(t) != count)
        return vkg_set_error("%s: %s has %zu elements (%dx%dx%dx%d), expected %zu", op, what,
                             vkg_tensor_count(t), t->n, t->c, t->h, t->w, count);
    return 0;
}
