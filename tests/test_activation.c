/* relu, leaky relu, tanh and sigmoid: forward against the reference, backward
 * against the reference derivative and finite differences. Inputs avoid |x| < 0.01 so no finite
 * difference straddles the kink of relu. Tolerance: atol 1e-6, rtol 1e-5 (one op per element). */
#include <math.h>
#include <string.h>

#include "check.h"

typedef struct act_case {
    int kind;
    double slope;
    double *x, *dy;
    size_t n;
} act_case;

static double act_loss(void *user) {
    act_case *a = user;
    double s = 0;
    for (size_t i = 0; i < a->n; i++) s += ref_activation(a->kind, a->slope, a->x[i]) * a->dy[i];
    return s;
}

static void check_activation(vkg_activation kind, float slope) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    int n = 3, c = 5, h = 13, w = 13;
    size_t count = (size_t)n * c * h * w;
    act_case a = {(int)kind, slope, random_doubles(count, -4, 4, 400 + kind),
                  random_doubles(count, -1, 1, 410 + kind), count};
    for (size_t i = 0; i < count; i++)
        if (fabs(a.x[i]) < 0.01) a.x[i] = 0.5;
    vkg_tensor x = upload_tensor(ctx, arena, n, c, h, w, a.x);
    vkg_tensor dy = upload_tensor(ctx, arena, n, c, h, w, a.dy);
    vkg_tensor y = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_activation_forward(rec, kind, slope, &x, &y));
    CHECK_OK(vkg_activation_backward(rec, kind, slope, &y, &dy, &dx));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *ry = test_doubles(count), *rdx = test_doubles(count);
    for (size_t i = 0; i < count; i++) {
        ry[i] = ref_activation(a.kind, slope, a.x[i]);
        rdx[i] = a.dy[i] * ref_activation_grad(a.kind, slope, a.x[i]);
    }
    CHECK_GRADIENT("activation dL/dx (reference)", a.x, count, act_loss, &a, rdx);
    CHECK_CLOSE("activation forward", download_tensor(ctx, &y), ry, count, 1e-6, 1e-5);
    CHECK_CLOSE("activation backward", download_tensor(ctx, &dx), rdx, count, 1e-6, 1e-5);
}

TEST(relu) {
    check_activation(VKG_RELU, 0);
}
TEST(leaky_relu_0_2) {
    check_activation(VKG_LEAKY_RELU, 0.2f);
}
TEST(tanh_activation) {
    check_activation(VKG_TANH, 0);
}
TEST(sigmoid_activation) {
    check_activation(VKG_SIGMOID, 0);
}

/* ---- an activation applied by the layer before it (vkg_*_act_forward) ---- */

typedef struct fused_layer {
    const char *what;
    int n, c_in, size, c_out, transposed, dense;
} fused_layer;

/* Records layer L's forward pass into y, with the activation fused (pre unwritten where it
 * applies) or as two passes (the layer into pre, then the activation). */
static int record_layer(vkg_rec *rec, const fused_layer *L, int fused, vkg_activation kind,
                        const vkg_tensor *x, const vkg_tensor *w, const vkg_tensor *b,
                        const vkg_tensor *pre, const vkg_tensor *y) {
    vkg_conv p = {4, 2, 1};
    float slope = 0.2f;
    if (fused)
        return L->dense ? vkg_dense_act_forward(rec, x, w, b, kind, slope, pre, y)
               : L->transposed
                   ? vkg_conv_transpose2d_act_forward(rec, &p, x, w, b, kind, slope, pre, y)
                   : vkg_conv2d_act_forward(rec, &p, x, w, b, kind, slope, pre, y);
    int r = L->dense        ? vkg_dense_forward(rec, x, w, b, pre)
            : L->transposed ? vkg_conv_transpose2d_forward(rec, &p, x, w, b, pre)
                            : vkg_conv2d_forward(rec, &p, x, w, b, pre);
    return r < 0 ? -1 : vkg_activation_forward(rec, kind, slope, pre, y);
}

/* y of the fused call equals, bit for bit, the layer then the activation; on the packed path
 * (CPU devices) the fused call records no activation pass, elsewhere exactly one. */
