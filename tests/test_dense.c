/* Dense layer: forward, backward (input, weight, bias) against the reference and finite
 * differences. Tolerance: atol 1e-5 * sqrt(K) + rtol 1e-5 for fp32 sums of K terms of size ~1. */
#include <math.h>
#include <string.h>

#include "check.h"

typedef struct dense_case {
    int n, in, out;
    double *x, *w, *b, *dy;
} dense_case;

static double dense_loss(void *user) {
    dense_case *c = user;
    double *y = test_doubles((size_t)c->n * c->out);
    ref_dense_forward(c->n, c->in, c->out, c->x, c->w, c->b, y);
    return dot(y, c->dy, (size_t)c->n * c->out);
}

/* guard: x and dy as views inside NaN; *count (when not NULL) gets the dispatches of `shader`
 * added. */
static void check_dense_on(vkg_ctx *ctx, int n, int in, int out, uint64_t seed, int guard,
                           const char *shader, int *count) {
    vkg_arena *arena = test_arena(ctx);
    dense_case c = {n,
                    in,
                    out,
                    random_doubles((size_t)n * in, -1, 1, seed),
                    random_doubles((size_t)in * out, -1, 1, seed + 1),
                    random_doubles((size_t)out, -1, 1, seed + 2),
                    random_doubles((size_t)n * out, -1, 1, seed + 3)};
    size_t nx = (size_t)n * in, nw = (size_t)in * out, ny = (size_t)n * out;
    vkg_tensor x = upload_guarded(ctx, arena, n, in, 1, 1, c.x, guard);
    vkg_tensor w = upload_tensor(ctx, arena, in, out, 1, 1, c.w);
    vkg_tensor b = upload_tensor(ctx, arena, 1, out, 1, 1, c.b);
    vkg_tensor dy = upload_guarded(ctx, arena, n, out, 1, 1, c.dy, guard);
    vkg_tensor y = upload_tensor(ctx, arena, n, out, 1, 1, NULL);
    vkg_tensor dx = upload_tensor(ctx, arena, n, in, 1, 1, NULL);
    vkg_tensor dw = upload_tensor(ctx, arena, in, out, 1, 1, NULL);
    vkg_tensor db = upload_tensor(ctx, arena, 1, out, 1, 1, NULL);
    vkg_rec *rec = test_rec_timed(ctx, 1);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_dense_forward(rec, &x, &w, &b, &y));
    CHECK_OK(vkg_dense_backward_input(rec, &dy, &w, &dx));
    CHECK_OK(vkg_dense_backward_weight(rec, &x, &dy, &dw, 0));
    CHECK_OK(vkg_bias_backward(rec, &dy, &db, 0));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    if (count) *count += test_dispatches(rec, shader);

    double *ry = test_doubles(ny), *rdx = test_doubles(nx), *rdw = test_doubles(nw);
    double *rdb = test_doubles((size_t)out);
    ref_dense_forward(n, in, out, c.x, c.w, c.b, ry);
    ref_dense_backward(n, in, out, c.x, c.w, c.dy, rdx, rdw, rdb);
    CHECK_GRADIENT("dense dL/dx (reference)", c.x, nx, dense_loss, &c, rdx);
    CHECK_GRADIENT("dense dL/dw (reference)", c.w, nw, dense_loss, &c, rdw);
    CHECK_GRADIENT("dense dL/db (reference)", c.b, (size_t)out, dense_loss, &c, rdb);
    double tol = 1e-5 * sqrt((double)(in > n ? in : n) + out);
    CHECK_CLOSE("dense forward", download_tensor(ctx, &y), ry, ny, tol, 1e-5);
    CHECK_CLOSE("dense backward input", download_tensor(ctx, &dx), rdx, nx, tol, 1e-5);
    CHECK_CLOSE("dense backward weight", download_tensor(ctx, &dw), rdw, nw, tol, 1e-5);
    CHECK_CLOSE("dense backward bias", download_tensor(ctx, &db), rdb, (size_t)out, tol, 1e-5);
}

static void check_dense(int n, int in, int out, uint64_t seed) {
    check_dense_on(test_ctx(), n, in, out, seed, 0, NULL, NULL);
    if (!test_failed()) check_dense_on(test_ctx_alternate(), n, in, out, seed, 0, NULL, NULL);
    if (!test_failed()) check_dense_on(test_ctx_other_gemm(), n, in, out, seed, 0, NULL, NULL);
    if (!test_failed()) check_dense_on(test_ctx_other_registers(), n, in, out, seed, 0, NULL, NULL);
}

