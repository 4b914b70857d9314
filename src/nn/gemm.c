/* The GEMMs every dense layer and full-window convolution runs on: the tiled strided GEMM
 * (shaders/gemm.comp, its tiles picked by vkg_gemm_setup) and, on CPU devices, packed GEMMs.
 *
 * Packed GEMMs: each operand is first rearranged into a k-contiguous,
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

/* Texels per packed row: K rounded up to whole texels, at least one. */
static uint32_t texels(uint32_t K) {
    return K ? (K + 3) / 4 : 1;
}

static uint64_t align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) / a * a;
}

/* The layout of shaders/gemm_pack_runs.comp that packs p (its floats in runs of 4), or 0. */
static uint32_t runs_mode(const vkg_pack *p) {
    if (p->txs == 1 && p->TX % 4 == 0) return PACK_X_RUNS;
    if (p->nrc == 1 && p->nc == 1 && p->y0 == 0 && p->x0 == 0 && (p->TY == 1 || p->tys == 1) &&
        (p->TX == 1 || p->txs == 1) && p->H == p->TY && p->W == p->TX && p->vy == p->TY &&
        p->vx == p->TX && p->TY * p->TX % 4 == 0)
        return PACK_PLANE_RUNS;
    if (p->rx == 1 && p->nc % 4 == 0) return PACK_ROW_X;
    if (p->rx == 2 && p->nc % 4 == 0) return PACK_ROW_X2;
    if (p->nrc == 1 && p->nc == 1 && p->sb == 1) return PACK_ROW_BASE;
    return 0;
}

static int pack(vkg_rec *rec, vkg_pack *p, const vkg_buf *src, const vkg_buf *dst) {
    /* on CPU devices a source in runs of 4 floats is read as texels, 4 rows an invocation in the
     * row modes */
    vkg_buf texels;
    uint32_t mode = runs_mode(p);
    if (mode && !vkg_texel_floats(rec, src, &texels)) mode = 0;
    uint32_t rows = mode >= PACK_ROW_X ? (p->rows + 3) / 4 : p->rows;
    /* 64 invocations a workgroup: lx rows by 64 / lx chunks of PACK_CHUNK texels */
    uint32_t lx = rows <= 8 ? 8 : rows <= 16 ? 16 : rows <= 32 ? 32 : 64, ly = 64 / lx;
    vkg_kernel k = {
        .shader = mode ? VKG_SHADER_GEMM_PACK_RUNS : VKG_SHADER_GEMM_PACK,
        .push = p,
        .push_size = sizeof *p,
        .spec = {lx, ly, mode},
        .nspec = mode ? 3 : 2,
        .groups = {(rows + lx - 1) / lx, (p->KT + PACK_CHUNK * ly - 1) / (PACK_CHUNK * ly), 1}};
    VKG_BIND(k, 0, mode ? &texels : src);
    VKG_BIND(k, 1, dst);
    return vkg_rec_kernel(rec, &k);
}

/* An operand already in the packed layout needs no packing pass: rows of K contiguous floats, K
 * a multiple of 4 (so a row is whole texels), in a source bound at a texel-aligned
 * offset, not overlapping the GEMM's output. A dense layer's input (forward), its output gradient
 * and weights (backward-input), and a convolution's weights (forward) are such operands. */
static int in_place(const vkg_pack *p, const vkg_buf *src, const vkg_buf *c, uint64_t align) {
    int ys = p->TY == 1 || p->tys == 1, xs = p->TX == 1 || p->txs == 1;
    return p->K > 0 && p->K % 4 == 0 && p->sb == p->K && p->nrc == 1 && p->nc == 1 && p->y0 == 0 &&
           p->x0 == 0 && ys && xs && p->vy == p->TY && p->vx == p->TX && p->H == p->TY &&
           p->W == p->TX && p->sc == p->TY * p->TX && src->offset % align == 0 &&
           src->size >= (uint64_t)p->rows * p->K * sizeof(float) &&
           (src->buffer != c->buffer || src->offset >= c->offset + c->size ||
            c->offset >= src->offset + src->size);
}

