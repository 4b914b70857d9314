/* relu, leaky relu, tanh and sigmoid: forward against the reference, backward
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
