/* conv2d and conv_transpose2d, forward and backward, on three implicit-GEMM shaders. A transposed
 * convolution is the adjoint of a convolution, so its passes are the convolution's passes with the
 * input and output grids swapped:
 *   conv_transpose forward         = conv backward-input
 *   conv_transpose backward-input  = conv forward
 *   conv_transpose backward-weight = conv backward-weight with x and dy exchanged
 * A full-window convolution (the kernel covers the whole input, no padding: DCGAN's projection
 * of z and its final logit layer) is a dense layer on flattened tensors and runs as a GEMM. */
#include "nn/kernel.h"

/* The push constants of shaders/conv_geometry.glsl, plus the kernel size and stride that go to
 * the shaders as specialization constants. */
typedef struct conv_push {
    uint32_t batch, c_out, h_out, w_out, c_in, h_in, w_in, pad, flags;
    uint32_t kernel, stride; /* not pushed */
} conv_push;
#define CONV_PUSH_BYTES (9 * sizeof(uint32_t))

int vkg_conv_out_size(int in, const vkg_conv *p) {
    return (in + 2 * p->pad - p->kernel) / p->stride + 1;
}

int vkg_conv_transpose_out_size(int in, const vkg_conv *p) {
    return (in - 1) * p->stride - 2 * p->pad + p->kernel;
}

/* Checks that `small` is the convolution of `large` with weights [small->c][large->c][k][k]. */
static int geometry(const char *op, const vkg_conv *p, const vkg_tensor *small,
                    const vkg_tensor *large, const vkg_tensor *w, conv_push *g) {
    if (p->kernel < 1 || p->stride < 1 || p->pad < 0 || p->pad >= p->kernel)
        return vkg_set_error("%s: invalid kernel %d, stride %d, padding %d", op, p->kernel,
                             p->stride, p->pad);
    if (small->n != large->n)
        return vkg_set_error("%s: batch %d and %d differ", op, small->n, large->n);
    int oh = vkg_conv_out_size(large->h, p), ow = vkg_conv_out_size(large->w, p);
    if (oh != small->h || ow != small->w)
        return vkg_set_error("%s: a %dx%d grid with kernel %d stride %d padding %d gives %dx%d, "
                             "not %dx%d",
                             op, large->h, large->w, p->kernel, p->stride, p->pad, oh, ow, small->h,
                             small->w);
    size_t weights = (size_t)small->c * large->c * p->kernel * p->kernel;
    if (vkg_check_count(op, "the weight", w, weights) < 0) return -1;
    *g = (conv_push){(uint32_t)small->n,  (uint32_t)small->c, (uint32_t)small->h,
                     (uint32_t)small->w,  (uint32_t)large->c, (uint32_t)large->h,
                     (uint32_t)large->w,  (uint32_t)p->pad,   0,
                     (uint32_t)p->kernel, (uint32_t)p->stride};
    return 0;
}

/* The convolution shaders' own specialization constants. */
static void conv_spec(const conv_push *g, vkg_kernel *k) {
    k->spec[SPEC_KERNEL] = g->kernel;
    k->spec[SPEC_STRIDE] = g->stride;
}

/* A convolution kernel with its four bindings (two operands, the bias, the output) and its
 * kernel size and stride. */
static vkg_kernel conv_kernel(vkg_shader_id shader, conv_push *g, const vkg_buf *b0,
                              const vkg_buf *b1, const vkg_buf *bias, const vkg_buf *out) {
    vkg_kernel k = {.shader = shader, .push = g, .push_size = CONV_PUSH_BYTES, .nspec = SPEC_COUNT};
    VKG_BIND(k, 0, b0);
    VKG_BIND(k, 1, b1);
    VKG_BIND(k, 2, bias);
    VKG_BIND(k, 3, out);
    conv_spec(g, &k);
    return k;
}

static int record(vkg_rec *rec, vkg_shader_id shader, conv_push *g, const vkg_buf *b0,
                  const vkg_buf *b1, const vkg_buf *bias, const vkg_buf *out, uint32_t M,
                  uint32_t N, uint32_t phases) {
    vkg_kernel k = conv_kernel(shader, g, b0, b1, bias, out);
    vkg_gemm_setup(rec, M, N, &k);
    conv_spec(g, &k); /* vkg_gemm_setup sets every constant: the convolution's again */
    k.groups[2] = phases;
    return vkg_rec_kernel(rec, &k);
}

