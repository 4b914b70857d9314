/* Virtual batch normalisation against a double-precision reference written from the definition
 * (the reference batch's statistics pooled with each example's own values), its backward
 * against central differences, on both reduction paths; and the property that defines it: an
 * example's output does not depend on the rest of its batch.
 * Tolerance: atol 1e-4, rtol 1e-4 (as batch norm). */
#include <math.h>
#include <string.h>

#include "check.h"

typedef struct vbn_case {
    int n, r, c, hw;
    double *x, *ref, *gamma, *beta, *dy;
} vbn_case;

/* y[n] = gamma (x - mean_n) / sqrt(var_n + eps) + beta, mean_n and var_n over the reference
 * batch's values of the channel together with example n's own (biased variance). */
static void ref_vbn(const vbn_case *k, const double *x, const double *gamma, double *y) {
    for (int n = 0; n < k->n; n++)
        for (int c = 0; c < k->c; c++) {
            double s1 = 0, s2 = 0, m = (double)(k->r + 1) * k->hw;
            for (int e = 0; e <= k->r; e++)
                for (int i = 0; i < k->hw; i++) {
                    double v = e < k->r ? k->ref[((size_t)e * k->c + c) * k->hw + i]
                                        : x[((size_t)n * k->c + c) * k->hw + i];
                    s1 += v, s2 += v * v;
                }
            double mean = s1 / m, var = s2 / m - mean * mean;
            for (int i = 0; i < k->hw; i++) {
                size_t j = ((size_t)n * k->c + c) * k->hw + i;
                y[j] = gamma[c] * (x[j] - mean) / sqrt(var + 1e-5) + k->beta[c];
            }
        }
}

static double loss_x(void *user) {
    vbn_case *k = user;
    size_t count = (size_t)k->n * k->c * k->hw;
    double *y = test_doubles(count);
    ref_vbn(k, k->x, k->gamma, y);
    return dot(y, k->dy, count);
}

/* The reference gradients by central differences of the definition (no closed form to trust). */
static void fd_gradient(vbn_case *k, double *param, size_t count, double *grad) {
    for (size_t i = 0; i < count; i++) {
        double keep = param[i], h = 1e-6;
        param[i] = keep + h;
        double up = loss_x(k);
        param[i] = keep - h;
        double down = loss_x(k);
        param[i] = keep;
        grad[i] = (up - down) / (2 * h);
    }
}

static void check_vbn(vkg_ctx *ctx, int n, int r, int c, int h, int w, uint64_t seed) {
    vkg_arena *arena = test_arena(ctx);
    int hw = h * w;
    size_t count = (size_t)n * c * hw;
    vbn_case k = {n,
                  r,
                  c,
                  hw,
                  random_doubles(count, -2, 3, seed),
                  random_doubles((size_t)r * c * hw, -1, 2, seed + 1),
                  random_doubles((size_t)c, 0.5, 1.5, seed + 2),
                  random_doubles((size_t)c, -1, 1, seed + 3),
                  random_doubles(count, -1, 1, seed + 4)};
    vkg_batchnorm bn = upload_batchnorm(ctx, arena, c, k.gamma, k.beta, NULL, NULL);
    vkg_tensor ref = upload_tensor(ctx, arena, r, c, h, w, k.ref);
    vkg_tensor ref_y = upload_tensor(ctx, arena, r, c, h, w, NULL);
    vkg_tensor x = upload_tensor(ctx, arena, n, c, h, w, k.x);
    vkg_tensor dy = upload_tensor(ctx, arena, n, c, h, w, k.dy);
    vkg_tensor y = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor stats = upload_tensor(ctx, arena, 2 * n, c, 1, 1, NULL);
    vkg_tensor dgamma = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_tensor dbeta = upload_tensor(ctx, arena, 1, c, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    /* the reference pass: batch statistics of the reference batch into bn.saved */
    CHECK_OK(vkg_batchnorm_forward(rec, &bn, &ref, &ref_y, VKG_BN_BATCH_STATS));
    CHECK_OK(vkg_vbn_forward(rec, &bn, r, &x, &stats, &y));
    CHECK_OK(vkg_vbn_backward(rec, &bn, r, &x, &stats, &dy, &dx, &dgamma, &dbeta, 0));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *want_y = test_doubles(count), *want_dx = test_doubles(count);
    double *want_dgamma = test_doubles((size_t)c), *want_dbeta = test_doubles((size_t)c);
    ref_vbn(&k, k.x, k.gamma, want_y);
    fd_gradient(&k, k.x, count, want_dx);
    fd_gradient(&k, k.gamma, (size_t)c, want_dgamma);
    for (size_t j = 0; j < count; j++) want_dbeta[(j / hw) % c] += k.dy[j];
    CHECK_CLOSE("virtual batchnorm forward", download_tensor(ctx, &y), want_y, count, 1e-4, 1e-4);
    CHECK_CLOSE("virtual batchnorm dx", download_tensor(ctx, &dx), want_dx, count, 1e-4, 1e-3);
    CHECK_CLOSE("virtual batchnorm dgamma", download_tensor(ctx, &dgamma), want_dgamma, (size_t)c,
                1e-3, 1e-3);
    CHECK_CLOSE("virtual batchnorm dbeta", download_tensor(ctx, &dbeta), want_dbeta, (size_t)c,
                1e-4, 1e-4);
}

TEST(vbn_against_reference) {
    check_vbn(test_ctx(), 3, 5, 4, 6, 6, 901);
    check_vbn(test_ctx(), 4, 4, 6, 1, 1, 902); /* dense features: one value per example */
}

TEST(vbn_shared_memory_path) {
    check_vbn(test_ctx_alternate(), 3, 5, 4, 6, 6, 903);
}
