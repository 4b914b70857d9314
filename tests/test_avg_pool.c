/* Average pooling: forward against the reference, backward against the reference derivative
 * and finite differences. Tolerance: atol 1e-6, rtol 1e-5 (one op per element). */
#include "check.h"

typedef struct pool_case {
    int planes, h, w, k, s;
    double *x, *dy;
} pool_case;

static double pool_loss(void *user) {
    pool_case *p = user;
    int oh = (p->h - p->k) / p->s + 1, ow = (p->w - p->k) / p->s + 1;
    double *y = test_doubles((size_t)p->planes * oh * ow);
    ref_avg_pool_forward(p->planes, p->h, p->w, p->k, p->s, p->x, y);
    return dot(y, p->dy, (size_t)p->planes * oh * ow);
}

static void check_pool(int n, int c, int h, int w, int k, int s, uint64_t seed) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    int oh = (h - k) / s + 1, ow = (w - k) / s + 1, planes = n * c;
    size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
    pool_case p = {
        planes, h, w, k, s, random_doubles(nx, -1, 1, seed), random_doubles(ny, -1, 1, seed + 1)};
    vkg_tensor x = upload_tensor(ctx, arena, n, c, h, w, p.x);
    vkg_tensor dy = upload_tensor(ctx, arena, n, c, oh, ow, p.dy);
    vkg_tensor y = upload_tensor(ctx, arena, n, c, oh, ow, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_avg_pool2d_forward(rec, k, s, &x, &y));
    CHECK_OK(vkg_avg_pool2d_backward(rec, k, s, &dy, &dx));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *ry = test_doubles(ny), *rdx = test_doubles(nx);
    ref_avg_pool_forward(planes, h, w, k, s, p.x, ry);
    ref_avg_pool_backward(planes, h, w, k, s, p.dy, rdx);
    CHECK_GRADIENT("avg pool dL/dx (reference)", p.x, nx, pool_loss, &p, rdx);
    CHECK_CLOSE("avg pool forward", download_tensor(ctx, &y), ry, ny, 1e-6, 1e-5);
    CHECK_CLOSE("avg pool backward", download_tensor(ctx, &dx), rdx, nx, 1e-6, 1e-5);
}

TEST(avg_pool_2x2_stride2) {
    check_pool(2, 3, 28, 28, 2, 2, 501);
}
TEST(avg_pool_3x3_stride2_odd) {
    check_pool(1, 5, 13, 13, 3, 2, 502);
}
TEST(avg_pool_overlapping_stride1) {
    check_pool(3, 2, 7, 9, 3, 1, 503);
}
