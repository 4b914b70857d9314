/* Shared helpers: dispatch sizes, shader variants, GEMM tile choice, shape checks. */
#include <stdio.h>

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

void vkg_gemm_setup(vkg_rec *rec, uint32_t M, uint32_t N, vkg_kernel *k) {
    const vkg_device_info *d = vkg_ctx_device(vkg_rec_ctx(rec));
    /* 64x64 tiles of 4x4 register blocks (256 threads, 8 KiB shared memory). Narrow problems
     * (1-3 image channels, a few output channels) get flatter tiles so fewer computed rows or
     * columns are thrown away; devices with fewer than 256 threads a workgroup get 32x32 tiles
     * of 64 threads. */
    uint32_t bm = 64, bn = 64, bk = 16, tm = 4, tn = 4;
    if (d->max_workgroup_invocations < 256 || d->shared_memory < 8192)
        bm = bn = 32, bk = 8;
    else if (M == 1)
        bm = 1, tm = 1, bn = 256, tn = 1;
    else if (M <= 4)
        bm = 4, tm = 1, bn = 256;
    else if (N <= 4)
        bn = 4, tn = 1, bm = 256;
    else if (M <= 32)
        bm = 32, tm = 2;
    else if (N <= 32)
        bn = 32, tn = 2;
    uint32_t direct = (uint32_t)vkg_ctx_uses_direct_tiles(vkg_rec_ctx(rec));
    if (direct) bk = 8;
    uint32_t threads = (bm / tm) * (bn / tn);
    uint32_t spec[9] = {threads, bm, bn, bk, tm, tn, 0, 0, direct};
    for (int i = 0; i < 9; i++) k->spec[i] = spec[i];
    k->nspec = 9;
    k->groups[0] = (N + bn - 1) / bn;
    k->groups[1] = (M + bm - 1) / bm;
    k->groups[2] = 1;
}

int vkg_check_count(const char *op, const char *what, const vkg_tensor *t, size_t count) {
    if (!t || !t->buf.buffer) return vkg_set_error("%s: %s is not allocated", op, what);
    if (vkg_tensor_count(t) != count)
        return vkg_set_error("%s: %s has %zu elements (%dx%dx%dx%d), expected %zu", op, what,
                             vkg_tensor_count(t), t->n, t->c, t->h, t->w, count);
    return 0;
}
