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
