/* conv2d and conv_transpose2d: forward and both backward passes against the plain-C reference on
 * odd shapes and DCGAN shapes; the reference's backward against finite differences.
 * Tolerance: atol 2e-5 * sqrt(K) + rtol 1e-5, K the length of the summed dot products. */
#include <math.h>
#include <string.h>

#include "check.h"

typedef struct conv_case {
    ref_conv g;
    int transposed;
    double *x, *w, *b, *dy;
} conv_case;

static size_t x_count(const ref_conv *g) {
    return (size_t)g->batch * g->c_in * g->h_in * g->w_in;
}
static size_t y_count(const ref_conv *g) {
    return (size_t)g->batch * g->c_out * g->h_out * g->w_out;
}
static size_t w_count(const ref_conv *g) {
    return (size_t)g->c_out * g->c_in * g->kernel * g->kernel;
}

static double conv_loss(void *user) {
    conv_case *c = user;
    double *y = test_doubles(y_count(&c->g));
    if (c->transposed)
        ref_conv_transpose2d_forward(&c->g, c->x, c->w, c->b, y);
    else
        ref_conv2d_forward(&c->g, c->x, c->w, c->b, y);
    return dot(y, c->dy, y_count(&c->g));
}

/* All three passes against the reference; guard: x and dy as views inside NaN. *count (when not
 * NULL) gets the dispatches of `shader` added. */
static void check_conv_on(vkg_ctx *ctx, ref_conv g, int transposed, int finite_diff, uint64_t seed,
                          int guard, const char *shader, int *count) {
    vkg_arena *arena = test_arena(ctx);
    if (transposed)
        ref_conv_transpose_shape(&g);
    else
        ref_conv_shape(&g);
    size_t nx = x_count(&g), ny = y_count(&g), nw = w_count(&g);
    conv_case c = {g,
                   transposed,
                   random_doubles(nx, -1, 1, seed),
                   random_doubles(nw, -0.5, 0.5, seed + 1),
                   random_doubles((size_t)g.c_out, -1, 1, seed + 2),
                   random_doubles(ny, -1, 1, seed + 3)};
    int w_rows = transposed ? g.c_in : g.c_out, w_cols = transposed ? g.c_out : g.c_in;
    vkg_tensor x = upload_guarded(ctx, arena, g.batch, g.c_in, g.h_in, g.w_in, c.x, guard);
    vkg_tensor w = upload_tensor(ctx, arena, w_rows, w_cols, g.kernel, g.kernel, c.w);
    vkg_tensor b = upload_tensor(ctx, arena, 1, g.c_out, 1, 1, c.b);
    vkg_tensor dy = upload_guarded(ctx, arena, g.batch, g.c_out, g.h_out, g.w_out, c.dy, guard);
    vkg_tensor y = upload_tensor(ctx, arena, g.batch, g.c_out, g.h_out, g.w_out, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, g.batch, g.c_in, g.h_in, g.w_in, NULL);
    vkg_tensor dw = upload_tensor(ctx, arena, w_rows, w_cols, g.kernel, g.kernel, NULL);
    vkg_tensor db = upload_tensor(ctx, arena, 1, g.c_out, 1, 1, NULL);
    vkg_rec *rec = test_rec_timed(ctx, 1);
    CHECK(!test_failed(), "setup");
    vkg_conv p = {g.kernel, g.stride, g.pad};
    if (transposed) {
        CHECK_OK(vkg_conv_transpose2d_forward(rec, &p, &x, &w, &b, &y));
        CHECK_OK(vkg_conv_transpose2d_backward_input(rec, &p, &dy, &w, &dx));
        CHECK_OK(vkg_conv_transpose2d_backward_weight(rec, &p, &x, &dy, &dw, 0));
    } else {
        CHECK_OK(vkg_conv2d_forward(rec, &p, &x, &w, &b, &y));
        CHECK_OK(vkg_conv2d_backward_input(rec, &p, &dy, &w, &dx));
        CHECK_OK(vkg_conv2d_backward_weight(rec, &p, &x, &dy, &dw, 0));
    }
    CHECK_OK(vkg_bias_backward(rec, &dy, &db, 0));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    if (count) *count += test_dispatches(rec, shader);

    double *ry = test_doubles(ny), *rdx = test_doubles(nx), *rdw = test_doubles(nw);
    double *rdb = test_doubles((size_t)g.c_out);
    if (transposed) {
        ref_conv_transpose2d_forward(&g, c.x, c.w, c.b, ry);
        ref_conv_transpose2d_backward(&g, c.x, c.w, c.dy, rdx, rdw);
    } else {
        ref_conv2d_forward(&g, c.x, c.w, c.b, ry);
        ref_conv2d_backward(&g, c.x, c.w, c.dy, rdx, rdw);
    }
    ref_channel_sum(g.batch, g.c_out, g.h_out * g.w_out, c.dy, rdb);
    if (finite_diff) {
        CHECK_GRADIENT("dL/dx (reference)", c.x, nx, conv_loss, &c, rdx);
        CHECK_GRADIENT("dL/dw (reference)", c.w, nw, conv_loss, &c, rdw);
        CHECK_GRADIENT("dL/db (reference)", c.b, (size_t)g.c_out, conv_loss, &c, rdb);
    }
    double k_fwd = (double)g.c_in * g.kernel * g.kernel, k_w = (double)g.batch * g.h_out * g.w_out;
    if (transposed) k_w = (double)g.batch * g.h_in * g.w_in;
    double k_dx = (double)g.c_out * g.kernel * g.kernel;
    CHECK_CLOSE("forward", download_tensor(ctx, &y), ry, ny, 2e-5 * sqrt(k_fwd), 1e-5);
    CHECK_CLOSE("backward input", download_tensor(ctx, &dx), rdx, nx, 2e-5 * sqrt(k_dx), 1e-5);
    CHECK_CLOSE("backward weight", download_tensor(ctx, &dw), rdw, nw, 2e-5 * sqrt(k_w), 1e-5);
    CHECK_CLOSE("bias gradient", download_tensor(ctx, &db), rdb, (size_t)g.c_out, 2e-5 * sqrt(k_w),
                1e-5);
}

