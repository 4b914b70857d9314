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
    vkg_kernel k = {.shader = "gemm_pack",
                    .push = p,
                    .push_size = sizeof *p,
                    .nbufs = 2,
                    .groups = {(p->rows + 63) / 64, (p->KT + 3) / 4, 1}};
    VKG_BIND(k, 0, src, 0);
    VKG_BIND(k, 1, dst, 1);
    return vkg_rec_kernel(rec, &k);
}

/* A GEMM with fewer than 4 rows of A (a convolution with one output or input channel) and a
 * long B fills 1 of the 8 rows of each register block while its packing pass copies all of B:
 * the tiled kernels' 1-row tiles are 2.7-4x faster there (G3 forward, D1 backward-input;
 * docs/PERF.md). With a short B the packed path still wins (D3 forward). */
static int thin(const vkg_packed_gemm *g) {
    return g->a.rows < 4 && g->b.rows >= 512;
}

int vkg_packed_gemms(vkg_rec *rec, vkg_packed_gemm *g, int count) {
    vkg_ctx *ctx = vkg_rec_ctx(rec);
    if (!ctx->packed_gemm) return 0;
    uint64_t align = ctx->texel_offset_alignment, total = 0;
    for (int i = 0; i < count; i++) {
        if (g[i].a.rows == 0 || g[i].b.rows == 0) continue;
        if (thin(&g[i])) return 0;
        g[i].a.KT = g[i].b.KT = texels(g[i].a.K);
        uint64_t ta = (uint64_t)g[i].a.rows * g[i].a.KT, tb = (uint64_t)g[i].b.rows * g[i].b.KT;
        if (ta > ctx->max_texel_elements || tb > ctx->max_texel_elements) return 0;
        total += align_up(ta * 16, align) + align_up(tb * 16, align);
    }
    if (total == 0) return 1;
    if (total > ctx->info.max_storage_buffer_range) return 0;
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
        vkg_kernel k = {.shader = "gemm_packed",
                        .push = &push,
                        .push_size = sizeof push,
                        .nbufs = 4,
                        .texel_mask = 3u,
                        .groups = {((q->b.rows + 7) / 8 + 63) / 64, (q->a.rows + 7) / 8, 1}};
        VKG_BIND(k, 0, &pa, 0);
        VKG_BIND(k, 1, &pb, 0);
        VKG_BIND(k, 2, q->bias ? q->bias : q->a_src, 0);
        VKG_BIND(k, 3, q->c, 1);
        if (vkg_rec_kernel(rec, &k) < 0) return -1;
    }
    return 1;
}
