/* vkgan selfcheck: a short run of the main kernels on the chosen device against the plain-C
 * references (the full suite with finite differences is the test runner's job). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "reference.h"
#include "vkgan/nn.h"

static const vkg_opt_table selfcheck_table = {
    "selfcheck",
    "[--device D] [--validation]",
    "Runs conv2d, conv_transpose2d (forward and both backward passes), dense, batch norm, "
    "activations, dropout, BCE with logits and Adam on small shapes on the device and compares "
    "each with the plain-C reference. Exit code 0 when all agree, 1 otherwise.",
    NULL,
    0,
    cli_device_opts,
    2};

typedef struct check {
    vkg_ctx *ctx;
    vkg_arena *arena;
    int failures;
    uint64_t seed;
} check;

static double *inputs(check *c, size_t n, double lo, double hi) {
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n && x; i++) {
        c->seed = c->seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)(lo + (hi - lo) * (double)(c->seed >> 11) / 9007199254740992.0);
    }
    return x;
}

static vkg_tensor tensor(check *c, int n, int ch, int h, int w, const double *data) {
    vkg_tensor t = {0};
    size_t count = (size_t)n * ch * h * w;
    float *f = calloc(count, sizeof *f);
    for (size_t i = 0; data && f && i < count; i++) f[i] = (float)data[i];
    if (!f || vkg_tensor_alloc(c->arena, n, ch, h, w, &t) < 0 ||
        vkg_tensor_upload(c->ctx, &t, f) < 0)
        t.buf.buffer = NULL;
    free(f);
    return t;
}

/* Prints one line: the largest difference from the reference against the tolerance. */
static void compare(check *c, const char *name, const vkg_tensor *t, const double *want,
                    double tol) {
    size_t n = vkg_tensor_count(t);
    float *got = malloc(n * sizeof *got);
    double worst = 0;
    int ok = got && t->buf.buffer && vkg_tensor_download(c->ctx, t, got) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        double err = fabs(got[i] - want[i]);
        if (!(err <= worst)) worst = err; /* NaN sticks */
    }
    ok = ok && worst <= tol;
    c->failures += !ok;
    printf("%s %-36s max |error| %.2e (tolerance %.0e)\n", ok ? "ok  " : "FAIL", name, worst, tol);
    free(got);
}

static int run(vkg_rec *rec) {
    return vkg_rec_end(rec) == 0 && vkg_rec_run(rec) == 0 ? 0 : -1;
}

static void convolutions(check *c, int transposed) {
    ref_conv g = {2, 5, 9, 9, 6, 0, 0, 4, 2, 1};
    if (transposed)
        ref_conv_transpose_shape(&g);
    else
        ref_conv_shape(&g);
    size_t nx = (size_t)2 * 5 * 81, ny = (size_t)2 * 6 * g.h_out * g.w_out, nw = 5 * 6 * 16;
    double *x = inputs(c, nx, -1, 1), *w = inputs(c, nw, -0.5, 0.5), *dy = inputs(c, ny, -1, 1);
    double *y = malloc(ny * sizeof *y), *dx = malloc(nx * sizeof *dx),
           *dw = malloc(nw * sizeof *dw);
    vkg_tensor tx = tensor(c, 2, 5, 9, 9, x), tdy = tensor(c, 2, 6, g.h_out, g.w_out, dy);
    vkg_tensor tw = transposed ? tensor(c, 5, 6, 4, 4, w) : tensor(c, 6, 5, 4, 4, w);
    vkg_tensor ty = tensor(c, 2, 6, g.h_out, g.w_out, NULL), tdx = tensor(c, 2, 5, 9, 9, NULL);
    vkg_tensor tdw = tensor(c, tw.n, tw.c, 4, 4, NULL);
    vkg_conv p = {4, 2, 1};
    vkg_rec *rec = vkg_rec_begin(c->ctx, 0);
    int r = rec ? 0 : -1;
    if (transposed) {
        r |= vkg_conv_transpose2d_forward(rec, &p, &tx, &tw, NULL, &ty);
        r |= vkg_conv_transpose2d_backward_input(rec, &p, &tdy, &tw, &tdx);
        r |= vkg_conv_transpose2d_backward_weight(rec, &p, &tx, &tdy, &tdw, 0);
        ref_conv_transpose2d_forward(&g, x, w, NULL, y);
        ref_conv_transpose2d_backward(&g, x, w, dy, dx, dw);
    } else {
        r |= vkg_conv2d_forward(rec, &p, &tx, &tw, NULL, &ty);
        r |= vkg_conv2d_backward_input(rec, &p, &tdy, &tw, &tdx);
        r |= vkg_conv2d_backward_weight(rec, &p, &tx, &tdy, &tdw, 0);
        ref_conv2d_forward(&g, x, w, NULL, y);
        ref_conv2d_backward(&g, x, w, dy, dx, dw);
    }
    if (r == 0) r = run(rec);
    if (r < 0) {
        c->failures++;
        printf("FAIL %s: %s\n", transposed ? "conv_transpose2d" : "conv2d", vkg_error());
    } else {
        const char *names[2][3] = {
            {"conv2d forward", "conv2d backward input", "conv2d backward weight"},
            {"conv_transpose2d forward", "conv_transpose2d backward input",
             "conv_transpose2d backward weight"}};
        compare(c, names[transposed][0], &ty, y, 1e-4);
        compare(c, names[transposed][1], &tdx, dx, 1e-4);
        compare(c, names[transposed][2], &tdw, dw, 1e-3);
    }
    vkg_rec_destroy(rec);
    free(x), free(w), free(dy), free(y), free(dx), free(dw);
}

