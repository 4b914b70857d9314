/* Feature matching: loss and gradient against the reference and central differences. */
#include "check.h"

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
