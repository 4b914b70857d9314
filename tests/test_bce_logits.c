/* Binary cross-entropy with logits against soft targets: loss, mean probability and gradient
 * against the reference (textbook form) and finite differences, on both reduction paths.
 * Tolerance: atol 1e-5, rtol 1e-5. */
#include "check.h"

typedef struct bce_case {
    int n;
    double *x, *t;
    double scale;
} bce_case;

static double bce_loss(void *user) {
    bce_case *b = user;
    return b->scale * ref_bce_logits(b->n, b->x, b->t, 1, NULL, NULL);
}

static void check_bce(vkg_ctx *ctx, int n, float grad_scale, uint64_t seed) {
    vkg_arena *arena = test_arena(ctx);
    bce_case b = {n, random_doubles((size_t)n, -6, 6, seed),
                  random_doubles((size_t)n, 0, 1, seed + 1), grad_scale};
    vkg_tensor x = upload_tensor(ctx, arena, n, 1, 1, 1, b.x);
    vkg_tensor t = upload_tensor(ctx, arena, n, 1, 1, 1, b.t);
    vkg_tensor dx = upload_tensor(ctx, arena, n, 1, 1, 1, NULL);
    vkg_tensor out = upload_tensor(ctx, arena, 1, 2, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_bce_with_logits(rec, &x, &t, &out.buf, &dx, grad_scale));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *rdx = test_doubles((size_t)n), want[2];
    want[0] = ref_bce_logits(n, b.x, b.t, grad_scale, rdx, &want[1]);
    CHECK_GRADIENT("bce dL/dx (reference)", b.x, (size_t)n, bce_loss, &b, rdx);
    CHECK_CLOSE("bce loss and mean probability", download_tensor(ctx, &out), want, 2, 1e-5, 1e-5);
    CHECK_CLOSE("bce gradient", download_tensor(ctx, &dx), rdx, (size_t)n, 1e-6, 1e-5);
}

TEST(bce_logits_batch128) {
    check_bce(test_ctx(), 128, 1, 801);
    if (!test_failed()) check_bce(test_ctx_alternate(), 128, 1, 801);
}
TEST(bce_logits_batch1) {
    check_bce(test_ctx(), 1, 1, 802);
}
TEST(bce_logits_odd_batch_scaled) {
    check_bce(test_ctx(), 1037, 0.5f, 803);
    if (!test_failed()) check_bce(test_ctx_alternate(), 1037, 0.5f, 803);
}

TEST(channel_mean_both_paths) {
    vkg_ctx *ctxs[2] = {test_ctx(), test_ctx_alternate()};
    for (int k = 0; k < 2; k++) {
        vkg_arena *arena = test_arena(ctxs[k]);
        int n = 7, c = 3, hw = 13 * 13;
        double *x = random_doubles((size_t)n * c * hw, -1, 3, 901);
        vkg_tensor tx = upload_tensor(ctxs[k], arena, n, c, 13, 13, x);
        vkg_tensor out = upload_tensor(ctxs[k], arena, 1, c, 1, 1, NULL);
        vkg_rec *rec = test_rec(ctxs[k]);
        CHECK(!test_failed(), "setup");
        CHECK_OK(vkg_channel_sum(rec, &tx, &out, 1.0f / (n * hw), 0));
        CHECK_OK(vkg_rec_end(rec));
        CHECK_OK(vkg_rec_run(rec));
        double want[3];
        ref_channel_sum(n, c, hw, x, want);
        for (int i = 0; i < c; i++) want[i] /= n * hw;
        CHECK_CLOSE("channel mean", download_tensor(ctxs[k], &out), want, 3, 1e-6, 1e-5);
    }
}

typedef struct fm_case {
    int n, features;
    double *real_mean, *f;
} fm_case;

/* L = sum_j (real_mean_j - mean_n f[n, j])^2 */
static double fm_loss(void *user) {
    fm_case *c = user;
    double loss = 0;
    for (int j = 0; j < c->features; j++) {
        double m = 0;
        for (int i = 0; i < c->n; i++) m += c->f[(size_t)i * c->features + j] / c->n;
        loss += (c->real_mean[j] - m) * (c->real_mean[j] - m);
    }
    return loss;
}

/* Feature matching: the batch means (channel sums), the loss and its gradient with respect to
 * every generated example's features, against the reference and central differences. */
TEST(feature_matching_loss_and_gradient) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    int n = 12, features = 300;
    size_t count = (size_t)n * features;
    double *real = random_doubles(count, -1, 1, 31), *f = random_doubles(count, -1, 2, 32);
    vkg_tensor treal = upload_tensor(ctx, arena, n, features, 1, 1, real);
    vkg_tensor tf = upload_tensor(ctx, arena, n, features, 1, 1, f);
    vkg_tensor mr = upload_tensor(ctx, arena, 1, features, 1, 1, NULL);
    vkg_tensor mf = upload_tensor(ctx, arena, 1, features, 1, 1, NULL);
    vkg_tensor loss = upload_tensor(ctx, arena, 1, 2, 1, 1, NULL);
    vkg_tensor grad = upload_tensor(ctx, arena, n, features, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_channel_sum(rec, &treal, &mr, 1.0f / n, 0));
    CHECK_OK(vkg_channel_sum(rec, &tf, &mf, 1.0f / n, 0));
    CHECK_OK(vkg_feature_match(rec, &mr, &mf, &loss.buf, &grad));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *real_mean = test_doubles((size_t)features), *want = test_doubles(count);
    for (int j = 0; j < features; j++)
        for (int i = 0; i < n; i++) real_mean[j] += real[(size_t)i * features + j] / n;
    fm_case c = {n, features, real_mean, f};
    double want_loss = fm_loss(&c);
    for (int j = 0; j < features; j++) {
        double m = 0;
        for (int i = 0; i < n; i++) m += f[(size_t)i * features + j] / n;
        for (int i = 0; i < n; i++) want[(size_t)i * features + j] = 2 * (m - real_mean[j]) / n;
    }
    CHECK_GRADIENT("feature matching reference", f, count, fm_loss, &c, want);
    CHECK_CLOSE("feature matching loss", download_tensor(ctx, &loss), &want_loss, 1, 1e-4, 1e-4);
    CHECK_CLOSE("feature matching gradient", download_tensor(ctx, &grad), want, count, 1e-6, 1e-4);
}
