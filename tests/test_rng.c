/* Philox RNG (known-answer vectors), dropout, normal / uniform fills and added noise, D's label
 * targets (label smoothing, soft and noisy labels) against the reference Philox draws, the
 * epoch permutation and its gather. */
#include <math.h>

#include "check.h"

/* Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors). */
TEST(philox_known_answers) {
    const uint32_t cases[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int c = 0; c < 3; c++) {
        uint32_t out[4];
        ref_philox4x32(cases[c], cases[c] + 4, out);
        for (int i = 0; i < 4; i++)
            CHECK(out[i] == cases[c][6 + i], "vector %d word %d: %08x, want %08x", c, i, out[i],
                  cases[c][6 + i]);
    }
}

static float *run_dropout(vkg_ctx *ctx, vkg_arena *arena, const vkg_rng *rng, float p,
                          const vkg_tensor *x) {
    vkg_tensor y = upload_tensor(ctx, arena, x->n, x->c, x->h, x->w, NULL);
    vkg_rec *rec = test_rec(ctx);
    if (test_failed() || vkg_dropout(rec, rng, p, x, &y) < 0 || vkg_rec_end(rec) < 0 ||
        vkg_rec_run(rec) < 0) {
        test_fail(__FILE__, __LINE__, "dropout: %s", vkg_error());
        return NULL;
    }
    return download_tensor(ctx, &y);
}

typedef struct dropout_case {
    const vkg_rng *rng;
    float p;
    double *x, *dy;
    size_t n;
} dropout_case;

static double dropout_loss(void *user) {
    dropout_case *d = user;
    double s = 0;
    for (size_t i = 0; i < d->n; i++)
        if (ref_dropout_keep(d->rng->seed, d->rng->stream, d->rng->step_base, (uint32_t)i, d->p))
            s += d->x[i] / (1 - d->p) * d->dy[i];
    return s;
}

TEST(dropout_forward_backward_and_keys) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t n = 4 * 13 * 13 * 25;
    float p = 0.5f;
    double *x = random_doubles(n, 0.5, 1.5, 601), *dy = random_doubles(n, -1, 1, 602);
    vkg_tensor tx = upload_tensor(ctx, arena, 4, 25, 13, 13, x);
    vkg_tensor tdy = upload_tensor(ctx, arena, 4, 25, 13, 13, dy);
    vkg_rng rng = {.seed = 1234, .stream = 7, .step_base = 42};
    float *y = run_dropout(ctx, arena, &rng, p, &tx);
    float *dx = run_dropout(ctx, arena, &rng, p, &tdy); /* backward: the same mask on dy */
    float *again = run_dropout(ctx, arena, &rng, p, &tx);
    vkg_rng next_step = rng, other_seed = rng;
    next_step.step_base++;
    other_seed.seed++;
    float *stepped = run_dropout(ctx, arena, &next_step, p, &tx);
    float *reseeded = run_dropout(ctx, arena, &other_seed, p, &tx);
    CHECK(!test_failed(), "dropout runs");

    double *ry = test_doubles(n), *rdx = test_doubles(n);
    size_t kept = 0, same_step = 0, same_seed = 0;
    for (size_t i = 0; i < n; i++) {
        int keep = ref_dropout_keep(rng.seed, rng.stream, rng.step_base, (uint32_t)i, p);
        kept += keep;
        ry[i] = keep ? x[i] / (1 - p) : 0;
        rdx[i] = keep ? dy[i] / (1 - p) : 0;
        CHECK(again[i] == y[i], "same key, different result at %zu", i);
        same_step += (stepped[i] != 0) == (y[i] != 0);
        same_seed += (reseeded[i] != 0) == (y[i] != 0);
    }
    dropout_case d = {&rng, p, x, dy, n};
    CHECK_GRADIENT("dropout dL/dx (reference)", x, n, dropout_loss, &d, rdx);
    CHECK_CLOSE("dropout forward", y, ry, n, 1e-6, 1e-6);
    CHECK_CLOSE("dropout backward", dx, rdx, n, 1e-6, 1e-6);
    /* keep ~ Binomial(n, 0.5): 5 standard deviations is 0.5 * sqrt(n) * 5 / n ~ 0.012 */
    CHECK(fabs((double)kept / n - (1 - p)) < 0.02, "kept fraction %.4f", (double)kept / n);
    /* a new step or seed agrees on ~half the positions, as independent masks do */
    CHECK(fabs((double)same_step / n - 0.5) < 0.02, "next step agrees on %.3f",
          (double)same_step / n);
    CHECK(fabs((double)same_seed / n - 0.5) < 0.02, "next seed agrees on %.3f",
          (double)same_seed / n);
}