/* The weight gradient's operands are x and dy transposed: on CPU devices their packing reads 4
 * rows (4 consecutive floats) at a time as texels (shaders/gemm_pack_runs.comp). With x and dy
 * inside NaN and row counts not a multiple of 4. */
TEST(dense_transposed_operands_are_read_as_texel_runs) {
    int runs = 0;
    check_dense_on(test_ctx(), 7, 13, 6, 15, 1, "gemm_pack_runs", &runs);
    check_dense_on(test_ctx(), 3, 10, 9, 16, 1, "gemm_pack_runs", &runs);
    check_dense_on(test_ctx_other_gemm(), 7, 13, 6, 15, 1, NULL, NULL);
    CHECK(runs > 0 || !vkg_ctx_uses_packed_gemm(test_ctx()), "no packing pass read runs");
}

/* A CPU device's packed GEMM takes 8 x 8 blocks with 32 vector registers and 8 x 4 with 16 (where
 * 64 accumulators spill): both, on sizes that end in part blocks of either, inside NaN. */
TEST(packed_gemm_block_follows_the_vector_registers) {
    for (int wide = 0; wide < 2 && !test_failed(); wide++) {
        vkg_ctx *ctx = test_ctx_registers(wide ? 32 : 16);
        int chosen = 0, other = 0;
        const char *want = wide ? "gemm_packed" : "gemm_packed_n4";
        const char *not = wide ? "gemm_packed_n4" : "gemm_packed";
        check_dense_on(ctx, 7, 13, 6, 17, 1, want, &chosen);
        check_dense_on(ctx, 11, 5, 9, 18, 1, not, &other);
        CHECK(chosen == 3 * vkg_ctx_uses_packed_gemm(ctx) && other == 0,
              "%d registers: %s ran %d times (want 3), %s %d", wide ? 32 : 16, want, chosen, not,
              other);
    }
}

TEST(dense_batch1_odd_sizes) {
    check_dense(1, 13, 7, 11);
}
TEST(dense_not_multiple_of_tile) {
    check_dense(5, 67, 131, 12);
}
TEST(dense_latent_projection_batch64) {
    check_dense(64, 100, 96, 13);
}
TEST(dense_mlp_hidden) {
    check_dense(33, 2, 128, 14);
}
/* A long K over a one-tile output (DCGAN's full-window layers: D's logit, G's projection backward)
 * is split over workgroups and the parts summed (vkg_rec_split_k): K = 1100 is split on every
 * path, forward (with the bias, carried by part 0) and weight gradient; K is no multiple of a
 * step. */
TEST(dense_long_reductions_are_split) {
    check_dense(3, 1100, 2, 15);
    if (!test_failed()) check_dense(1100, 3, 2, 16);
}

/* accumulate = 1 adds to the gradient already held (real and fake passes of one D step), also
 * when a long batch splits the sum (n = 1100). */
static void check_accumulates(vkg_ctx *ctx, int n) {
    vkg_arena *arena = test_arena(ctx);
    int in = 9, out = 5;
    double *x = random_doubles((size_t)n * in, -1, 1, 21),
           *dy = random_doubles((size_t)n * out, -1, 1, 22);
    double *start = random_doubles((size_t)in * out, -1, 1, 23);
    vkg_tensor tx = upload_tensor(ctx, arena, n, in, 1, 1, x);
    vkg_tensor tdy = upload_tensor(ctx, arena, n, out, 1, 1, dy);
    vkg_tensor tdw = upload_tensor(ctx, arena, in, out, 1, 1, start);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_dense_backward_weight(rec, &tx, &tdy, &tdw, 1));
    CHECK_OK(vkg_dense_backward_weight(rec, &tx, &tdy, &tdw, 1));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    double *want = test_doubles((size_t)in * out);
    ref_dense_backward(n, in, out, x, NULL, dy, NULL, want, NULL);
    for (int i = 0; i < in * out; i++) want[i] = start[i] + 2 * want[i];
    CHECK_CLOSE("accumulated dw", download_tensor(ctx, &tdw), want, (size_t)in * out,
                1e-5 * sqrt((double)n), 1e-5);
}
TEST(dense_weight_gradient_accumulates) {
    vkg_ctx *ctxs[3] = {test_ctx(), test_ctx_alternate(), test_ctx_other_gemm()};
    for (int i = 0; i < 3 && !test_failed(); i++) check_accumulates(ctxs[i], 6);
    for (int i = 0; i < 3 && !test_failed(); i++) check_accumulates(ctxs[i], 1100);
}