static int full_window(const conv_push *g) {
    return g->h_out == 1 && g->w_out == 1 && g->pad == 0 && g->kernel == g->h_in &&
           g->kernel == g->w_in;
}

/* Packed path (CPU devices, src/nn/gemm.c). Operands in the notation of
 * shaders/gemm_pack.comp; "small" is the convolution's output grid, "large" its input grid. */

/* The weights [c_out][c_in][k][k] in windows of win x win taps (win = k, or the stride for the
 * convolution by taps), t = k / win windows a side: rows (co, ty, tx), k = (ci, py, px) ->
 * w[co, ci, win*ty + py, win*tx + px]. With win = k: rows co, k = (ci, ky, kx). */
static vkg_pack pack_weights(const conv_push *g, uint32_t win) {
    uint32_t t = g->kernel / win, kk = g->kernel * g->kernel;
    vkg_pack p = vkg_pack_matrix(g->c_out * t * t, g->c_in * win * win, g->c_in * kk, kk);
    p.nrc = t * t, p.nc = t;
    p.TY = p.TX = p.vy = p.vx = win;
    p.ry = p.rx = (int32_t)win, p.tys = p.txs = 1;
    p.H = p.W = g->kernel;
    return p;
}

/* The large grid's win x win windows at the stride over a rows x cols grid: rows (b, R, C),
 * k = (ci, py, px) -> x[b, ci, s*R + py - pad, s*C + px - pad] (0 outside). With win = k over
 * the output grid: im2col, k = (ci, ky, kx). */
static vkg_pack pack_windows(const conv_push *g, uint32_t win, uint32_t rows, uint32_t cols) {
    vkg_pack p = vkg_pack_matrix(g->batch * rows * cols, g->c_in * win * win,
                                 g->c_in * g->h_in * g->w_in, g->h_in * g->w_in);
    p.nrc = rows * cols, p.nc = cols;
    p.TY = p.TX = p.vy = p.vx = win;
    p.y0 = p.x0 = -(int32_t)g->pad;
    p.ry = p.rx = (int32_t)g->stride;
    p.tys = p.txs = 1;
    p.H = g->h_in, p.W = g->w_in;
    return p;
}

/* C[m, n] stored at NCHW [b][m][pixel] for n = (b, pixel) over `pixels` pixels. */
static void store_nchw(vkg_packed_gemm *q, uint32_t channels, uint32_t pixels) {
    q->csm = pixels, q->d1 = q->d2 = pixels, q->cs1 = channels * pixels, q->cs3 = 1;
}

/* The convolution by taps (a kernel of t x t taps of s x s, t = k / s): with x's s x s blocks
 * as channels, X[b, (ci, py, px), R, C] = x[b, ci, s*R + py - pad, s*C + px - pad] (zero
 * outside), y[b, co, oy, ox] = sum over taps (ty, tx) and k = (ci, py, px) of
 * w[co, ci, s*ty + py, s*tx + px] * X[b, k, oy + ty, ox + tx]. X packed with its pixels as rows,
 * over the (h_out + t - 1) x (w_out + t - 1) grid those sums reach, is x packed once; im2col
 * packs it t * t times, once per tap (4 times at DCGAN's kernel 4, stride 2). Applies when the
 * kernel is a multiple of the stride and c_in * s * s of 8: a tap's segment is then whole
 * iterations of the GEMM's loop. With 1 input channel (4 floats a tap) the taps' short loops
 * cost more than im2col's packing saves (D's first layer, docs/PERF.md). */
static int by_taps(const conv_push *g) {
    uint32_t s = g->stride;
    return g->kernel % s == 0 && g->kernel > s && g->c_in * s * s % 8 == 0;
}

static int forward_packed(vkg_rec *rec, const conv_push *g, const vkg_buf *x, const vkg_buf *w,
                          const vkg_buf *b, const vkg_buf *y, const vkg_epilogue *ep) {
    uint32_t win = by_taps(g) ? g->stride : g->kernel, t = g->kernel / win;
    uint32_t cols = g->w_out + t - 1;
    vkg_pack grid = pack_windows(g, win, g->h_out + t - 1, cols);
    vkg_packed_gemm q = {.a = pack_weights(g, win),
                         .b = grid,
                         .a_src = w,
                         .b_src = x,
                         .bias = b,
                         .c = y,
                         .act = ep ? ep->act : 0,
                         .slope = ep ? ep->slope : 0};
    if (t > 1) { /* by taps: tap (ty, tx) reads the grid's rows (b, oy + ty, ox + tx) */
        q.b.rows = g->batch * g->h_out * g->w_out;
        q.b_shared = &grid;
        q.b_map = (vkg_row_map){g->h_out * g->w_out, g->w_out, grid.nrc, cols, 0};
        q.taps = t * t, q.tap_w = t, q.tap_row = cols;
    }
    store_nchw(&q, g->c_out, g->h_out * g->w_out);
    if (g->flags & GEMM_FLAG_BIAS) q.flags |= PACKED_FLAG_BIAS_M;
    return vkg_packed_gemms(rec, &q, 1);
}

