/* Class conditioning by one-hot channels: concat against a plain loop, backward against
 * central differences of L = sum dy * concat(x). Exact (copies and constants). */
#include "check.h"

typedef struct onehot_case {
    int n, c, k, hw;
    const double *labels, *dy;
    double *x;
} onehot_case;

static void ref_concat(const onehot_case *t, const double *x, double *y) {
    for (int n = 0; n < t->n; n++)
        for (int c = 0; c < t->c + t->k; c++)
            for (int i = 0; i < t->hw; i++) {
                int label = (int)t->labels[n];
                label = label < 0 ? 0 : label >= t->k ? t->k - 1 : label;
                y[((size_t)n * (t->c + t->k) + c) * t->hw + i] =
                    c < t->c ? x[((size_t)n * t->c + c) * t->hw + i] : c - t->c == label;
            }
}

static double onehot_loss(void *user) {
    onehot_case *t = user;
    size_t wide = (size_t)t->n * (t->c + t->k) * t->hw;
    double *y = test_doubles(wide);
    ref_concat(t, t->x, y);
    return dot(y, t->dy, wide);
}

TEST(onehot_concat_and_backward) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    int n = 6, c = 3, k = 4, h = 5, w = 5;
    size_t narrow = (size_t)n * c * h * w, wide = (size_t)n * (c + k) * h * w;
    /* classes from fractional and out-of-range labels: floor, then clamp */
    double labels[6] = {0, 1.7, 3, 2.2, -1, 9};
    double *x = random_doubles(narrow, -1, 1, 41), *dy = random_doubles(wide, -1, 1, 42);
    vkg_tensor tx = upload_tensor(ctx, arena, n, c, h, w, x);
    vkg_tensor tl = upload_tensor(ctx, arena, n, 1, 1, 1, labels);
    vkg_tensor ty = upload_tensor(ctx, arena, n, c + k, h, w, NULL);
    vkg_tensor tdy = upload_tensor(ctx, arena, n, c + k, h, w, dy);
    vkg_tensor tdx = upload_tensor(ctx, arena, n, c, h, w, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_onehot_concat(rec, &tx, &tl.buf, k, &ty));
    CHECK_OK(vkg_onehot_backward(rec, &tdy, &tl.buf, k, &tdx));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    onehot_case t = {n, c, k, h * w, labels, dy, x};
    double *y = test_doubles(wide), *dx = test_doubles(narrow);
    ref_concat(&t, x, y);
    for (int b = 0; b < n; b++)
        for (size_t j = 0; j < (size_t)c * h * w; j++)
            dx[b * (size_t)c * h * w + j] = dy[b * (size_t)(c + k) * h * w + j];
    CHECK_CLOSE("one-hot concat", download_tensor(ctx, &ty), y, wide, 0, 0);
    CHECK_CLOSE("one-hot backward", download_tensor(ctx, &tdx), dx, narrow, 0, 0);
    CHECK_GRADIENT("one-hot reference", x, narrow, onehot_loss, &t, dx);
    CHECK(vkg_onehot_concat(rec, &tx, &tl.buf, 5, &ty) < 0, "a wrong width was accepted");
}
