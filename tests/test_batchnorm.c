/* Batch normalisation (training and eval, conv and dense layouts) against the reference, its
 * backward against finite differences; each on the subgroup and the shared-memory reduction path,
 * and with the tensors read as texels (CPU devices) and as floats.
 * Tolerance: atol 1e-4, rtol 1e-4 (normalised values are O(1); sums of up to 2k terms). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

typedef struct bn_case {
    int n, c, hw, training;
    double *x, *gamma, *beta, *rm, *rv, *dy;
} bn_case;

static double bn_loss(void *user) {
    bn_case *k = user;
    size_t count = (size_t)k->n * k->c * k->hw;
    double *y = test_doubles(count), *rm = test_doubles((size_t)k->c),
           *rv = test_doubles((size_t)k->c);
    for (int i = 0; i < k->c; i++) rm[i] = k->rm[i], rv[i] = k->rv[i];
    ref_batchnorm_forward(k->n, k->c, k->hw, k->x, k->gamma, k->beta, 1e-5, k->training, 0.1, rm,
                          rv, y, NULL, NULL);
    return dot(y, k->dy, count);
}

/* Dispatches of a batch-norm shader, its subgroup variant included. */
static int bn_dispatches(vkg_rec *rec, const char *shader) {
    char sg[64];
    snprintf(sg, sizeof sg, "%s_sg", shader);
    return test_dispatches(rec, shader) + test_dispatches(rec, sg);
}

/* guard: x and dy are views inside NaN (shaders/channel_runs.glsl reads whole texels, and the
 * runs at the end of an image's plane reach past it; NaN in any result shows a float used that
 * is not the run's). */
static void check_batchnorm(vkg_ctx *ctx, int n, int c, int h, int w, int training, uint64_t seed,
                            int guard) {
    vkg_arena *arena = test_arena(ctx);
    int hw = h * w;
    size_t count = (size_t)n * c * hw;
    bn_case k = {n,
                 c,
                 hw,
                 training,
                 random_doubles(count, -2, 3, seed),
                 random_doubles((size_t)c, 0.5, 1.5, seed + 1),
                 random_doubles((size_t)c, -1, 1, seed + 2),
                 random_doubles((size_t)c, -0.5, 0.5, seed + 3),
                 random_doubles((size_t)c, 0.5, 2, seed + 4),
                 random_doubles(count, -1, 1, seed + 5)};
    vkg_batchnorm bn = upload_batchnorm(ctx, arena, c, k.gamma, k.beta, k.rm, k.rv);
    vkg_tensor x = upload_guarded(ctx, arena, n, c, h, w, k.x, guard);
    vkg_tensor dy = upload_guarded(ctx, arena, n, c, h, w, k.dy, guard);
    vkg_tensor y = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dgamma = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_tensor dbeta = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_rec *rec = test_rec_timed(ctx, 1);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_batchnorm_forward(rec, &bn, &x, &y, training));
    CHECK_OK(vkg_batchnorm_backward(rec, &bn, &x, &dy, &dx, &dgamma, &dbeta, training, 0));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    int texels = vkg_ctx_uses_packed_gemm(ctx); /* where texel buffers are read */
    CHECK(bn_dispatches(rec, "batchnorm_fwd_texel") == texels &&
              bn_dispatches(rec, "batchnorm_bwd_texel") == texels,
          "the texel variants ran %d and %d times, expected %d",
          bn_dispatches(rec, "batchnorm_fwd_texel"), bn_dispatches(rec, "batchnorm_bwd_texel"),
          texels);

    double *ry = test_doubles(count), *mean = test_doubles((size_t)c),
           *invstd = test_doubles((size_t)c);
    double *rm = test_doubles((size_t)c), *rv = test_doubles((size_t)c);
    for (int i = 0; i < c; i++) rm[i] = k.rm[i], rv[i] = k.rv[i];
    ref_batchnorm_forward(n, c, hw, k.x, k.gamma, k.beta, 1e-5, training, 0.1, rm, rv, ry, mean,
                          invstd);
    double *rdx = test_doubles(count), *rdg = test_doubles((size_t)c),
           *rdb = test_doubles((size_t)c);
    ref_batchnorm_backward(n, c, hw, k.x, k.dy, k.gamma, mean, invstd, training, rdx, rdg, rdb);
    CHECK_GRADIENT("batchnorm dL/dx (reference)", k.x, count, bn_loss, &k, rdx);
    CHECK_GRADIENT("batchnorm dL/dgamma (reference)", k.gamma, (size_t)c, bn_loss, &k, rdg);
    CHECK_GRADIENT("batchnorm dL/dbeta (reference)", k.beta, (size_t)c, bn_loss, &k, rdb);

    CHECK_CLOSE("batchnorm forward", download_tensor(ctx, &y), ry, count, 1e-4, 1e-4);
    CHECK_CLOSE("running mean", download_tensor(ctx, &bn.running_mean), rm, (size_t)c, 1e-5, 1e-5);
    CHECK_CLOSE("running variance", download_tensor(ctx, &bn.running_var), rv, (size_t)c, 1e-5,
                1e-4);
    CHECK_CLOSE("batchnorm dx", download_tensor(ctx, &dx), rdx, count, 1e-4, 1e-4);
    CHECK_CLOSE("batchnorm dgamma", download_tensor(ctx, &dgamma), rdg, (size_t)c, 1e-3, 1e-4);
    CHECK_CLOSE("batchnorm dbeta", download_tensor(ctx, &dbeta), rdb, (size_t)c, 1e-3, 1e-4);
}