/* The stride phases' rows of dy, (b, r, c) -> dy[b, co, oy0 + r - ty, ox0 + c - tx]: when every
 * phase has the whole taps x taps window (the kernel a multiple of the stride), one packing of
 * the grid of rows (b, R, C), R from the least oy0 to the largest oy0 + rows - 1 (C alike),
 * serves them all, each phase reading its rows at its own offset: dy is packed once instead of
 * once per phase (s * s times). */
typedef struct phase_grid {
    uint32_t r0, c0, rows, cols; /* least oy0 and ox0; the grid's size */
} phase_grid;

static void phase_origin(const conv_push *g, uint32_t phase, uint32_t *oy0, uint32_t *ox0,
                         uint32_t *rows, uint32_t *cols) {
    uint32_t s = g->stride, py = phase / s, px = phase % s;
    *oy0 = (py + g->pad - (py + g->pad) % s) / s, *ox0 = (px + g->pad - (px + g->pad) % s) / s;
    *rows = py < g->h_in ? (g->h_in - py + s - 1) / s : 0;
    *cols = px < g->w_in ? (g->w_in - px + s - 1) / s : 0;
}

/* dy's rows (b, r, c) over a rows x cols grid whose first row reads dy row oy0 (and column
 * ox0), k = (co, ty, tx) -> dy[b, co, oy0 + r - ty, ox0 + c - tx] for ty < vy, tx < vx (0 for
 * the taps a phase skips and outside dy). */
static vkg_pack pack_dy_rows(const conv_push *g, uint32_t taps, uint32_t rows, uint32_t cols,
                             uint32_t vy, uint32_t vx, uint32_t oy0, uint32_t ox0) {
    vkg_pack p = vkg_pack_matrix(g->batch * rows * cols, g->c_out * taps * taps,
                                 g->c_out * g->h_out * g->w_out, g->h_out * g->w_out);
    p.nrc = rows * cols, p.nc = cols ? cols : 1;
    p.TY = p.TX = taps, p.vy = vy, p.vx = vx;
    p.y0 = (int32_t)oy0, p.x0 = (int32_t)ox0;
    p.ry = p.rx = 1, p.tys = p.txs = -1;
    p.H = g->h_out, p.W = g->w_out;
    return p;
}

static phase_grid shared_grid(const conv_push *g) {
    uint32_t s = g->stride, r1 = 0, c1 = 0;
    phase_grid q = {UINT32_MAX, UINT32_MAX, 0, 0};
    for (uint32_t phase = 0; phase < s * s; phase++) {
        uint32_t oy0, ox0, rows, cols;
        phase_origin(g, phase, &oy0, &ox0, &rows, &cols);
        if (rows == 0 || cols == 0) continue;
        if (oy0 < q.r0) q.r0 = oy0;
        if (ox0 < q.c0) q.c0 = ox0;
        if (oy0 + rows > r1) r1 = oy0 + rows;
        if (ox0 + cols > c1) c1 = ox0 + cols;
    }
    if (r1 > 0) q.rows = r1 - q.r0, q.cols = c1 - q.c0;
    return q;
}

/* The stride-phase GEMMs of shaders/conv2d_bwd_input.comp (its header explains the phases):
 * per phase (py, px), dx[b, ci, py + r*s, px + c*s] = sum over (co, ty, tx) of
 * w[co, ci, fky + ty*s, fkx + tx*s] * dy[b, co, oy0 + r - ty, ox0 + c - tx]. */