static void check_conv(ref_conv g, int transposed, int finite_diff, uint64_t seed) {
    check_conv_on(test_ctx(), g, transposed, finite_diff, seed, 0, NULL, NULL);
    if (!test_failed()) check_conv_on(test_ctx_alternate(), g, transposed, 0, seed, 0, NULL, NULL);
    if (!test_failed()) check_conv_on(test_ctx_other_gemm(), g, transposed, 0, seed, 0, NULL, NULL);
    if (!test_failed())
        check_conv_on(test_ctx_other_registers(), g, transposed, 0, seed, 0, NULL, NULL);
}

/* batch, c_in, h, w, c_out, (h_out, w_out filled in), kernel, stride, pad */
#define GEOMETRY(b, ci, h, w, co, k, s, p) ((ref_conv){b, ci, h, w, co, 0, 0, k, s, p})

TEST(conv2d_13x13_same_padding) {
    check_conv(GEOMETRY(2, 3, 13, 13, 5, 3, 1, 1), 0, 1, 101);
}
TEST(conv2d_batch1_stride2_no_padding) {
    check_conv(GEOMETRY(1, 4, 9, 7, 2, 3, 2, 0), 0, 1, 102);
}
TEST(conv2d_channels_not_multiple_of_tile) {
    check_conv(GEOMETRY(3, 67, 8, 8, 33, 4, 2, 1), 0, 0, 103);
}
TEST(conv2d_dcgan28_input_layer) {
    check_conv(GEOMETRY(4, 1, 28, 28, 8, 4, 2, 1), 0, 1, 104);
}
TEST(conv2d_dcgan28_logit_layer) {
    check_conv(GEOMETRY(4, 16, 7, 7, 1, 7, 1, 0), 0, 1, 105);
}
TEST(conv2d_dcgan64_input_layer) {
    check_conv(GEOMETRY(2, 3, 64, 64, 8, 4, 2, 1), 0, 0, 106);
}
TEST(conv2d_dcgan64_hidden_layer) {
    check_conv(GEOMETRY(2, 16, 16, 16, 32, 4, 2, 1), 0, 0, 107);
}

/* 7 input channels: with 32 vector registers the backward-input pass of a CPU device runs its
 * few-channel kernel (conv2d_bwd_input_thin) in two blocks of 4, the second 3 channels short */
TEST(conv2d_seven_input_channels) {
    check_conv(GEOMETRY(3, 7, 11, 9, 5, 4, 2, 1), 0, 1, 111);
    int thin = 0;
    if (!test_failed())
        check_conv_on(test_ctx_registers(32), GEOMETRY(3, 7, 11, 9, 5, 4, 2, 1), 0, 0, 111, 0,
                      "conv2d_bwd_input_thin", &thin);
    CHECK(thin == 1, "%d few-channel dispatches", thin);
}
/* The few-channel kernel's 4 x 8 accumulators spill from 16 vector registers, so a CPU device
 * runs it into up to 16 channels with 32 registers (AVX-512) and up to 4 with 16 (AVX2),
 * packing otherwise: both choices, in both directions, against the reference. */