/* Subgroup and shared-memory reductions, texels and floats. */
static void every_path(int n, int c, int h, int w, int training, uint64_t seed) {
    check_batchnorm(test_ctx(), n, c, h, w, training, seed, 0);
    if (!test_failed()) check_batchnorm(test_ctx_alternate(), n, c, h, w, training, seed, 0);
    if (!test_failed()) check_batchnorm(test_ctx_other_gemm(), n, c, h, w, training, seed, 0);
}

TEST(batchnorm_train_13x13) {
    every_path(3, 5, 13, 13, 1, 301);
}
TEST(batchnorm_train_batch1) {
    every_path(1, 4, 7, 9, 1, 302);
}
TEST(batchnorm_train_dcgan64_hidden) {
    every_path(8, 16, 16, 16, 1, 303);
}
TEST(batchnorm_train_dense_features) {
    every_path(64, 37, 1, 1, 1, 304);
}
TEST(batchnorm_eval_running_stats) {
    every_path(4, 6, 5, 5, 0, 305);
}
TEST(batchnorm_eval_dense_features) {
    every_path(9, 11, 1, 1, 0, 306);
}

/* Planes of 9 floats (runs end mid-texel) and of 16, views inside NaN, read as texels and as
 * floats. */
TEST(batchnorm_reads_only_its_views_of_x_and_dy) {
    vkg_ctx *ctxs[] = {test_ctx(), test_ctx_other_gemm()};
    for (int i = 0; i < 2 && !test_failed(); i++) {
        check_batchnorm(ctxs[i], 2, 3, 3, 3, 1, 307, 1);
        check_batchnorm(ctxs[i], 3, 2, 1, 3, 0, 308, 1);
        check_batchnorm(ctxs[i], 2, 3, 4, 4, 1, 309, 1);
    }
}

/* Batch norm with a ReLU or leaky ReLU folded in (one pass each way) against batch norm then
 * the activation as two kernels: the same floats, bit for bit, forward and backward. */