static int backward_input_packed(vkg_rec *rec, const conv_push *g, const vkg_buf *dy,
                                 const vkg_buf *w, const vkg_buf *b, const vkg_buf *dx,
                                 const vkg_epilogue *ep) {
    uint32_t s = g->stride, k = g->kernel, taps = (k + s - 1) / s;
    vkg_packed_gemm q[64];
    if (s * s > 64) return 0;
    phase_grid grid = shared_grid(g);
    vkg_pack shared = pack_dy_rows(g, taps, grid.rows, grid.cols, taps, taps, grid.r0, grid.c0);
    for (uint32_t phase = 0; phase < s * s; phase++) {
        uint32_t py = phase / s, px = phase % s, oy0, ox0, rows, cols;
        phase_origin(g, phase, &oy0, &ox0, &rows, &cols);
        uint32_t fky = (py + g->pad) % s, fkx = (px + g->pad) % s;
        uint32_t ty = fky < k ? (k - fky + s - 1) / s : 0, tx = fkx < k ? (k - fkx + s - 1) / s : 0;
        uint32_t K = g->c_out * taps * taps;
        vkg_pack a = vkg_pack_matrix(g->c_in, K, k * k, g->c_in * k * k);
        a.TY = a.TX = taps, a.vy = ty, a.vx = tx;
        a.y0 = (int32_t)fky, a.x0 = (int32_t)fkx, a.tys = a.txs = (int32_t)s;
        a.H = a.W = k;
        vkg_pack bb = pack_dy_rows(g, taps, rows, cols, ty, tx, oy0, ox0);
        q[phase] = (vkg_packed_gemm){.a = a,
                                     .b = bb,
                                     .a_src = w,
                                     .b_src = dy,
                                     .bias = b,
                                     .c = dx,
                                     .act = ep ? ep->act : 0,
                                     .slope = ep ? ep->slope : 0};
        q[phase].csm = g->h_in * g->w_in;
        q[phase].d1 = rows * cols > 0 ? rows * cols : 1, q[phase].d2 = bb.nc;
        q[phase].cs1 = g->c_in * g->h_in * g->w_in, q[phase].cs2 = s * g->w_in, q[phase].cs3 = s;
        q[phase].offset = py * g->w_in + px;
        if (g->flags & GEMM_FLAG_BIAS) q[phase].flags |= PACKED_FLAG_BIAS_M;
        if (k % s == 0 && grid.rows > 0) { /* every phase has every tap: share dy's packing */
            q[phase].b_shared = &shared;
            q[phase].b_map = (vkg_row_map){bb.nrc, bb.nc, grid.rows * grid.cols, grid.cols,
                                           (oy0 - grid.r0) * grid.cols + ox0 - grid.c0};
        }
    }
    return vkg_packed_gemms(rec, q, (int)(s * s));
}

/* dw[co, (ci, ky, kx)] = sum over (b, oy, ox) of dy[b, co, oy, ox] * x[b, ci, oy*s-p+ky, ...]. */
static int backward_weight_packed(vkg_rec *rec, const conv_push *g, const vkg_buf *x,
                                  const vkg_buf *dy, const vkg_buf *dw) {
    uint32_t hw = g->h_out * g->w_out, kk = g->kernel * g->kernel, N = g->c_in * kk;
    vkg_pack a = vkg_pack_matrix(g->c_out, g->batch * hw, hw, g->c_out * hw);
    a.TY = a.vy = a.H = g->h_out, a.TX = a.vx = a.W = g->w_out;
    a.tys = a.txs = 1;
    vkg_pack b = vkg_pack_matrix(N, g->batch * hw, g->h_in * g->w_in, g->c_in * g->h_in * g->w_in);
    b.nrc = kk, b.nc = g->kernel;
    b.TY = b.vy = g->h_out, b.TX = b.vx = g->w_out;
    b.y0 = b.x0 = -(int32_t)g->pad, b.ry = b.rx = 1, b.tys = b.txs = (int32_t)g->stride;
    b.H = g->h_in, b.W = g->w_in;
    vkg_packed_gemm q = {.a = a, .b = b, .a_src = dy, .b_src = x, .c = dw};
    q.csm = N, q.d1 = q.d2 = N, q.cs3 = 1;
    if (g->flags & GEMM_FLAG_ACCUMULATE) q.flags |= PACKED_FLAG_ACCUMULATE;
    return vkg_packed_gemms(rec, &q, 1);
}