TEST(few_channel_backward_input_follows_the_vector_registers) {
    struct {
        ref_conv g;
        int transposed, thin_16, thin_32; /* dispatches of the kernel with 16 and 32 registers */
    } cases[] = {
        {GEOMETRY(2, 3, 9, 11, 5, 4, 2, 1), 0, 1, 1}, /* into 3 channels: both */
        {GEOMETRY(2, 6, 7, 9, 5, 4, 2, 1), 0, 0, 1},  /* into 6: 32 registers only */
        {GEOMETRY(1, 5, 4, 5, 16, 4, 2, 1), 1, 0, 1}, /* conv_transpose2d into 16 */
        {GEOMETRY(1, 5, 4, 5, 17, 4, 2, 1), 1, 0, 0}, /* into 17: neither */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++)
        for (int wide = 0; wide < 2 && !test_failed(); wide++) {
            vkg_ctx *ctx = test_ctx_registers(wide ? 32 : 16);
            int thin = 0;
            check_conv_on(ctx, cases[i].g, cases[i].transposed, 0, 431 + i, 1,
                          "conv2d_bwd_input_thin", &thin);
            int want = wide ? cases[i].thin_32 : cases[i].thin_16;
            CHECK(thin == want, "case %zu, %d registers: %d few-channel dispatches, want %d", i,
                  wide ? 32 : 16, thin, want);
        }
}

/* On CPU devices a convolution whose kernel is a multiple of its stride and whose c_in * s * s is
 * a multiple of 8 runs by taps over its input packed once (conv2d.c, by_taps): odd grids, batch
 * 1, strides 1, 2 and 3. */
TEST(conv2d_by_taps_kernel4_stride2_odd_grid) {
    check_conv(GEOMETRY(3, 2, 9, 7, 5, 4, 2, 1), 0, 1, 112);
}
TEST(conv2d_by_taps_kernel3_stride1_batch1) {
    check_conv(GEOMETRY(1, 8, 6, 5, 3, 3, 1, 1), 0, 1, 113);
}
TEST(conv2d_by_taps_kernel6_stride3) {
    check_conv(GEOMETRY(2, 8, 10, 11, 4, 6, 3, 2), 0, 0, 114);
}
TEST(conv_transpose2d_thirteen_output_channels_stride3) {
    check_conv(GEOMETRY(2, 6, 5, 4, 13, 5, 3, 2), 1, 0, 211);
}
TEST(conv2d_kernel_smaller_than_stride) {
    check_conv(GEOMETRY(2, 3, 7, 7, 4, 1, 2, 0), 0, 1, 108);
}
TEST(conv2d_stride3_kernel5) {
    check_conv(GEOMETRY(2, 3, 11, 10, 4, 5, 3, 2), 0, 1, 109);
}
TEST(conv_transpose2d_kernel_smaller_than_stride) {
    check_conv(GEOMETRY(2, 3, 4, 4, 2, 1, 2, 0), 1, 1, 209);
}
TEST(conv_transpose2d_stride3_kernel5) {
    check_conv(GEOMETRY(2, 4, 4, 5, 3, 5, 3, 2), 1, 1, 210);
}

TEST(conv_transpose2d_13x13_stride1) {
    check_conv(GEOMETRY(2, 3, 13, 13, 5, 3, 1, 1), 1, 1, 201);
}
TEST(conv_transpose2d_batch1_stride2_odd) {
    check_conv(GEOMETRY(1, 5, 5, 3, 3, 3, 2, 0), 1, 1, 202);
}
TEST(conv_transpose2d_channels_not_multiple_of_tile) {
    check_conv(GEOMETRY(3, 33, 4, 4, 67, 4, 2, 1), 1, 0, 203);
}
TEST(conv_transpose2d_dcgan_latent_projection) {
    check_conv(GEOMETRY(3, 10, 1, 1, 16, 4, 1, 0), 1, 1, 204);
}
TEST(conv_transpose2d_dcgan28_projection_7x7) {
    check_conv(GEOMETRY(2, 12, 1, 1, 8, 7, 1, 0), 1, 1, 205);
}
TEST(conv_transpose2d_dcgan28_output_layer) {
    check_conv(GEOMETRY(4, 8, 14, 14, 1, 4, 2, 1), 1, 1, 206);
}
TEST(conv_transpose2d_dcgan64_output_layer) {
    check_conv(GEOMETRY(2, 8, 32, 32, 3, 4, 2, 1), 1, 0, 207);
}
TEST(conv_transpose2d_dcgan64_hidden_layer) {
    check_conv(GEOMETRY(2, 32, 8, 8, 16, 4, 2, 1), 1, 0, 208);
}