/* The step can come from a GPU counter: counters[3] = 40 with base 2 draws step 42. */
TEST(rng_step_from_gpu_counter) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    double counters_init[4] = {0};
    uint32_t words[4] = {0, 0, 0, 40};
    vkg_tensor counters = upload_tensor(ctx, arena, 1, 4, 1, 1, counters_init);
    CHECK_OK(vkg_upload(ctx, &counters.buf, words, sizeof words));
    vkg_tensor a = upload_tensor(ctx, arena, 1, 999, 1, 1, NULL);
    vkg_tensor b = upload_tensor(ctx, arena, 1, 999, 1, 1, NULL);
    vkg_rng from_counter = {
        .seed = 9, .stream = 1, .step_base = 2, .counters = &counters.buf, .step_index = 3};
    vkg_rng direct = {.seed = 9, .stream = 1, .step_base = 42};
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_fill_normal(rec, &from_counter, 0, 1, &a));
    CHECK_OK(vkg_fill_normal(rec, &direct, 0, 1, &b));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    float *fa = download_tensor(ctx, &a), *fb = download_tensor(ctx, &b);
    for (int i = 0; i < 999; i++) CHECK(fa[i] == fb[i], "element %d: %g vs %g", i, fa[i], fb[i]);
}

TEST(fill_normal_statistics_and_reference) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t n = 1 << 16;
    vkg_tensor z = upload_tensor(ctx, arena, 64, 1024, 1, 1, NULL);
    vkg_tensor w = upload_tensor(ctx, arena, 64, 1024, 1, 1, NULL);
    vkg_rng rng = {.seed = 77, .stream = 3, .step_base = 5};
    vkg_rng init = {.seed = 78, .stream = 3, .step_base = 5};
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_fill_normal(rec, &rng, 0, 1, &z));
    CHECK_OK(vkg_fill_normal(rec, &init, 0, 0.02f, &w)); /* the DCGAN weight init */
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    float *fz = download_tensor(ctx, &z), *fw = download_tensor(ctx, &w);
    double *want = test_doubles(n);
    double mean = 0, var = 0, wmean = 0, wvar = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits[4];
        ref_rng_bits(rng.seed, rng.stream, rng.step_base, (uint32_t)i, bits);
        want[i] = ref_rng_normal(bits[0], bits[1]);
        mean += fz[i] / (double)n;
        wmean += fw[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        var += (fz[i] - mean) * (fz[i] - mean) / (double)n;
        wvar += (fw[i] - wmean) * (fw[i] - wmean) / (double)n;
    }
    /* GPU log/cos are within a few ulp of libm's; 1e-4 covers the tail where sqrt(-2 log u) ~ 5 */
    CHECK_CLOSE("normal fill vs reference", fz, want, n, 1e-4, 1e-4);
    /* bounds: 5 standard errors; se(mean) = 1/sqrt(n) = 0.0039, se(var) = sqrt(2/n) = 0.0055 */
    CHECK(fabs(mean) < 0.02, "N(0,1) mean %.4f", mean);
    CHECK(fabs(var - 1) < 0.028, "N(0,1) variance %.4f", var);
    CHECK(fabs(wmean) < 0.02 * 0.02, "N(0,0.02) mean %.6f", wmean);
    CHECK(fabs(sqrt(wvar) - 0.02) < 0.02 * 0.014, "N(0,0.02) std %.6f", sqrt(wvar));
}

TEST(fill_uniform_and_add_noise) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t n = 20000;
    double *x = random_doubles(n, -1, 1, 701);
    double half = 0.5, zero = 0;
    vkg_tensor u = upload_tensor(ctx, arena, 1, (int)n, 1, 1, NULL);
    vkg_tensor tx = upload_tensor(ctx, arena, 1, (int)n, 1, 1, x);
    vkg_tensor noisy = upload_tensor(ctx, arena, 1, (int)n, 1, 1, NULL);
    vkg_tensor clean = upload_tensor(ctx, arena, 1, (int)n, 1, 1, NULL);
    vkg_tensor sigma = upload_tensor(ctx, arena, 1, 1, 1, 1, &half);
    vkg_tensor sigma_zero = upload_tensor(ctx, arena, 1, 1, 1, 1, &zero);
    vkg_rng rng = {.seed = 5, .stream = 11};
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_fill_uniform(rec, &rng, 0.7f, 1.2f, &u));
    CHECK_OK(vkg_add_normal(rec, &rng, 0.2f, &sigma.buf, &tx, &noisy));
    CHECK_OK(vkg_add_normal(rec, &rng, 0.2f, &sigma_zero.buf, &tx, &clean));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    float *fu = download_tensor(ctx, &u), *fn = download_tensor(ctx, &noisy);
    float *fc = download_tensor(ctx, &clean);
    double *want_u = test_doubles(n), *want_n = test_doubles(n), *want_c = test_doubles(n);
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits[4];
        ref_rng_bits(rng.seed, rng.stream, 0, (uint32_t)i, bits);
        want_u[i] = 0.7 + 0.5 * ref_rng_uniform(bits[0]);
        want_n[i] = (float)x[i] + 0.2 * 0.5 * ref_rng_normal(bits[0], bits[1]);
        want_c[i] = (float)x[i];
        CHECK(fu[i] >= 0.7f && fu[i] < 1.2f, "uniform value %g outside [0.7, 1.2)", fu[i]);
        mean += fu[i] / (double)n;
    }
    CHECK_CLOSE("uniform fill", fu, want_u, n, 1e-6, 1e-6);
    CHECK_CLOSE("added noise", fn, want_n, n, 1e-5, 1e-5);
    CHECK_CLOSE("noise with sigma 0", fc, want_c, n, 0, 0);
    CHECK(fabs(mean - 0.95) < 0.005, "uniform mean %.4f, want 0.95", mean);
}