/* conv2d_fwd: x is the large grid, y the small one; M = c_out, N = batch*h_out*w_out. */
static int forward(vkg_rec *rec, const char *op, const vkg_conv *p, const vkg_tensor *x,
                   const vkg_tensor *w, const vkg_tensor *b, const vkg_tensor *y,
                   const vkg_epilogue *ep) {
    conv_push g;
    if (geometry(op, p, y, x, w, &g) < 0) return -1;
    if (b && vkg_check_count(op, "the bias", b, (size_t)y->c) < 0) return -1;
    g.flags = b ? GEMM_FLAG_BIAS : 0u;
    if (full_window(&g)) { /* y[b, co] = sum_j x[b, j] w[co, j], j over c_in*k*k */
        uint32_t K = g.c_in * g.kernel * g.kernel;
        vkg_gemm_shape s = {g.batch, g.c_out, K, K, 1, 1, K, g.flags, 1};
        return vkg_gemm_ep(rec, s, &x->buf, &w->buf, b ? &b->buf : NULL, &y->buf, ep);
    }
    int packed = forward_packed(rec, &g, &x->buf, &w->buf, b ? &b->buf : NULL, &y->buf, ep);
    if (packed != 0) return packed;
    return vkg_unfused(record(rec, VKG_SHADER_CONV2D_FWD, &g, &x->buf, &w->buf,
                              b ? &b->buf : &w->buf, vkg_unfused_out(ep, &y->buf), g.c_out,
                              g.batch * g.h_out * g.w_out, 1),
                       ep);
}

/* Input channels up to which the backward-input pass runs shaders/conv2d_bwd_input_thin.comp on
 * CPU devices: a GEMM of so few rows spends the packed and tiled kernels' time on packing and
 * index arithmetic. Its 4 x 8 accumulators fit 32 vector registers but spill from 16. Measured
 * on lavapipe (docs/PERF.md): with 32 registers (AVX-512) faster than packing up to 16
 * channels, slower from 32; with 16 (AVX2) faster for 1 and 3 channels, slower from 8. */
static uint32_t thin_max_in(const vkg_ctx *ctx) {
    return vkg_ctx_vector_registers(ctx) >= 32 ? 16 : THIN_CHANNELS;
}

/* conv2d_bwd_input: dy is the small grid, dx the large one; M = c_in, N = batch*h_in*w_in. */
static int backward_input(vkg_rec *rec, const char *op, const vkg_conv *p, const vkg_tensor *dy,
                          const vkg_tensor *w, const vkg_tensor *b, const vkg_tensor *dx,
                          const vkg_epilogue *ep) {
    conv_push g;
    if (geometry(op, p, dy, dx, w, &g) < 0) return -1;
    if (b && vkg_check_count(op, "the bias", b, (size_t)dx->c) < 0) return -1;
    g.flags = b ? GEMM_FLAG_BIAS : 0u;
    if (full_window(&g)) { /* dx[b, j] = bias[j / (k*k)] + sum_co dy[b, co] w[co, j] */
        uint32_t K = g.c_in * g.kernel * g.kernel;
        vkg_gemm_shape s = {g.batch, K, g.c_out, g.c_out, 1, K, 1, g.flags, g.kernel * g.kernel};
        return vkg_gemm_ep(rec, s, &dy->buf, &w->buf, b ? &b->buf : NULL, &dx->buf, ep);
    }
    /* one GEMM per stride phase (workgroup z); x covers the largest phase */
    uint32_t rows = (g.h_in + g.stride - 1) / g.stride, cols = (g.w_in + g.stride - 1) / g.stride;
    vkg_buf dy_texels;
    if (g.c_in <= thin_max_in(vkg_rec_ctx(rec)) && vkg_ctx_uses_direct_tiles(vkg_rec_ctx(rec)) &&
        vkg_texel_floats(rec, &dy->buf, &dy_texels)) {
        vkg_kernel k = conv_kernel(VKG_SHADER_CONV2D_BWD_INPUT_THIN, &g, &dy_texels, &w->buf,
                                   b ? &b->buf : &w->buf, vkg_unfused_out(ep, &dx->buf));
        uint32_t spans = g.batch * rows * ((cols + THIN_SPAN - 1) / THIN_SPAN);
        k.groups[0] = (spans + 63) / 64;
        k.groups[1] = (g.c_in + THIN_CHANNELS - 1) / THIN_CHANNELS;
        k.groups[2] = g.stride * g.stride;
        return vkg_unfused(vkg_rec_kernel(rec, &k), ep);
    }
    int packed =
        backward_input_packed(rec, &g, &dy->buf, &w->buf, b ? &b->buf : NULL, &dx->buf, ep);
    if (packed != 0) return packed;
    return vkg_unfused(record(rec, VKG_SHADER_CONV2D_BWD_INPUT, &g, &dy->buf, &w->buf,
                              b ? &b->buf : &w->buf, vkg_unfused_out(ep, &dx->buf), g.c_in,
                              g.batch * rows * cols, g.stride * g.stride),
                       ep);
}

