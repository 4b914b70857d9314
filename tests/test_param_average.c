/* Parameter averages (EMA, historical mean) and the historical-averaging penalty with its
 * gradient against finite differences.
 * Tolerances: atol 1e-6, rtol 1e-5 (one fused fp32 update per element). */
#include "check.h"

static int run(vkg_rec *rec) {
    return vkg_rec_end(rec) < 0 || vkg_rec_run(rec) < 0 ? -1 : 0;
}

TEST(param_average_ema_and_mean) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t n = 3001;
    double *p = random_doubles(n, -1, 1, 11), *avg = random_doubles(n, -1, 1, 12);
    vkg_tensor tp = upload_tensor(ctx, arena, 1, (int)n, 1, 1, p);
    vkg_tensor ta = upload_tensor(ctx, arena, 1, (int)n, 1, 1, avg);
    vkg_tensor tb = upload_tensor(ctx, arena, 1, (int)n, 1, 1, avg);
    vkg_tensor counters = upload_tensor(ctx, arena, 1, 4, 1, 1, NULL);
    uint32_t count[4] = {0, 4, 0, 0};
    CHECK_OK(vkg_upload(ctx, &counters.buf, count, sizeof count));
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_param_average(rec, &tp.buf, &ta.buf, 0.9f, NULL, 0));
    CHECK_OK(vkg_param_average(rec, &tp.buf, &tb.buf, -1, &counters.buf, 1));
    CHECK_OK(run(rec));
    double *ema = test_doubles(n), *mean = test_doubles(n);
    for (size_t i = 0; i < n; i++) {
        ema[i] = avg[i] + (1 - 0.9f) * (p[i] - avg[i]);
        mean[i] = avg[i] + (p[i] - avg[i]) / 4; /* the 4th value joins the mean of 3 */
    }
    CHECK_CLOSE("EMA", download_tensor(ctx, &ta), ema, n, 1e-6, 1e-5);
    CHECK_CLOSE("historical mean", download_tensor(ctx, &tb), mean, n, 1e-6, 1e-5);
    vkg_rec *bad = test_rec(ctx);
    CHECK(vkg_param_average(bad, &tp.buf, &ta.buf, 1.0f, NULL, 0) < 0, "decay 1 accepted");
    CHECK(vkg_param_average(bad, &tp.buf, &ta.buf, -1, NULL, 0) < 0, "mean without a counter");
}

typedef struct penalty_case {
    double *p, *avg, lambda;
    size_t n;
} penalty_case;

static double penalty(void *user) {
    penalty_case *c = user;
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += (c->p[i] - c->avg[i]) * (c->p[i] - c->avg[i]);
    return c->lambda * s;
}

TEST(historical_average_penalty_gradient) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t n = 1000;
    double *p = random_doubles(n, -1, 1, 21), *avg = random_doubles(n, -1, 1, 22);
    double *g = random_doubles(n, -1, 1, 23);
    vkg_tensor tp = upload_tensor(ctx, arena, 1, (int)n, 1, 1, p);
    vkg_tensor ta = upload_tensor(ctx, arena, 1, (int)n, 1, 1, avg);
    vkg_tensor tg = upload_tensor(ctx, arena, 1, (int)n, 1, 1, g);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_average_penalty(rec, &tp.buf, &ta.buf, 0.3f, &tg.buf));
    CHECK_OK(run(rec));
    penalty_case c = {p, avg, 0.3f, n};
    double *grad = test_doubles(n), *want = test_doubles(n);
    for (size_t i = 0; i < n; i++) grad[i] = 2 * c.lambda * (p[i] - avg[i]);
    CHECK_GRADIENT("penalty reference", p, n, penalty, &c, grad);
    for (size_t i = 0; i < n; i++) want[i] = g[i] + grad[i]; /* added to the gradient */
    CHECK_CLOSE("gradient with the penalty", download_tensor(ctx, &tg), want, n, 1e-6, 1e-5);
}