/* Binds operand p: its source where it lies, or the next free room in the scratch buffer (at
 * *at, advanced) with a packing pass recorded. */
static int operand(vkg_rec *rec, vkg_pack *p, const vkg_buf *src, const vkg_buf *c,
                   const vkg_buf *scratch, uint64_t *at, uint64_t align, vkg_buf *out) {
    uint64_t bytes = (uint64_t)p->rows * p->KT * 16;
    if (in_place(p, src, c, align)) {
        *out = (vkg_buf){src->buffer, src->offset, bytes};
        return 0;
    }
    *out = (vkg_buf){scratch->buffer, *at, bytes};
    *at += align_up(bytes, align);
    return pack(rec, p, src, out);
}

static uint32_t taps(const vkg_packed_gemm *g) {
    return g->taps ? g->taps : 1;
}

/* A GEMM with fewer than 4 rows of A (a convolution with one output or input channel) and a
 * long B fills 1 of the 8 rows of each register block while its packing pass copies all of B:
 * the tiled kernels' 1-row tiles are 1.6x faster there (G3 forward, D1 backward-input;
 * docs/PERF.md). With a short B the packed path still wins (D3 forward). */
static int thin(const vkg_packed_gemm *g) {
    return g->a.rows / taps(g) < 4 && g->b.rows >= 512;
}

/* The first of g[0 .. i - 1] that shares g[i]'s B packing, or -1. */
static int shared_before(const vkg_packed_gemm *g, int i) {
    for (int j = 0; g[i].b_shared && j < i; j++)
        if (g[j].b_shared == g[i].b_shared && g[j].a.rows && g[j].b.rows) return j;
    return -1;
}

int vkg_packed_gemms(vkg_rec *rec, vkg_packed_gemm *g, int count) {
    vkg_ctx *ctx = vkg_rec_ctx(rec);
    if (!vkg_ctx_uses_packed_gemm(ctx)) return 0;
    if (count > 64) return vkg_set_error("vkg_packed_gemms: %d GEMMs, at most 64", count);
    uint32_t max_texels;
    uint64_t align, total = 0;
    vkg_ctx_texel_limits(ctx, &max_texels, &align);
    for (int i = 0; i < count; i++) {
        if (g[i].a.rows == 0 || g[i].b.rows == 0) continue;
        if (thin(&g[i])) return 0;
        vkg_pack *b = g[i].b_shared ? g[i].b_shared : &g[i].b;
        g[i].a.KT = g[i].b.KT = b->KT = texels(g[i].a.K);
        uint64_t ta = (uint64_t)g[i].a.rows * g[i].a.KT, tb = (uint64_t)b->rows * b->KT;
        if (ta > max_texels || tb > max_texels) return 0;
        if (!in_place(&g[i].a, g[i].a_src, g[i].c, align)) total += align_up(ta * 16, align);
        if (shared_before(g, i) < 0 && !in_place(b, g[i].b_src, g[i].c, align))
            total += align_up(tb * 16, align);
    }
    if (total > vkg_ctx_device(ctx)->max_storage_buffer_range) return 0;
    vkg_buf scratch = {0};
    if (total > 0 && vkg_ctx_scratch(ctx, total, &scratch) < 0) return -1;
    uint64_t at = scratch.offset;
    vkg_buf packed_b[64];
    for (int i = 0; i < count; i++) {
        vkg_packed_gemm *q = &g[i];
        if (q->a.rows == 0 || q->b.rows == 0) continue;
        vkg_buf pa;
        int first = shared_before(g, i);
        if (operand(rec, &q->a, q->a_src, q->c, &scratch, &at, align, &pa) < 0) return -1;
        if (first >= 0)
            packed_b[i] = packed_b[first];
        else if (operand(rec, q->b_shared ? q->b_shared : &q->b, q->b_src, q->c, &scratch, &at,
                         align, &packed_b[i]) < 0)
            return -1;
        uint32_t M = q->a.rows / taps(q), N = q->b.rows;
        vkg_row_map map = q->b_shared ? q->b_map : (vkg_row_map){N, N, 0, 0, 0};
        struct {
            uint32_t M, N, KT, bias_div, csm, d1, d2, cs1, cs2, cs3, offset;
            float slope;
            vkg_row_map b_map;
            uint32_t taps, tap_w, tap_row;
        } push = {.M = M,
                  .N = N,
                  .KT = q->a.KT,
                  .bias_div = q->bias_div ? q->bias_div : 1,
                  .csm = q->csm,
                  .d1 = q->d1,
                  .d2 = q->d2,
                  .cs1 = q->cs1,
                  .cs2 = q->cs2,
                  .cs3 = q->cs3,
                  .offset = q->offset,
                  .slope = q->slope,
                  .b_map = map,
                  .taps = taps(q),
                  .tap_w = q->tap_w ? q->tap_w : 1,
                  .tap_row = q->tap_row};
        /* 8 x 8 blocks where 64 accumulators fit the registers, 8 x 4 on a CPU device where they
         * would spill (a GPU, where this path is only asked for, counts none: 8 x 8) */
        int registers = vkg_ctx_vector_registers(vkg_rec_ctx(rec));
        uint32_t cols = registers > 0 && registers < 32 ? 4 : 8;
        vkg_kernel k = {.shader = cols == 8 ? VKG_SHADER_GEMM_PACKED : VKG_SHADER_GEMM_PACKED_N4,
                        .push = &push,
                        .push_size = sizeof push,
                        .spec = {q->flags, q->act}, /* the shader's FLAGS and ACT */
                        .nspec = 2,
                        .groups = {((N + cols - 1) / cols + 63) / 64, (M + 7) / 8, 1}};
        VKG_BIND(k, 0, &pa);
        VKG_BIND(k, 1, &packed_b[i]);
        VKG_BIND(k, 2, q->bias ? q->bias : q->a_src);
        VKG_BIND(k, 3, q->c);
        if (vkg_rec_kernel(rec, &k) < 0) return -1;
    }
    return 1;
}

