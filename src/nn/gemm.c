/* Packed GEMMs for CPU devices: each operand is first rearranged into a k-contiguous,
 * zero-padded matrix (shaders/gemm_pack.comp), then multiplied by shaders/gemm_packed.comp,
 * which reads both through rgba32f texel buffers. The packing costs one pass over each operand;
 * in exchange the GEMM's inner loop has no index arithmetic, no bounds checks and only
 * vectorised loads, which is what makes lavapipe fast (docs/PERF.md). */
#include "nn/kernel.h"

vkg_pack vkg_pack_matrix(uint32_t rows, uint32_t K, uint32_t row_stride, uint32_t k_stride) {
    return (vkg_pack){.rows = rows,
                      .K = K,
                      .nrc = 1,
                      .nc = 1,
                      .TY = 1,
                      .TX = 1,
                      .vy = 1,
                      .vx = 1,
                      .sb = row_stride,
                      .sc = k_stride,
                      .H = 1,
                      .W = 1};
}

/* Texels per packed row: K rounded up to a multiple of 8 (the GEMM's step), at least one step. */
static uint32_t texels(uint32_t K) {
    uint32_t kp = (K + 7) / 8 * 8;
    return (kp ? kp : 8) / 4;
}

static uint64_t align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) / a * a;
}

static int pack(vkg_rec *rec, vkg_pack *p, const vkg_buf *src, const vkg_buf *dst) {
    vkg_kernel k = {.shader = VKG_SHADER_GEMM_PACK,
                    .push = p,
                    .push_size = sizeof *p,
                    .groups = {(p->rows + 63) / 64, (p->KT + 3) / 4, 1}};
    VKG_BIND(k, 0, src);
    VKG_BIND(k, 1, dst);
    return vkg_rec_kernel(rec, &k);
}

int vkg_packed_gemms(vkg_rec *rec, vkg_packed_gemm *g, int count) {
    vkg_ctx *ctx = vkg_rec_ctx(rec);
    if (!vkg_ctx_uses_packed_gemm(ctx)) return 0;
    uint32_t max_texels;
    uint64_t align, total = 0;
    vkg_ctx_texel_limits(ctx, &max_texels, &align);
    for (int i = 0; i < count; i++) {
        if (g[i].a.rows == 0 || g[i].b.rows == 0) continue;
        g[i].a.KT = g[i].b.KT = texels(g[i].a.K);
        uint64_t ta = (uint64_t)g[i].a.rows * g[i].a.KT, tb = (uint64_t)g[i].b.rows * g[i].b.KT;
        if (ta > max_texels || tb > max_texels) return 0;
        total += align_up(ta * 16, align) + align_up(tb * 16, align);
    }
    if (total == 0) return 1;
    if (total > vkg_ctx_device(ctx)->max_storage_buffer_range) return 0;
    vkg_buf scratch;
    if (vkg_ctx_scratch(ctx, total, &scratch) < 0) return -1;
    uint64_t at = scratch.offset;
    for (int i = 0; i < count; i++) {
        vkg_packed_gemm *q = &g[i];
        if (q->a.rows == 0 || q->b.rows == 0) continue;
        uint64_t ba = (uint64_t)q->a.rows * q->a.KT * 16, bb = (uint64_t)q->b.rows * q->b.KT * 16;
        vkg_buf pa = {scratch.buffer, at, ba};
        at += align_up(ba, align);
        vkg_buf pb = {scratch.buffer, at, bb};
        at += align_up(bb, align);
        if (pack(rec, &q->a, q->a_src, &pa) < 0 || pack(rec, &q->b, q->b_src, &pb) < 0) return -1;
        struct {
            uint32_t M, N, KT, flags, bias_div, csm, d1, d2, cs1, cs2, cs3, offset;
        } push = {q->a.rows, q->b.rows, q->a.KT, q->flags, q->bias_div ? q->bias_div : 1,
                  q->csm,    q->d1,     q->d2,   q->cs1,   q->cs2,
                  q->cs3,    q->offset};
        vkg_kernel k = {.shader = VKG_SHADER_GEMM_PACKED,
                        .push = &push,
                        .push_size = sizeof push,
                        .groups = {((q->b.rows + 7) / 8 + 63) / 64, (q->a.rows + 7) / 8, 1}};
        VKG_BIND(k, 0, &pa);
        VKG_BIND(k, 1, &pb);
        VKG_BIND(k, 2, q->bias ? q->bias : q->a_src);
        VKG_BIND(k, 3, q->c);
        if (vkg_rec_kernel(rec, &k) < 0) return -1;
    }
    return 1;
}