TEST(dense_rejects_mismatched_shapes) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_tensor x = upload_tensor(ctx, arena, 4, 8, 1, 1, NULL);
    vkg_tensor w = upload_tensor(ctx, arena, 8, 3, 1, 1, NULL);
    vkg_tensor y = upload_tensor(ctx, arena, 4, 5, 1, 1, NULL);
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK(vkg_dense_forward(rec, &x, &w, NULL, &y) < 0, "a 8x3 weight for 8 -> 5 was accepted");
    CHECK(strstr(vkg_error(), "weight") != NULL, "error does not name the weight: %s", vkg_error());
}

/* On the packed path (CPU devices) an operand already laid out as the GEMM reads it (rows of K
 * contiguous floats, K a multiple of 4, at a texel-aligned offset) is read where it lies, without
 * a packing pass: the forward pass's input (with 16 or 12 features; with 10 it is packed), and
 * both operands of the backward-input pass (with 6 outputs both are packed). Every result is
 * checked against the reference; K of 12 and 6 give the GEMM an odd number of texels. */
static void check_in_place(vkg_ctx *ctx, int n, int in, int out, int forward_packs,
                           int backward_packs) {
    vkg_arena *arena = test_arena(ctx);
    double *x = random_doubles((size_t)n * in, -1, 1, 31),
           *w = random_doubles((size_t)in * out, -1, 1, 32);
    double *dy = random_doubles((size_t)n * out, -1, 1, 33);
    vkg_tensor tx = upload_tensor(ctx, arena, n, in, 1, 1, x);
    vkg_tensor tw = upload_tensor(ctx, arena, in, out, 1, 1, w);
    vkg_tensor tdy = upload_tensor(ctx, arena, n, out, 1, 1, dy);
    vkg_tensor ty = upload_tensor(ctx, arena, n, out, 1, 1, NULL);
    vkg_tensor tdx = upload_tensor(ctx, arena, n, in, 1, 1, NULL);
    CHECK(!test_failed(), "setup");
    double *want_y = test_doubles((size_t)n * out), *want_dx = test_doubles((size_t)n * in);
    ref_dense_forward(n, in, out, x, w, NULL, want_y);
    ref_dense_backward(n, in, out, x, w, dy, want_dx, NULL, NULL);
    for (int pass = 0; pass < 2 && !test_failed(); pass++) {
        vkg_rec *rec = test_rec_timed(ctx, 1);
        int ok = rec &&
                 (pass == 0 ? vkg_dense_forward(rec, &tx, &tw, NULL, &ty)
                            : vkg_dense_backward_input(rec, &tdy, &tw, &tdx)) == 0 &&
                 vkg_rec_end(rec) == 0 && vkg_rec_run(rec) == 0;
        CHECK(ok, "%s", vkg_error());
        int packs = test_packs(rec, 0), gemms = test_gemms(rec);
        int want = pass == 0 ? forward_packs : backward_packs;
        CHECK(packs == want && gemms == 1, "%s, %d x %d x %d: %d packing passes (not %d), %d GEMMs",
              pass == 0 ? "forward" : "backward input", n, in, out, packs, want, gemms);
    }
    CHECK_CLOSE("dense forward", download_tensor(ctx, &ty), want_y, (size_t)n * out, 1e-4, 1e-5);
    CHECK_CLOSE("dense backward input", download_tensor(ctx, &tdx), want_dx, (size_t)n * in, 1e-4,
                1e-5);
}
TEST(packed_gemm_reads_ready_operands_in_place) {
    vkg_ctx *ctx = test_ctx();
    if (!vkg_ctx_uses_packed_gemm(ctx)) return; /* a GPU: no packed path to check */
    check_in_place(ctx, 5, 16, 8, 1, 0);
    if (!test_failed()) check_in_place(ctx, 5, 12, 8, 1, 0);
    if (!test_failed()) check_in_place(ctx, 5, 10, 8, 2, 0);
    if (!test_failed()) check_in_place(ctx, 5, 16, 12, 1, 0);
    if (!test_failed()) check_in_place(ctx, 5, 16, 6, 1, 2);
}
