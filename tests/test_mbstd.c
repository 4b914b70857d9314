/* The minibatch standard deviation layer against the reference, forward and backward, on both
 * reduction paths; the reference backward against central differences.
 * Tolerance: atol 1e-5, rtol 1e-4 (a square root of a variance summed over the batch). */
#include "check.h"

typedef struct mbstd_case {
    int n, features, hw;
    double *x, *dy;
} mbstd_case;

/* L = sum dy * mbstd(x) */
static double mbstd_loss(void *user) {
    mbstd_case *c = user;
    size_t out = (size_t)c->n * (c->features + c->hw);
    double *y = test_doubles(out);
    ref_mbstd_forward(c->n, c->features, c->hw, c->x, y);
    return dot(y, c->dy, out);
}

static void check_mbstd(vkg_ctx *ctx, int n, int ch, int h, int w) {
    vkg_arena *arena = test_arena(ctx);
    int features = ch * h * w, hw = h * w;
    size_t in = (size_t)n * features, out = (size_t)n * (features + hw);
    double *x = random_doubles(in, -1, 1, 700 + (uint64_t)n), *dy = random_doubles(out, -1, 1, 7);
    vkg_tensor tx = upload_tensor(ctx, arena, n, ch, h, w, x);
    vkg_tensor ty = upload_tensor(ctx, arena, n, ch + 1, h, w, NULL);
    vkg_tensor tdy = upload_tensor(ctx, arena, n, ch + 1, h, w, dy);
    vkg_tensor tdx = upload_tensor(ctx, arena, n, ch, h, w, NULL);
    vkg_tensor saved = upload_tensor(ctx, arena, 1, 2 * features + 2, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_mbstd_forward(rec, &tx, &ty, &saved));
    CHECK_OK(vkg_mbstd_backward(rec, &tx, &tdy, &saved, &tdx));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *y = test_doubles(out), *dx = test_doubles(in);
    ref_mbstd_forward(n, features, hw, x, y);
    ref_mbstd_backward(n, features, hw, x, dy, dx);
    CHECK_CLOSE("minibatch stddev forward", download_tensor(ctx, &ty), y, out, 1e-5, 1e-4);
    CHECK_CLOSE("minibatch stddev backward", download_tensor(ctx, &tdx), dx, in, 1e-5, 1e-4);
    mbstd_case c = {n, features, hw, x, dy};
    CHECK_GRADIENT("minibatch stddev reference", x, in, mbstd_loss, &c, dx);
}

TEST(mbstd_against_reference) {
    check_mbstd(test_ctx(), 5, 3, 4, 4);
    check_mbstd(test_ctx(), 64, 32, 7, 7); /* a DCGAN 28x28 D's last map */
    check_mbstd(test_ctx(), 7, 300, 1, 1); /* dense features, more than one workgroup's worth */
}

TEST(mbstd_shared_memory_path) {
    check_mbstd(test_ctx_alternate(), 5, 3, 4, 4);
    check_mbstd(test_ctx_alternate(), 33, 16, 7, 7);
}
