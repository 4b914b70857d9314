/* Adam over 12 replays of one recorded step (the GPU advances t itself) against the reference,
 * with fresh gradients each step and a learning-rate change read from the buffer mid-run.
 * Tolerance: rtol 1e-4 + atol 1e-6 after 12 steps (fp32 state vs double). */
#include <stdio.h>

#include "check.h"

/* One Adam step over n parameters p (zeroed gradient, moments 0), recorded once: the test
 * uploads gradients and replays it. */
typedef struct adam_case {
    vkg_tensor p, g, m, v;
    vkg_buf hyper_buf;
    vkg_rec *rec;
} adam_case;

static int adam_case_make(vkg_ctx *ctx, vkg_arena *arena, size_t n, const double *p,
                          const vkg_adam_hyper *hyper, adam_case *c) {
    c->p = upload_tensor(ctx, arena, 1, (int)n, 1, 1, p);
    c->g = upload_tensor(ctx, arena, 1, (int)n, 1, 1, NULL);
    c->m = upload_tensor(ctx, arena, 1, (int)n, 1, 1, NULL);
    c->v = upload_tensor(ctx, arena, 1, (int)n, 1, 1, NULL);
    c->rec = test_rec_timed(ctx, 1);
    if (test_failed() || vkg_arena_alloc(arena, sizeof *hyper, &c->hyper_buf) < 0 ||
        vkg_upload(ctx, &c->hyper_buf, hyper, sizeof *hyper) < 0 ||
        vkg_counter_add(c->rec, &c->hyper_buf, VKG_ADAM_STEP_INDEX, 1) < 0 ||
        vkg_adam_step(c->rec, &c->p.buf, &c->g.buf, &c->m.buf, &c->v.buf, &c->hyper_buf) < 0)
        return -1;
    return vkg_rec_end(c->rec);
}

/* n parameters on ctx: on CPU devices read as texels (adam_texel), elsewhere as floats. */
static void check_adam_on(vkg_ctx *ctx, size_t n, int decoupled, float weight_decay) {
    vkg_arena *arena = test_arena(ctx);
    double *p = random_doubles(n, -1, 1, 1001), *m = test_doubles(n), *v = test_doubles(n);
    vkg_adam_hyper hyper = {2e-4f, 0.5f, 0.999f, 1e-8f, weight_decay, (uint32_t)decoupled, 0};
    adam_case c;
    CHECK_OK(adam_case_make(ctx, arena, n, p, &hyper, &c));
    vkg_tensor tp = c.p, tg = c.g, tm = c.m, tv = c.v;
    vkg_buf hyper_buf = c.hyper_buf;
    vkg_rec *rec = c.rec;
    for (int t = 1; t <= 12; t++) {
        double *g = random_doubles(n, -1, 1, 2000 + (uint64_t)t);
        if (t == 7) { /* the host changes the learning rate between steps */
            hyper.lr = 1e-3f;
            CHECK_OK(vkg_upload(ctx, &hyper_buf, &hyper, sizeof(float)));
        }
        vkg_tensor fresh = upload_tensor(ctx, arena, 1, (int)n, 1, 1, g);
        CHECK(!test_failed(), "upload");
        float *gf = download_tensor(ctx, &fresh);
        CHECK_OK(vkg_tensor_upload(ctx, &tg, gf));
        CHECK_OK(vkg_rec_run(rec));
        ref_adam_step(n, p, g, m, v, hyper.lr, 0.5, 0.999, 1e-8, weight_decay, decoupled, t);
    }
    CHECK_CLOSE("adam parameters", download_tensor(ctx, &tp), p, n, 1e-6, 1e-4);
    CHECK_CLOSE("adam first moment", download_tensor(ctx, &tm), m, n, 1e-6, 1e-4);
    CHECK_CLOSE("adam second moment", download_tensor(ctx, &tv), v, n, 1e-7, 1e-4);
    uint32_t step;
    vkg_buf step_word = hyper_buf;
    step_word.offset += VKG_ADAM_STEP_INDEX * 4;
    step_word.size = 4;
    CHECK_OK(vkg_download(ctx, &step_word, &step, 4));
    CHECK(step == 12, "the GPU step counter reads %u after 12 steps", step);
    CHECK(test_dispatches(rec, "adam_texel") == vkg_ctx_uses_packed_gemm(ctx),
          "adam_texel ran %d times", test_dispatches(rec, "adam_texel"));
}

/* 1000 parameters, and 1003 (the last texel partly outside the range), read as texels and as
 * floats. */
static void check_adam(int decoupled, float weight_decay) {
    check_adam_on(test_ctx(), 1000, decoupled, weight_decay);
    check_adam_on(test_ctx(), 1003, decoupled, weight_decay);
    check_adam_on(test_ctx_other_gemm(), 1003, decoupled, weight_decay);
}

TEST(adam_12_steps) {
    check_adam(0, 0);
}
TEST(adam_l2_weight_decay) {
    check_adam(0, 0.01f);
}
TEST(adamw_decoupled_weight_decay) {
    check_adam(1, 0.01f);
}

/* The first steps, where 1 - beta2^t is small (1e-3 at t = 1) and computing it as 1 - pow(beta2,
 * t) in float32 cancels (lavapipe's pow left it 5e-5 off): from p = 0 with gradients well above
 * eps and of one sign per element, every update is lr * m_hat / sqrt(v_hat) to float precision,
 * as torch.optim.Adam computes it (bias corrections in double). */
TEST(adam_bias_correction_first_steps) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t n = 256;
    double *p = test_doubles(n), *m = test_doubles(n), *v = test_doubles(n);
    vkg_adam_hyper hyper = {1e-3f, 0.5f, 0.999f, 1e-8f, 0, 0, 0};
    adam_case c;
    CHECK_OK(adam_case_make(ctx, arena, n, p, &hyper, &c));
    vkg_tensor tp = c.p, tg = c.g;
    vkg_rec *rec = c.rec;
    for (int t = 1; t <= 3; t++) {
        double *g = random_doubles(n, 0.1, 1, 3000 + (uint64_t)t);
        for (size_t i = 1; i < n; i += 2) g[i] = -g[i];
        vkg_tensor fresh = upload_tensor(ctx, arena, 1, (int)n, 1, 1, g);
        CHECK(!test_failed(), "upload");
        CHECK_OK(vkg_tensor_upload(ctx, &tg, download_tensor(ctx, &fresh)));
        CHECK_OK(vkg_rec_run(rec));
        /* the float32 hyperparameters the kernel holds, exactly */
        ref_adam_step(n, p, g, m, v, hyper.lr, hyper.beta1, hyper.beta2, hyper.eps, 0, 0, t);
        char what[64];
        snprintf(what, sizeof what, "adam parameters after step %d", t);
        CHECK_CLOSE(what, download_tensor(ctx, &tp), p, n, 0, 2e-6);
    }
}