/* K = 2 * 24 * 24 = 1152 is long enough to be split (split-K), so this covers that path too. */
static void check_accumulate(vkg_ctx *ctx) {
    vkg_arena *arena = test_arena(ctx);
    ref_conv g = GEOMETRY(2, 3, 24, 24, 4, 3, 1, 1);
    ref_conv_shape(&g);
    double *x = random_doubles(x_count(&g), -1, 1, 31),
           *dy = random_doubles(y_count(&g), -1, 1, 32);
    double *start = random_doubles(w_count(&g), -1, 1, 33);
    vkg_tensor tx = upload_tensor(ctx, arena, 2, 3, 24, 24, x);
    vkg_tensor tdy = upload_tensor(ctx, arena, 2, 4, 24, 24, dy);
    vkg_tensor tdw = upload_tensor(ctx, arena, 4, 3, 3, 3, start);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    vkg_conv p = {3, 1, 1};
    CHECK_OK(vkg_conv2d_backward_weight(rec, &p, &tx, &tdy, &tdw, 1));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *want = test_doubles(w_count(&g));
    ref_conv2d_backward(&g, x, NULL, dy, NULL, want);
    for (size_t i = 0; i < w_count(&g); i++) want[i] += start[i];
    CHECK_CLOSE("accumulated dw", download_tensor(ctx, &tdw), want, w_count(&g), 1e-3, 1e-5);
}

TEST(conv_weight_gradient_accumulates) {
    check_accumulate(test_ctx());
    if (!test_failed()) check_accumulate(test_ctx_alternate());
    if (!test_failed()) check_accumulate(test_ctx_other_gemm());
}

TEST(conv_rejects_wrong_output_size) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor x = upload_tensor(ctx, arena, 1, 2, 8, 8, NULL);
    vkg_tensor w = upload_tensor(ctx, arena, 3, 2, 4, 4, NULL);
    vkg_tensor y = upload_tensor(ctx, arena, 1, 3, 8, 8, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    vkg_conv p = {4, 2, 1};
    CHECK(vkg_conv2d_forward(rec, &p, &x, &w, NULL, &y) < 0, "an 8x8 output was accepted");
    CHECK(strstr(vkg_error(), "4x4") != NULL, "error does not give the right size: %s",
          vkg_error());
}

/* On the packed path (CPU devices) the stride phases of a transposed convolution's forward pass
 * (a convolution's backward-input pass) read one packing of the input when the kernel is a
 * multiple of the stride (every phase has every tap): s * s weight packings and one input
 * packing, where another kernel packs the input once per phase. Odd sizes, so the phases have
 * different row and column counts; more than 16 output channels, so the packed path runs. */
static void check_phase_packing(vkg_ctx *ctx, ref_conv g, int want_packs, uint64_t seed) {
    vkg_arena *arena = test_arena(ctx);
    ref_conv_transpose_shape(&g);
    double *x = random_doubles(x_count(&g), -1, 1, seed),
           *w = random_doubles(w_count(&g), -0.5, 0.5, seed + 1);
    vkg_tensor tx = upload_tensor(ctx, arena, g.batch, g.c_in, g.h_in, g.w_in, x);
    vkg_tensor tw = upload_tensor(ctx, arena, g.c_in, g.c_out, g.kernel, g.kernel, w);
    vkg_tensor ty = upload_tensor(ctx, arena, g.batch, g.c_out, g.h_out, g.w_out, NULL);
    vkg_rec *rec = test_rec_timed(ctx, 1);
    CHECK(!test_failed(), "setup");
    vkg_conv p = {g.kernel, g.stride, g.pad};
    CHECK_OK(vkg_conv_transpose2d_forward(rec, &p, &tx, &tw, NULL, &ty));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    int packs = test_packs(rec, 0), gemms = test_gemms(rec);
    CHECK(packs == want_packs && gemms == g.stride * g.stride,
          "kernel %d stride %d: %d packing passes (not %d), %d GEMMs", g.kernel, g.stride, packs,
          want_packs, gemms);
    double *want = test_doubles(y_count(&g));
    ref_conv_transpose2d_forward(&g, x, w, NULL, want);
    CHECK_CLOSE("forward", download_tensor(ctx, &ty), want, y_count(&g),
                2e-5 * sqrt((double)g.c_in * g.kernel * g.kernel), 1e-5);
}