static void layers(check *c) {
    int n = 16, in = 37, out = 24;
    double *x = inputs(c, (size_t)n * in, -1, 1), *w = inputs(c, (size_t)in * out, -1, 1);
    double *y = malloc(sizeof *y * n * out), *ybn = malloc(sizeof *ybn * n * out);
    double *ya = malloc(sizeof *ya * n * out), *t = inputs(c, (size_t)n, 0, 1);
    double gamma[24], beta[24], rm[24], rv[24], ref_rm[24], ref_rv[24], dlogit[16], out2[2];
    for (int i = 0; i < out; i++) gamma[i] = 1, beta[i] = 0, rm[i] = ref_rm[i] = 0;
    for (int i = 0; i < out; i++) rv[i] = ref_rv[i] = 1;
    ref_dense_forward(n, in, out, x, w, NULL, y);
    ref_batchnorm_forward(n, out, 1, y, gamma, beta, 1e-5, 1, 0.1, ref_rm, ref_rv, ybn, NULL, NULL);
    for (int i = 0; i < n * out; i++) ya[i] = ref_activation(1, 0.2, ybn[i]);
    double *first = malloc(sizeof *first * n); /* logits: column 0 of each row */
    for (int i = 0; i < n; i++) first[i] = ya[i * out];
    out2[0] = ref_bce_logits(n, first, t, 1, dlogit, &out2[1]);

    vkg_batchnorm bn = {.eps = 1e-5f, .momentum = 0.1f};
    bn.gamma = tensor(c, 1, out, 1, 1, gamma), bn.beta = tensor(c, 1, out, 1, 1, beta);
    bn.running_mean = tensor(c, 1, out, 1, 1, rm), bn.running_var = tensor(c, 1, out, 1, 1, rv);
    bn.saved = tensor(c, 2, out, 1, 1, NULL);
    vkg_tensor tx = tensor(c, n, in, 1, 1, x), tw = tensor(c, in, out, 1, 1, w);
    vkg_tensor ty = tensor(c, n, out, 1, 1, NULL), tbn = tensor(c, n, out, 1, 1, NULL);
    vkg_tensor ta = tensor(c, n, out, 1, 1, NULL), tt = tensor(c, n, 1, 1, 1, t);
    vkg_tensor tl = tensor(c, 1, 2, 1, 1, NULL), td = tensor(c, n, 1, 1, 1, NULL);
    vkg_tensor logits = tensor(c, n, 1, 1, 1, NULL);
    vkg_rec *rec = vkg_rec_begin(c->ctx, 0);
    int r = rec ? 0 : -1;
    r |= vkg_dense_forward(rec, &tx, &tw, NULL, &ty);
    r |= vkg_batchnorm_forward(rec, &bn, &ty, &tbn, 1);
    r |= vkg_activation_forward(rec, VKG_LEAKY_RELU, 0.2f, &tbn, &ta);
    /* column 0 of the activations as logits: a strided copy through a 24x1 dense layer */
    double *pick = calloc((size_t)out, sizeof *pick);
    pick[0] = 1;
    vkg_tensor tpick = tensor(c, out, 1, 1, 1, pick);
    r |= vkg_dense_forward(rec, &ta, &tpick, NULL, &logits);
    r |= vkg_bce_with_logits(rec, &logits, &tt, &tl.buf, &td, 1);
    if (r == 0) r = run(rec);
    if (r < 0) {
        c->failures++;
        printf("FAIL dense / batchnorm / loss: %s\n", vkg_error());
    } else {
        compare(c, "dense forward", &ty, y, 1e-4);
        compare(c, "batchnorm forward (training)", &tbn, ybn, 1e-4);
        compare(c, "batchnorm running variance", &bn.running_var, ref_rv, 1e-5);
        compare(c, "leaky relu forward", &ta, ya, 1e-4);
        compare(c, "bce with logits (loss, mean D)", &tl, out2, 1e-5);
        compare(c, "bce with logits gradient", &td, dlogit, 1e-6);
    }
    vkg_rec_destroy(rec);
    free(x), free(w), free(y), free(ybn), free(ya), free(t), free(first), free(pick);
}