static void check_folded(vkg_ctx *ctx, int n, int c, int h, int w, int training, int act,
                         uint64_t seed) {
    vkg_arena *arena = test_arena(ctx);
    size_t count = (size_t)n * c * h * w;
    float slope = act == VKG_LEAKY_RELU ? 0.2f : 0;
    double *xs = random_doubles(count, -2, 3, seed), *dys = random_doubles(count, -1, 1, seed + 5);
    double *gamma = random_doubles((size_t)c, 0.5, 1.5, seed + 1),
           *beta = random_doubles((size_t)c, -1, 1, seed + 2),
           *rm = random_doubles((size_t)c, -0.5, 0.5, seed + 3),
           *rv = random_doubles((size_t)c, 0.5, 2, seed + 4);
    vkg_batchnorm bn[2] = {upload_batchnorm(ctx, arena, c, gamma, beta, rm, rv),
                           upload_batchnorm(ctx, arena, c, gamma, beta, rm, rv)};
    vkg_tensor x = upload_tensor(ctx, arena, n, c, h, w, xs);
    vkg_tensor dy = upload_tensor(ctx, arena, n, c, h, w, dys);
    vkg_tensor t[9];
    for (int i = 0; i < 5; i++) t[i] = upload_tensor(ctx, arena, n, c, h, w, NULL);
    for (int i = 5; i < 9; i++) t[i] = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_tensor *bn_out = &t[0], *y2 = &t[1], *dbn = &t[2], *dx2 = &t[3], *y1 = &t[4];
    vkg_tensor dx1 = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    /* two passes each way */
    CHECK_OK(vkg_batchnorm_forward(rec, &bn[0], &x, bn_out, training));
    CHECK_OK(vkg_activation_forward(rec, (vkg_activation)act, slope, bn_out, y2));
    CHECK_OK(vkg_activation_backward(rec, (vkg_activation)act, slope, y2, &dy, dbn));
    CHECK_OK(vkg_batchnorm_backward(rec, &bn[0], &x, dbn, dx2, &t[5], &t[6], training, 0));
    /* one pass each way */
    CHECK_OK(vkg_batchnorm_act_forward(rec, &bn[1], &x, y1, training, act, slope));
    CHECK_OK(vkg_batchnorm_act_backward(rec, &bn[1], &x, y1, &dy, &dx1, &t[7], &t[8], training, 0,
                                        act, slope));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    const char *what[] = {"y", "dx", "dgamma", "dbeta", "running mean", "running variance"};
    const vkg_tensor *two[] = {y2, dx2, &t[5], &t[6], &bn[0].running_mean, &bn[0].running_var};
    const vkg_tensor *one[] = {y1, &dx1, &t[7], &t[8], &bn[1].running_mean, &bn[1].running_var};
    for (int i = 0; i < 6; i++) {
        size_t len = vkg_tensor_count(two[i]);
        float *a = download_tensor(ctx, two[i]), *b = download_tensor(ctx, one[i]);
        size_t differ = 0;
        for (size_t j = 0; j < len; j++) differ += a[j] != b[j];
        CHECK(differ == 0, "act %d, training %d: %s differs at %zu of %zu values", act, training,
              what[i], differ, len);
    }
    float *y = download_tensor(ctx, y1);
    size_t negative = 0;
    for (size_t j = 0; j < count; j++) negative += y[j] < 0;
    CHECK(act == VKG_LEAKY_RELU ? negative > 0 : negative == 0,
          "act %d: %zu negative outputs: the activation was not applied as asked", act, negative);
}

TEST(batchnorm_act_folded_equals_two_passes) {
    int acts[] = {VKG_RELU, VKG_LEAKY_RELU};
    for (int a = 0; a < 2 && !test_failed(); a++)
        for (int training = 0; training < 2 && !test_failed(); training++) {
            check_folded(test_ctx(), 3, 5, 13, 13, training, acts[a], 311 + (uint64_t)a);
            check_folded(test_ctx_alternate(), 1, 4, 7, 9, training, acts[a], 313);
            check_folded(test_ctx(), 64, 37, 1, 1, training, acts[a], 317);
            check_folded(test_ctx_other_gemm(), 3, 5, 13, 13, training, acts[a], 319);
        }
}

TEST(batchnorm_act_refuses_other_activations) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    double one[2] = {1, 1}, zero[2] = {0, 0};
    vkg_batchnorm bn = upload_batchnorm(ctx, arena, 2, one, zero, zero, one);
    vkg_tensor x = upload_tensor(ctx, arena, 2, 2, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(vkg_batchnorm_act_forward(rec, &bn, &x, &x, 1, VKG_TANH, 0) < 0, "tanh folded in");
    CHECK(strstr(vkg_error(), "ReLU"), "error: %s", vkg_error());
    CHECK(vkg_batchnorm_act_backward(rec, &bn, &x, &x, &x, &x, NULL, NULL, 1, 0, VKG_LEAKY_RELU,
                                     -0.5f) < 0,
          "a negative slope folded in");
}
