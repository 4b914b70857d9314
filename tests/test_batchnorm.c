/* Batch normalisation (training and eval, conv and dense layouts) against the reference, its
 * backward against finite differences; each on the subgroup and the shared-memory reduction path.
 * Tolerance: atol 1e-4, rtol 1e-4 (normalised values are O(1); sums of up to 2k terms). */
#include <math.h>

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

static void check_batchnorm(vkg_ctx *ctx, int n, int c, int h, int w, int training, uint64_t seed) {
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
    vkg_tensor x = upload_tensor(ctx, arena, n, c, h, w, k.x);
    vkg_tensor dy = upload_tensor(ctx, arena, n, c, h, w, k.dy);
    vkg_tensor y = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dgamma = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_tensor dbeta = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_batchnorm_forward(rec, &bn, &x, &y, training));
    CHECK_OK(vkg_batchnorm_backward(rec, &bn, &x, &dy, &dx, &dgamma, &dbeta, training, 0));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));

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

static void both_paths(int n, int c, int h, int w, int training, uint64_t seed) {
    check_batchnorm(test_ctx(), n, c, h, w, training, seed);
    if (!test_failed()) check_batchnorm(test_ctx_alternate(), n, c, h, w, training, seed);
}

TEST(batchnorm_train_13x13) {
    both_paths(3, 5, 13, 13, 1, 301);
}
TEST(batchnorm_train_batch1) {
    both_paths(1, 4, 7, 9, 1, 302);
}
TEST(batchnorm_train_dcgan64_hidden) {
    both_paths(8, 16, 16, 16, 1, 303);
}
TEST(batchnorm_train_dense_features) {
    both_paths(64, 37, 1, 1, 1, 304);
}
TEST(batchnorm_eval_running_stats) {
    both_paths(4, 6, 5, 5, 0, 305);
}
TEST(batchnorm_eval_dense_features) {
    both_paths(9, 11, 1, 1, 0, 306);
}