static void check_fused(vkg_ctx *ctx, const fused_layer *L, vkg_activation kind, int packed) {
    vkg_arena *arena = test_arena(ctx);
    vkg_conv p = {4, 2, 1};
    int out = L->dense        ? 1
              : L->transposed ? vkg_conv_transpose_out_size(L->size, &p)
                              : vkg_conv_out_size(L->size, &p);
    size_t nx = (size_t)L->n * L->c_in * L->size * L->size;
    size_t nw = (size_t)L->c_in * L->c_out * (L->dense ? L->size * L->size : 16);
    vkg_tensor x = upload_tensor(ctx, arena, L->n, L->c_in * (L->dense ? L->size * L->size : 1),
                                 L->dense ? 1 : L->size, L->dense ? 1 : L->size,
                                 random_doubles(nx, -1, 1, 501));
    vkg_tensor w = upload_tensor(ctx, arena, 1, (int)nw, 1, 1, random_doubles(nw, -0.3, 0.3, 502));
    vkg_tensor b =
        upload_tensor(ctx, arena, 1, L->c_out, 1, 1, random_doubles((size_t)L->c_out, -1, 1, 503));
    vkg_tensor t[4];
    for (int i = 0; i < 4; i++) t[i] = upload_tensor(ctx, arena, L->n, L->c_out, out, out, NULL);
    CHECK(!test_failed(), "setup");
    float *y[2];
    int acts = -1;
    for (int fused = 0; fused < 2 && !test_failed(); fused++) {
        vkg_rec *rec = test_rec_timed(ctx, 1);
        int ok =
            rec &&
            record_layer(rec, L, fused, kind, &x, &w, &b, &t[2 * fused], &t[2 * fused + 1]) == 0 &&
            vkg_rec_end(rec) == 0 && vkg_rec_run(rec) == 0;
        CHECK(ok, "%s: %s", L->what, vkg_error());
        if (fused) acts = test_dispatches(rec, "activation_fwd");
        y[fused] = download_tensor(ctx, &t[2 * fused + 1]);
    }
    size_t ny = vkg_tensor_count(&t[1]), differ = 0;
    for (size_t i = 0; i < ny; i++) differ += memcmp(&y[0][i], &y[1][i], sizeof(float)) != 0;
    CHECK(differ == 0, "%s, activation %d: %zu of %zu outputs differ from two passes", L->what,
          kind, differ, ny);
    CHECK(acts == (packed ? 0 : 1), "%s, activation %d: %d activation passes", L->what, kind, acts);
}

TEST(activation_fused_into_the_layer_equals_two_passes) {
    /* dense (16 features in: its input read in place), conv2d, conv_transpose2d into 24
     * channels (packed GEMMs on a CPU device) and into 3 (the few-channel kernel: two passes
     * there), on every context, both packed GEMM block widths among them */
    static const fused_layer layers[] = {{"dense", 5, 16, 1, 24, 0, 1},
                                         {"conv2d", 3, 3, 9, 24, 0, 0},
                                         {"conv_transpose2d", 2, 7, 5, 24, 1, 0},
                                         {"conv_transpose2d into 3", 2, 7, 5, 3, 1, 0}};
    vkg_ctx *ctxs[4] = {test_ctx(), test_ctx_alternate(), test_ctx_other_gemm(),
                        test_ctx_other_registers()};
    for (int c = 0; c < 4 && !test_failed(); c++)
        for (int l = 0; l < 4 && !test_failed(); l++)
            for (int k = VKG_RELU; k <= VKG_SIGMOID && !test_failed(); k++) {
                int packed = vkg_ctx_uses_packed_gemm(ctxs[c]) && l < 3;
                check_fused(ctxs[c], &layers[l], (vkg_activation)k, packed);
            }
    /* what is not an activation, and a `pre` of another size, are refused by name */
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor x = upload_tensor(ctx, arena, 2, 8, 1, 1, NULL);
    vkg_tensor w = upload_tensor(ctx, arena, 8, 3, 1, 1, NULL);
    vkg_tensor y = upload_tensor(ctx, arena, 2, 3, 1, 1, NULL);
    vkg_tensor small = upload_tensor(ctx, arena, 1, 3, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(vkg_dense_act_forward(rec, &x, &w, NULL, (vkg_activation)7, 0, &y, &y) < 0 &&
              strstr(vkg_error(), "activation 7"),
          "activation 7: %s", vkg_error());
    CHECK(vkg_dense_act_forward(rec, &x, &w, NULL, VKG_RELU, 0, &small, &y) < 0 &&
              strstr(vkg_error(), "before the activation"),
          "a small pre: %s", vkg_error());
}