int vkg_texel_floats(vkg_rec *rec, const vkg_buf *b, vkg_buf *view) {
    vkg_ctx *ctx = vkg_rec_ctx(rec);
    uint32_t max_texels;
    uint64_t align;
    if (!vkg_ctx_uses_packed_gemm(ctx)) return 0;
    vkg_ctx_texel_limits(ctx, &max_texels, &align);
    *view = *b;
    view->size = align_up(b->size, 16);
    return b->offset % align == 0 && view->size / 16 <= max_texels;
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
    uint32_t spec[SPEC_COUNT] = {
        [SPEC_THREADS] = threads, [SPEC_BM] = bm, [SPEC_BN] = bn,        [SPEC_BK] = bk,
        [SPEC_TM] = tm,           [SPEC_TN] = tn, [SPEC_DIRECT] = direct};
    for (int i = 0; i < SPEC_COUNT; i++) k->spec[i] = spec[i];
    k->nspec = SPEC_COUNT;
    k->groups[0] = (N + bn - 1) / bn;
    k->groups[1] = (M + bm - 1) / bm;
    k->groups[2] = 1;
}

/* How many parts to split a K-long reduction over `tiles` workgroups into: enough workgroups to
 * fill the device (a GPU wants hundreds, a CPU a few per core), each part at least 512 long on a
 * CPU and 128 on a GPU (where a step of the K loop waits on memory, so short parts pay; measured
 * on an H200, docs/PERF.md), and every part's output bindable as one storage buffer. */
static uint32_t split_count(vkg_rec *rec, uint32_t tiles, uint64_t outputs, uint32_t K) {
    vkg_ctx *ctx = vkg_rec_ctx(rec);
    int cpu = vkg_ctx_uses_direct_tiles(ctx);
    uint32_t target = cpu ? 8 : 256, min_part = cpu ? 512 : 128;
    uint64_t splits = (target + tiles - 1) / tiles, fit;
    if (outputs == 0) return 1;
    if (splits > K / min_part) splits = K / min_part;
    if (splits > 64) splits = 64;
    fit = vkg_ctx_device(ctx)->max_storage_buffer_range / (outputs * sizeof(float));
    if (splits > fit) splits = fit;
    return splits < 1 ? 1 : (uint32_t)splits;
}