static void optimizer_and_rng(check *c) {
    size_t n = 4096;
    double *p = inputs(c, n, -1, 1), *g = inputs(c, n, -1, 1);
    double *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v), *drop = malloc(n * sizeof *drop);
    vkg_tensor tp = tensor(c, 1, (int)n, 1, 1, p), tg = tensor(c, 1, (int)n, 1, 1, g);
    vkg_tensor tm = tensor(c, 1, (int)n, 1, 1, NULL), tv = tensor(c, 1, (int)n, 1, 1, NULL);
    vkg_tensor td = tensor(c, 1, (int)n, 1, 1, NULL);
    vkg_buf hyper;
    vkg_adam_hyper h = {2e-4f, 0.5f, 0.999f, 1e-8f, 0, 0, 1};
    int r = vkg_arena_alloc(c->arena, sizeof h, &hyper) | vkg_upload(c->ctx, &hyper, &h, sizeof h);
    vkg_rng rng = {.seed = 2015, .stream = 1, .step_base = 3};
    for (size_t i = 0; i < n; i++)
        drop[i] = ref_dropout_keep(2015, 1, 3, (uint32_t)i, 0.5f) ? (float)g[i] * 2 : 0;
    vkg_rec *rec = vkg_rec_begin(c->ctx, 0);
    r |= rec ? 0 : -1;
    r |= vkg_dropout(rec, &rng, 0.5f, &tg, &td);
    r |= vkg_adam_step(rec, &tp.buf, &tg.buf, &tm.buf, &tv.buf, &hyper);
    if (r == 0) r = run(rec);
    ref_adam_step(n, p, g, m, v, 2e-4, 0.5, 0.999, 1e-8, 0, 0, 1);
    if (r < 0) {
        c->failures++;
        printf("FAIL dropout / adam: %s\n", vkg_error());
    } else {
        compare(c, "dropout (Philox mask)", &td, drop, 1e-6);
        compare(c, "adam step", &tp, p, 1e-6);
    }
    vkg_rec_destroy(rec);
    free(p), free(g), free(m), free(v), free(drop);
}

int cmd_selfcheck(int argc, char **argv) {
    cli_device_args a;
    int code = cli_parse(&selfcheck_table, argc, argv, &a);
    if (code >= 0) return code;
    vkg_ctx_options opts = cli_ctx_options(a.device, a.validation);
    check c = {.seed = 42};
    c.ctx = vkg_ctx_create(&opts);
    if (!c.ctx) return cli_error("%s", vkg_error());
    c.arena = vkg_arena_create(c.ctx, 8u << 20);
    if (!c.arena) {
        vkg_ctx_destroy(c.ctx);
        return cli_error("%s", vkg_error());
    }
    printf("selfcheck on %s\n", vkg_ctx_device(c.ctx)->name);
    convolutions(&c, 0);
    convolutions(&c, 1);
    layers(&c);
    optimizer_and_rng(&c);
    int validation = vkg_ctx_validation_count(c.ctx);
    vkg_arena_destroy(c.arena);
    vkg_ctx_destroy(c.ctx);
    if (validation) printf("FAIL %d validation message(s)\n", validation);
    printf("selfcheck: %s\n", c.failures || validation ? "FAILED"
                                                       : "all kernels agree with the "
                                                         "reference");
    return c.failures || validation ? 1 : 0;
}