/* conv2d_bwd_weight: x is the large grid, dy the small one; M = c_out, N = c_in*k*k. */
static int backward_weight(vkg_rec *rec, const char *op, const vkg_conv *p, const vkg_tensor *x,
                           const vkg_tensor *dy, const vkg_tensor *dw, int accumulate) {
    conv_push g;
    if (geometry(op, p, dy, x, dw, &g) < 0) return -1;
    g.flags = accumulate ? GEMM_FLAG_ACCUMULATE : 0u;
    if (full_window(&g)) { /* dw[co, j] = sum_b dy[b, co] x[b, j] */
        uint32_t K = g.c_in * g.kernel * g.kernel;
        vkg_gemm_shape s = {g.c_out, K, g.batch, 1, g.c_out, K, 1, g.flags, 1};
        return vkg_gemm(rec, s, &dy->buf, &x->buf, NULL, &dw->buf);
    }
    int packed = backward_weight_packed(rec, &g, &x->buf, &dy->buf, &dw->buf);
    if (packed != 0) return packed < 0 ? -1 : 0;
    uint32_t M = g.c_out, N = g.c_in * g.kernel * g.kernel, K = g.batch * g.h_out * g.w_out;
    vkg_kernel k = {
        .shader = VKG_SHADER_CONV2D_BWD_WEIGHT, .push = &g, .push_size = CONV_PUSH_BYTES};
    vkg_gemm_setup(rec, M, N, &k);
    conv_spec(&g, &k);
    VKG_BIND(k, 0, &x->buf);
    VKG_BIND(k, 1, &dy->buf);
    return vkg_rec_split_k(rec, &k, &g.flags, 2, &dw->buf, (uint64_t)M * N, K);
}

int vkg_conv2d_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x, const vkg_tensor *w,
                       const vkg_tensor *b, const vkg_tensor *y) {
    return forward(rec, "conv2d forward", p, x, w, b, y, NULL) < 0 ? -1 : 0;
}

int vkg_conv2d_act_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                           const vkg_tensor *w, const vkg_tensor *b, vkg_activation kind,
                           float slope, const vkg_tensor *pre, const vkg_tensor *y) {
    vkg_epilogue ep;
    if (vkg_epilogue_init("conv2d forward", kind, slope, pre, y, &ep) < 0) return -1;
    return vkg_fused_forward(rec, forward(rec, "conv2d forward", p, x, w, b, y, &ep), &ep, pre, y);
}

int vkg_conv2d_backward_input(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *dy,
                              const vkg_tensor *w, const vkg_tensor *dx) {
    return backward_input(rec, "conv2d backward (input)", p, dy, w, NULL, dx, NULL) < 0 ? -1 : 0;
}

int vkg_conv2d_backward_weight(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                               const vkg_tensor *dy, const vkg_tensor *dw, int accumulate) {
    return backward_weight(rec, "conv2d backward (weight)", p, x, dy, dw, accumulate);
}

int vkg_conv_transpose2d_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                                 const vkg_tensor *w, const vkg_tensor *b, const vkg_tensor *y) {
    return backward_input(rec, "conv_transpose2d forward", p, x, w, b, y, NULL) < 0 ? -1 : 0;
}

int vkg_conv_transpose2d_act_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                                     const vkg_tensor *w, const vkg_tensor *b, vkg_activation kind,
                                     float slope, const vkg_tensor *pre, const vkg_tensor *y) {
    vkg_epilogue ep;
    if (vkg_epilogue_init("conv_transpose2d forward", kind, slope, pre, y, &ep) < 0) return -1;
    int fused = backward_input(rec, "conv_transpose2d forward", p, x, w, b, y, &ep);
    return vkg_fused_forward(rec, fused, &ep, pre, y);
}

int vkg_conv_transpose2d_backward_input(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *dy,
                                        const vkg_tensor *w, const vkg_tensor *dx) {
    return forward(rec, "conv_transpose2d backward (input)", p, dy, w, NULL, dx, NULL) < 0 ? -1 : 0;
}

int vkg_conv_transpose2d_backward_weight(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                                         const vkg_tensor *dy, const vkg_tensor *dw,
                                         int accumulate) {
    return backward_weight(rec, "conv_transpose2d backward (weight)", p, dy, x, dw, accumulate);
}
