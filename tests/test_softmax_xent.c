/* Softmax cross-entropy (the classifier's loss): the summed loss, the correct count, the
 * predicted-class histogram and the gradient against the textbook reference, the reference's
 * gradient against finite differences, accumulation, and the label-free histogram path; on both
 * reduction paths. Tolerance: atol 1e-5, rtol 1e-5 (loss: rtol 1e-5 of the sum). */
#include <string.h>

#include "check.h"

typedef struct xent_case {
    int n, k;
    double *x;
    int *label;
    double scale;
} xent_case;

static double xent_mean(void *user) {
    xent_case *c = user;
    return c->scale * ref_softmax_xent(c->n, c->k, c->x, c->label, 1, NULL, NULL) / c->n;
}

static void check_xent(vkg_ctx *ctx, int n, int k, float grad_scale, uint64_t seed) {
    vkg_arena *arena = test_arena(ctx);
    xent_case c = {n, k, random_doubles((size_t)n * k, -8, 8, seed), test_alloc(sizeof(int) * n),
                   grad_scale};
    double *labels = random_doubles((size_t)n, 0, k, seed + 1);
    for (int i = 0; i < n; i++) c.label[i] = (int)labels[i];
    /* a few rows predicted right, so the correct count is not trivially 0 */
    for (int i = 0; i < n; i += 3) c.x[(size_t)i * k + c.label[i]] = 12;
    vkg_tensor x = upload_tensor(ctx, arena, n, k, 1, 1, c.x);
    vkg_tensor lab = upload_tensor(ctx, arena, n, 1, 1, 1, labels);
    vkg_tensor dx = upload_tensor(ctx, arena, n, k, 1, 1, NULL);
    vkg_tensor out = upload_tensor(ctx, arena, 1, 2 + k, 1, 1, NULL);
    vkg_tensor twice = upload_tensor(ctx, arena, 1, 2 + k, 1, 1, NULL);
    vkg_tensor hist = upload_tensor(ctx, arena, 1, 2 + k, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_softmax_xent(rec, &x, &lab.buf, &out.buf, &dx, grad_scale, 0));
    CHECK_OK(vkg_softmax_xent(rec, &x, &lab.buf, &twice.buf, NULL, 1, 0));
    CHECK_OK(vkg_softmax_xent(rec, &x, &lab.buf, &twice.buf, NULL, 1, 1));
    CHECK_OK(vkg_softmax_xent(rec, &x, NULL, &hist.buf, NULL, 1, 0));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *rdx = test_doubles((size_t)n * k), *want = test_doubles((size_t)k + 2);
    int *argmax = test_alloc(sizeof(int) * n);
    want[0] = ref_softmax_xent(n, k, c.x, c.label, grad_scale, rdx, argmax);
    for (int i = 0; i < n; i++) want[1] += argmax[i] == c.label[i], want[2 + argmax[i]] += 1;
    CHECK(want[1] >= n / 3, "the case has %g correct rows", want[1]);
    CHECK_GRADIENT("softmax dL/dx (reference)", c.x, (size_t)n * k, xent_mean, &c, rdx);
    CHECK_CLOSE("loss, correct, histogram", download_tensor(ctx, &out), want, (size_t)k + 2, 1e-5,
                1e-5);
    CHECK_CLOSE("gradient", download_tensor(ctx, &dx), rdx, (size_t)n * k, 1e-6, 1e-5);
    for (int j = 0; j < k + 2; j++) want[j] *= 2;
    CHECK_CLOSE("accumulated twice", download_tensor(ctx, &twice), want, (size_t)k + 2, 1e-5, 1e-5);
    want[0] = want[1] = 0;
    for (int j = 2; j < k + 2; j++) want[j] /= 2;
    CHECK_CLOSE("histogram without labels", download_tensor(ctx, &hist), want, (size_t)k + 2, 0, 0);
}

TEST(softmax_xent_batch64_10_classes) {
    check_xent(test_ctx(), 64, 10, 1, 1101);
    if (!test_failed()) check_xent(test_ctx_alternate(), 64, 10, 1, 1101);
}
TEST(softmax_xent_odd_rows_scaled) {
    check_xent(test_ctx(), 517, 7, 0.5f, 1102);
    if (!test_failed()) check_xent(test_ctx_alternate(), 517, 3, 2, 1103);
}
TEST(softmax_xent_one_row) {
    check_xent(test_ctx(), 1, 64, 1, 1104);
}
TEST(softmax_xent_rejects_too_many_classes) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor x = upload_tensor(ctx, arena, 2, 65, 1, 1, NULL);
    vkg_tensor out = upload_tensor(ctx, arena, 1, 67, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(vkg_softmax_xent(rec, &x, NULL, &out.buf, NULL, 1, 0) < 0, "65 classes accepted");
    CHECK(strstr(vkg_error(), "65 classes") != NULL, "error: %s", vkg_error());
    vkg_rec_end(rec);
}