TEST(conv_transpose2d_phases_share_the_input_packing) {
    vkg_ctx *ctx = test_ctx();
    if (!vkg_ctx_uses_packed_gemm(ctx)) return; /* a GPU: no packed path to check */
    check_phase_packing(ctx, GEOMETRY(2, 6, 5, 3, 17, 4, 2, 1), 4 + 1, 221);
    if (!test_failed()) check_phase_packing(ctx, GEOMETRY(1, 5, 4, 5, 18, 6, 3, 2), 9 + 1, 222);
    if (!test_failed()) check_phase_packing(ctx, GEOMETRY(2, 6, 5, 3, 17, 3, 2, 1), 4 + 4, 223);
}

/* The few-channel backward-input kernel of CPU devices reads dy through texels, its size rounded
 * up to whole texels: here dy is a 75-float view inside a larger tensor whose other floats are
 * NaN, so a kernel that used any float outside the view would put NaN in dx. */
/* On CPU devices the packing passes read sources whose floats lie in runs of 4 as texels
 * (shaders/gemm_pack_runs.comp): im2col of a kernel 4 wide (x runs), activation planes of a
 * multiple of 4 floats (plane runs), im2col's transpose in the weight gradients (row runs), the
 * channels-last input of a convolution by taps (every other x of 8 for 4 rows). With x
 * and dy inside NaN, on odd grids and at the padding, every pass against the reference. */
TEST(packing_reads_runs_of_its_source_as_texels) {
    struct {
        ref_conv g;
        int transposed;
    } cases[] = {
        {GEOMETRY(2, 1, 13, 11, 5, 4, 2, 1), 0}, /* x runs (im2col, one channel), row runs */
        {GEOMETRY(3, 3, 12, 4, 6, 4, 2, 1), 0},  /* plane runs (6x2 output planes) */
        {GEOMETRY(1, 6, 9, 7, 3, 4, 2, 1), 1},   /* the transposed direction, odd planes */
        {GEOMETRY(2, 5, 7, 9, 4, 3, 1, 1), 0},   /* kernel 3: row runs only */
        {GEOMETRY(2, 2, 15, 14, 3, 4, 2, 1), 0}, /* by taps: every other x of 8 */
    };
    int runs = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_failed(); i++) {
        check_conv_on(test_ctx(), cases[i].g, cases[i].transposed, 0, 401 + i, 1, "gemm_pack_runs",
                      &runs);
        if (!test_failed())
            check_conv_on(test_ctx_other_gemm(), cases[i].g, cases[i].transposed, 0, 401 + i, 1,
                          NULL, NULL);
    }
    CHECK(runs > 0 || !vkg_ctx_uses_packed_gemm(test_ctx()), "no packing pass read runs");
}

TEST(conv2d_backward_input_reads_only_its_view_of_dy) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    ref_conv g = GEOMETRY(1, 3, 10, 10, 3, 4, 2, 1);
    ref_conv_shape(&g);
    size_t ny = y_count(&g), nw = w_count(&g), nx = x_count(&g);
    double *dy = random_doubles(ny, -1, 1, 241), *w = random_doubles(nw, -0.5, 0.5, 242);
    double *parent = test_doubles(ny + 8);
    for (size_t i = 0; i < ny + 8; i++) parent[i] = i >= 4 && i < 4 + ny ? dy[i - 4] : NAN;
    vkg_tensor whole = upload_tensor(ctx, arena, 1, 1, 1, (int)ny + 8, parent);
    vkg_tensor tdy = vkg_tensor_view(&whole, 4, g.batch, g.c_out, g.h_out, g.w_out);
    vkg_tensor tw = upload_tensor(ctx, arena, g.c_out, g.c_in, g.kernel, g.kernel, w);
    vkg_tensor tdx = upload_tensor(ctx, arena, g.batch, g.c_in, g.h_in, g.w_in, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed() && ny % 4 != 0, "setup");
    vkg_conv p = {g.kernel, g.stride, g.pad};
    CHECK_OK(vkg_conv2d_backward_input(rec, &p, &tdy, &tw, &tdx));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *want = test_doubles(nx);
    ref_conv2d_backward(&g, NULL, w, dy, want, NULL);
    CHECK_CLOSE("backward input", download_tensor(ctx, &tdx), want, nx,
                2e-5 * sqrt((double)g.c_out * g.kernel * g.kernel), 1e-5);
}
