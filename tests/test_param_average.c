/* Parameter averages (EMA, historical mean), the historical-averaging penalty with its
 * gradient against finite differences, the GPU linear schedule, and D's label targets (label
 * smoothing, soft and noisy labels) against the reference Philox draws.
 * Tolerances: atol 1e-6, rtol 1e-5 (one fused fp32 update per element). */
#include <math.h>

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

TEST(linear_decay_schedule) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor counters = upload_tensor(ctx, arena, 1, 4, 1, 1, NULL);
    vkg_tensor level = upload_tensor(ctx, arena, 1, 3, 1, 1, NULL);
    uint32_t steps[3] = {0, 30, 150};
    float got[3];
    for (int i = 0; i < 3; i++) {
        uint32_t c[4] = {0, 0, steps[i], 0};
        CHECK_OK(vkg_upload(ctx, &counters.buf, c, sizeof c));
        vkg_rec *rec = test_rec(ctx);
        CHECK(!test_failed(), "setup");
        vkg_buf out = level.buf;
        out.size = 4;
        CHECK_OK(vkg_linear_decay(rec, &counters.buf, 2, 0.5f, 100, &out));
        CHECK_OK(run(rec));
        CHECK_OK(vkg_download(ctx, &out, &got[i], 4));
    }
    CHECK(got[0] == 0.5f && fabsf(got[1] - 0.35f) < 1e-7f && got[2] == 0.0f,
          "sigma at steps 0, 30, 150 of 100: %g %g %g, want 0.5 0.35 0", got[0], got[1], got[2]);
}

/* The reference target of element i (rng_fill mode 3). */
static double ref_label(const vkg_rng *rng, const vkg_label_noise *l, uint32_t i, int *flipped) {
    uint32_t ctr[4] = {i, rng->step_base, 0, 0}, key[2] = {rng->seed, rng->stream}, r[4];
    ref_philox4x32(ctr, key, r);
    double u = ref_rng_uniform(r[0]);
    *flipped = ref_rng_uniform(r[1]) < l->flip;
    return *flipped ? l->other_lo + (l->other_hi - l->other_lo) * u : l->lo + (l->hi - l->lo) * u;
}

TEST(label_targets_smoothing_soft_and_noisy) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    int n = 20000;
    vkg_tensor t = upload_tensor(ctx, arena, n, 1, 1, 1, NULL);
    vkg_rng rng = {.seed = 9, .stream = 5, .step_base = 3};
    const vkg_label_noise cases[3] = {
        {0.9f, 0.9f, 0, 0, 0},         /* one-sided label smoothing */
        {0.7f, 1.2f, 0, 0.3f, 0},      /* soft real labels */
        {0.7f, 1.2f, 0.0f, 0.3f, 0.1f} /* soft and 10% flipped */
    };
    for (int c = 0; c < 3; c++) {
        vkg_rec *rec = test_rec(ctx);
        CHECK(!test_failed(), "setup");
        CHECK_OK(vkg_fill_labels(rec, &rng, &cases[c], &t));
        CHECK_OK(run(rec));
        float *got = download_tensor(ctx, &t);
        double *want = test_doubles((size_t)n);
        int flips = 0, f;
        for (int i = 0; i < n; i++)
            want[i] = ref_label(&rng, &cases[c], (uint32_t)i, &f), flips += f;
        CHECK_CLOSE("targets", got, want, (size_t)n, 1e-6, 1e-6);
        double lo = 9, hi = -9;
        for (int i = 0; i < n; i++) lo = fmin(lo, got[i]), hi = fmax(hi, got[i]);
        if (c == 0) CHECK(lo == hi && fabs(lo - 0.9) < 1e-7, "smoothed targets %g..%g", lo, hi);
        if (c == 1) CHECK(lo >= 0.7 && hi <= 1.2 && hi - lo > 0.49, "soft targets %g..%g", lo, hi);
        if (c == 2)
            CHECK(fabs(flips / (double)n - 0.1) < 0.01 && lo < 0.3, "%d of %d flipped", flips, n);
    }
    vkg_label_noise bad = {1, 1, 0, 0, 1.5f};
    CHECK(vkg_fill_labels(test_rec(ctx), &rng, &bad, &t) < 0, "flip 1.5 accepted");
}
