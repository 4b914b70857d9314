/* relu, leaky relu, tanh, sigmoid and average pooling: forward against the reference, backward
 * against the reference derivative and finite differences. Inputs avoid |x| < 0.01 so no finite
 * difference straddles the kink of relu. Tolerance: atol 1e-6, rtol 1e-5 (one op per element). */
#include <math.h>

#include "check.h"

typedef struct act_case {
    int kind;
    double slope;
    double *x, *dy;
    size_t n;
} act_case;

static double act_loss(void *user) {
    act_case *a = user;
    double s = 0;
    for (size_t i = 0; i < a->n; i++) s += ref_activation(a->kind, a->slope, a->x[i]) * a->dy[i];
    return s;
}

static void check_activation(vkg_activation kind, float slope) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    int n = 3, c = 5, h = 13, w = 13;
    size_t count = (size_t)n * c * h * w;
    act_case a = {(int)kind, slope, random_doubles(count, -4, 4, 400 + kind),
                  random_doubles(count, -1, 1, 410 + kind), count};
    for (size_t i = 0; i < count; i++)
        if (fabs(a.x[i]) < 0.01) a.x[i] = 0.5;
    vkg_tensor x = upload_tensor(ctx, arena, n, c, h, w, a.x);
    vkg_tensor dy = upload_tensor(ctx, arena, n, c, h, w, a.dy);
    vkg_tensor y = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_activation_forward(rec, kind, slope, &x, &y));
    CHECK_OK(vkg_activation_backward(rec, kind, slope, &y, &dy, &dx));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *ry = test_doubles(count), *rdx = test_doubles(count);
    for (size_t i = 0; i < count; i++) {
        ry[i] = ref_activation(a.kind, slope, a.x[i]);
        rdx[i] = a.dy[i] * ref_activation_grad(a.kind, slope, a.x[i]);
    }
    CHECK_GRADIENT("activation dL/dx (reference)", a.x, count, act_loss, &a, rdx);
    CHECK_CLOSE("activation forward", download_tensor(ctx, &y), ry, count, 1e-6, 1e-5);
    CHECK_CLOSE("activation backward", download_tensor(ctx, &dx), rdx, count, 1e-6, 1e-5);
}

TEST(relu) {
    check_activation(VKG_RELU, 0);
}
TEST(leaky_relu_0_2) {
    check_activation(VKG_LEAKY_RELU, 0.2f);
}
TEST(tanh_activation) {
    check_activation(VKG_TANH, 0);
}
TEST(sigmoid_activation) {
    check_activation(VKG_SIGMOID, 0);
}

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