int vkg_rec_split_k(vkg_rec *rec, vkg_kernel *k, uint32_t *flags, int slot, const vkg_buf *out,
                    uint64_t outputs, uint32_t K) {
    uint32_t splits = split_count(rec, k->groups[0] * k->groups[1], outputs, K);
    VKG_BIND(*k, slot, out);
    if (splits == 1) return vkg_rec_kernel(rec, k);
    vkg_buf parts;
    if (vkg_ctx_scratch(vkg_rec_ctx(rec), splits * outputs * sizeof(float), &parts) < 0) return -1;
    int accumulate = (*flags & GEMM_FLAG_ACCUMULATE) != 0;
    *flags |= GEMM_FLAG_SPLIT;
    k->groups[2] = splits;
    VKG_BIND(*k, slot, &parts);
    int rc = vkg_rec_kernel(rec, k);
    *flags &= ~GEMM_FLAG_SPLIT;
    if (rc < 0) return -1;
    struct {
        uint32_t count, splits, accumulate;
    } sum = {(uint32_t)outputs, splits, accumulate ? 1u : 0u};
    vkg_kernel add = {.shader = VKG_SHADER_GEMM_SUM_SPLITS,
                      .push = &sum,
                      .push_size = sizeof sum,
                      .groups = {vkg_elementwise_groups(rec, sum.count), 1, 1}};
    VKG_BIND(add, 0, &parts);
    VKG_BIND(add, 1, out);
    return vkg_rec_kernel(rec, &add);
}

int vkg_gemm(vkg_rec *rec, vkg_gemm_shape push, const vkg_buf *a, const vkg_buf *b,
             const vkg_buf *bias, const vkg_buf *c) {
    return vkg_gemm_ep(rec, push, a, b, bias, c, NULL) < 0 ? -1 : 0;
}

int vkg_gemm_ep(vkg_rec *rec, vkg_gemm_shape push, const vkg_buf *a, const vkg_buf *b,
                const vkg_buf *bias, const vkg_buf *c, const vkg_epilogue *ep) {
    if (push.bias_div == 0) push.bias_div = 1;
    /* Packed path (CPU devices): the longer of M and N goes along the invocations (x), so small
     * batches still give every thread work. */
    int swap = push.M > push.N;
    vkg_pack pm = vkg_pack_matrix(push.M, push.K, push.sam, push.sak),
             pn = vkg_pack_matrix(push.N, push.K, push.sbn, push.sbk);
    uint32_t rows_out = swap ? push.M : push.N; /* the packed GEMM's N */
    vkg_packed_gemm g = {.a = swap ? pn : pm,
                         .b = swap ? pm : pn,
                         .a_src = swap ? b : a,
                         .b_src = swap ? a : b,
                         .bias = bias,
                         .c = c,
                         .bias_div = push.bias_div,
                         .csm = swap ? 1 : push.N,
                         .d1 = rows_out ? rows_out : 1,
                         .d2 = rows_out ? rows_out : 1,
                         .cs3 = swap ? push.N : 1,
                         .act = ep ? ep->act : 0,
                         .slope = ep ? ep->slope : 0};
    if (push.flags & GEMM_FLAG_BIAS) g.flags |= swap ? PACKED_FLAG_BIAS_M : PACKED_FLAG_BIAS_N;
    if (push.flags & GEMM_FLAG_ACCUMULATE) g.flags |= PACKED_FLAG_ACCUMULATE;
    int packed = vkg_packed_gemms(rec, &g, 1);
    if (packed != 0) return packed < 0 ? -1 : 1;
    c = vkg_unfused_out(ep, c); /* the tiled GEMM cannot apply it: the caller's pass does */
    vkg_kernel k = {.shader = VKG_SHADER_GEMM, .push = &push, .push_size = sizeof push};
    VKG_BIND(k, 0, a);
    VKG_BIND(k, 1, b);
    VKG_BIND(k, 2, bias ? bias : a);
    vkg_gemm_setup(rec, push.M, push.N, &k);
    return vkg_unfused(
        vkg_rec_split_k(rec, &k, &push.flags, 3, c, (uint64_t)push.M * push.N, push.K), ep);
}