TEST(epoch_permutation_is_a_bijection) {
    const uint32_t sizes[] = {1, 2, 3, 10, 1000, 60000};
    for (int s = 0; s < 6; s++) {
        uint32_t n = sizes[s];
        uint8_t *seen = test_alloc(n);
        int in_place = 0;
        for (uint32_t x = 0; x < n; x++) {
            uint32_t y = ref_permute_index(x, n, 42, 3);
            CHECK(y < n && !seen[y], "n = %u: %u maps to %u, outside or twice", n, x, y);
            seen[y] = 1;
            in_place += y == x;
        }
        /* a random permutation fixes about 1 point on average; a broken one fixes many */
        CHECK(n < 1000 || in_place < 10, "n = %u: %d fixed points", n, in_place);
    }
    int differ = 0;
    for (uint32_t x = 0; x < 1000; x++)
        differ += ref_permute_index(x, 1000, 42, 3) != ref_permute_index(x, 1000, 42, 4);
    CHECK(differ > 900, "epochs 3 and 4 agree on %d of 1000 positions", 1000 - differ);
}

/* Batches of 8 over 50 rows (byte i of row r holds r), steps 0..18: three epochs. */
static void check_epoch_gather(int u8) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    enum { ROWS = 50, ROW = 3, BATCH = 8, STEPS = 19 };
    uint8_t bytes[ROWS * ROW];
    float floats[ROWS * ROW];
    for (int i = 0; i < ROWS * ROW; i++)
        bytes[i] = (uint8_t)(i / ROW), floats[i] = (float)(i / ROW);
    vkg_buf data;
    CHECK_OK(vkg_arena_alloc(arena, u8 ? sizeof bytes : sizeof floats, &data));
    CHECK_OK(vkg_upload(ctx, &data, u8 ? (void *)bytes : (void *)floats,
                        u8 ? sizeof bytes : sizeof floats));
    vkg_tensor counters = upload_tensor(ctx, arena, 1, 1, 1, 1, NULL);
    vkg_tensor out = upload_tensor(ctx, arena, BATCH, ROW, 1, 1, NULL);
    vkg_rng rng = {.seed = 9, .counters = &counters.buf};
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_gather_epoch_batch(rec, &rng, &data, u8, ROWS, &out));
    CHECK_OK(vkg_rec_end(rec));
    int seen_in_epoch0[ROWS] = {0};
    for (uint32_t s = 0; s < STEPS; s++) {
        CHECK_OK(vkg_upload(ctx, &counters.buf, &s, 4));
        CHECK_OK(vkg_rec_run(rec));
        float *got = download_tensor(ctx, &out);
        for (int b = 0; b < BATCH; b++) {
            uint32_t g = s * BATCH + (uint32_t)b;
            uint32_t want = ref_permute_index(g % ROWS, ROWS, 9, g / ROWS);
            for (int i = 0; i < ROW; i++) {
                float v = u8 ? (got[b * ROW + i] + 1.0f) * 127.5f : got[b * ROW + i];
                CHECK(fabsf(v - (float)want) < 1e-3f, "step %u example %d: row %g, want %u", s, b,
                      v, want);
            }
            if (g < ROWS) seen_in_epoch0[want]++;
        }
    }
    for (int r = 0; r < ROWS; r++)
        CHECK(seen_in_epoch0[r] == 1, "epoch 0 saw row %d %d times", r, seen_in_epoch0[r]);
}

TEST(epoch_gather_bytes) {
    check_epoch_gather(1);
}
TEST(epoch_gather_floats) {
    check_epoch_gather(0);
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
        CHECK_OK(vkg_rec_end(rec));
        CHECK_OK(vkg_rec_run(rec));
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
