/* Step-for-step parity with PyTorch (llm.c's check): tools/pytorch_parity.py ran vkgan's GAN
 * step in PyTorch from drawn weights and inputs and dumped everything to
 * tests/parity/NAME.safetensors; here vkgan gets the same weights and inputs (through the test seam
 * vkg_gan_config.external_inputs), runs the same 3 steps and must give the same losses and D
 * outputs (1e-5 relative) and, after every step, the same gradients, weights, Adam moments,
 * batch-norm running statistics, EMA and historical averages (1e-4 of the tensor's largest
 * magnitude), on both code paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gan/slots.h"
#include "train/run.h"
#include "vkgan/gan.h"
#include "vkgan/io.h"

#define MAX_SLOTS (2 * 2 * VKG_MAX_LAYERS * 8)

typedef struct fixture {
    const char *name, *path;
    vkg_safetensors *st;
} fixture;

static const char *meta(const fixture *f, const char *key) {
    const char *v = vkg_safetensors_meta(f->st, key);
    if (!v) test_fail(__FILE__, __LINE__, "%s: metadata %s is missing", f->path, key);
    return v ? v : "0";
}

static double meta_num(const fixture *f, const char *key) {
    return atof(meta(f, key));
}

/* A fixture tensor copied to aligned test memory with its element count, or NULL (failing the
 * test) when it is missing or holds another count than `want` (0: any). */
static float *tensor(const fixture *f, const char *name, size_t want, size_t *count) {
    int ndim;
    int64_t shape[4];
    const void *data = vkg_safetensors_get(f->st, name, VKG_F32, &ndim, shape);
    size_t n = 1;
    for (int i = 0; data && i < ndim; i++) n *= (size_t)shape[i];
    if (!data || (want && n != want)) {
        test_fail(__FILE__, __LINE__, "%s: tensor %s is missing or holds %zu values, not %zu",
                  f->path, name, data ? n : 0, want);
        return NULL;
    }
    float *copy = test_alloc(n * sizeof(float));
    memcpy(copy, data, n * sizeof(float));
    if (count) *count = n;
    return copy;
}

/* The models and config of the fixture, built as `vkgan train` builds them (run_build_layers). */
static int make_gan(const fixture *f, vkg_ctx *ctx, vkg_gan *gan) {
    vkg_train_options o;
    vkg_train_defaults(&o);
    int points = strcmp(meta(f, "model"), "mlp") == 0;
    int channels = points ? 2 : (int)meta_num(f, "channels");
    int size = points ? 1 : (int)meta_num(f, "image_size");
    o.image_size = size, o.latent = (int)meta_num(f, "latent");
    o.g_width = (int)meta_num(f, "g_width"), o.d_width = (int)meta_num(f, "d_width");
    o.mlp_hidden = (int)meta_num(f, "mlp_hidden"), o.mlp_depth = (int)meta_num(f, "mlp_depth");
    o.minibatch_stddev = (int)meta_num(f, "minibatch_stddev");
    const char *bias = vkg_safetensors_meta(f->st, "bias"); /* fixtures before --bias lack it */
    o.bias = bias ? atoi(bias) : 0;
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    int ng, nd;
    if (run_build_layers(&o, points, channels, g, &ng, d, &nd) < 0) return -1;
    vkg_gan_config c = {.batch = (int)meta_num(f, "batch"),
                        .latent = o.latent,
                        .lr_d = (float)meta_num(f, "lr_d"),
                        .lr_g = (float)meta_num(f, "lr_g"),
                        .beta1 = (float)meta_num(f, "beta1"),
                        .beta2 = (float)meta_num(f, "beta2"),
                        .seed = (uint32_t)meta_num(f, "seed"),
                        .d_steps = (int)meta_num(f, "d_steps"),
                        .ema = (float)meta_num(f, "ema"),
                        .hist_avg = (float)meta_num(f, "hist_avg"),
                        .classes = (int)meta_num(f, "classes"),
                        .feature_matching = (int)meta_num(f, "feature_matching"),
                        .external_inputs = 1};
    float t = (float)meta_num(f, "real_target");
    if (t != 1.0f) /* one-sided label smoothing, as vkgan train sets it */
        c.real_labels = (vkg_label_noise){t, t, 0, 0, 0},
        c.fake_labels = (vkg_label_noise){0, 0, t, t, 0};
    /* a stand-in dataset of one batch (the seam replaces the gather) */
    size_t row = (size_t)channels * size * size;
    void *rows = test_alloc(row * (size_t)c.batch * sizeof(float));
    int32_t *labels = c.classes ? test_alloc(sizeof(int32_t) * (size_t)c.batch) : NULL;
    vkg_gan_data data = {rows, !points, c.batch, channels, size, size, labels};
    return vkg_gan_create(ctx, test_arena(ctx), g, ng, d, nd, &data, &c, gan);
}

/* Every tensor of both models the fixture holds after a step (twins: the gradient, Adam's
 * moments, the EMA, the historical averages) under vkgan's checkpoint names, D's first (its step
 * comes first, so the first difference reported is the nearest to its cause). */
static int gan_slots(const vkg_gan *gan, slot *s) {
    twin_range g[5] = {
        {"grad", &gan->g.grads}, {"exp_avg", &gan->g.adam_m}, {"exp_avg_sq", &gan->g.adam_v}};
    twin_range d[4] = {
        {"grad", &gan->d.grads}, {"exp_avg", &gan->d.adam_m}, {"exp_avg_sq", &gan->d.adam_v}};
    int ng = 3, nd = 3;
    if (gan->config.ema > 0) g[ng++] = (twin_range){"ema", &gan->ema};
    if (gan->config.hist_avg > 0)
        g[ng++] = (twin_range){"hist_avg", &gan->g_hist},
        d[nd++] = (twin_range){"hist_avg", &gan->d_hist};
    return slots_model(&gan->g, "G", g, ng, s, slots_model(&gan->d, "D", d, nd, s, 0));
}

/* The initial weights (and running statistics) from "init.*"; the EMA starts at G's weights, as
 * vkgan's own start leaves it (the historical averages start at 0 there too). */
static int load_init(const fixture *f, vkg_gan *gan) {
    slot s[MAX_SLOTS];
    int n = slots_model(&gan->d, "D", NULL, 0, s, slots_model(&gan->g, "G", NULL, 0, s, 0));
    for (int i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "init.%.64s", s[i].name);
        float *v = tensor(f, name, vkg_tensor_count(&s[i].view), NULL);
        if (!v || vkg_tensor_upload(gan->ctx, &s[i].view, v) < 0) return -1;
    }
    if (gan->config.ema > 0 && vkg_gan_wait(gan) == 0) {
        float *g = test_alloc(sizeof(float) * gan->g.param_count);
        if (vkg_tensor_download(gan->ctx, &gan->g.params, g) < 0 ||
            vkg_tensor_upload(gan->ctx, &gan->ema, g) < 0)
            return -1;
    }
    return 0;
}

/* |got - want| <= tol * max |want| over the tensor; on failure names the worst element. */
static int tensor_matches(const char *what, const float *got, const float *want, size_t n,
                          double tol) {
    double scale = 0, worst = -1;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= worst)) worst = err, at = i; /* NaN counts as worst */
    }
    if (n && !(worst <= tol * scale)) {
        test_fail(__FILE__, __LINE__,
                  "%s: worst element [%zu] got %.9g want %.9g: off by %.3g, over %.0e of the "
                  "largest magnitude %.3g",
                  what, at, got[at], want[at], worst, tol, scale);
        return 0;
    }
    return 1;
}

/* One tensor after step k against the fixture's "s<k>.<name>". */
static int slot_matches(const fixture *f, const vkg_gan *gan, int k, const slot *s,
                        const char *path_name) {
    char name[128], what[256];
    size_t count = vkg_tensor_count(&s->view);
    float *got = download_tensor(gan->ctx, &s->view);
    snprintf(name, sizeof name, "s%d.%.64s", k, s->name);
    float *want = tensor(f, name, count, NULL);
    snprintf(what, sizeof what, "%.32s (%.16s) step %d: %.64s", f->name, path_name, k, s->name);
    return got && want && tensor_matches(what, got, want, count, 1e-4);
}

static const char *const loss_names[VKG_LOSSES] = {"loss_d_real", "D(x)",
                                                   "loss_d_fake", "D(G(z)) in the D step",
                                                   "loss_g",      "D(G(z)) in the G step"};

/* Feeds step k's inputs, runs it, compares the scalars and every tensor. */
static int check_step(const fixture *f, vkg_gan *gan, int k, const char *path_name) {
    const vkg_gan_config *c = &gan->config;
    size_t rows = (size_t)c->batch * (size_t)(c->d_steps > 1 ? c->d_steps : 1);
    char name[128];
    float *in[4] = {NULL};
    const char *inputs[4] = {"real", "z", "real_labels", "fake_labels"};
    size_t want[4] = {rows * vkg_tensor_count(&gan->real) / (size_t)c->batch,
                      rows * (size_t)c->latent, rows, rows};
    for (int i = 0; i < (c->classes ? 4 : 2); i++) {
        snprintf(name, sizeof name, "s%d.%s", k, inputs[i]);
        if (!(in[i] = tensor(f, name, want[i], NULL))) return -1;
    }
    float losses[VKG_LOSSES];
    if (vkg_gan_set_inputs(gan, in[0], in[1], in[2], in[3]) < 0 || vkg_gan_train(gan, 1) < 0 ||
        vkg_gan_losses(gan, losses) < 0) {
        test_fail(__FILE__, __LINE__, "%s step %d: %s", f->name, k, vkg_error());
        return -1;
    }
    slot s[MAX_SLOTS];
    int n = gan_slots(gan, s);
    for (int grads = 1; grads >= 0; grads--) /* the gradients first: the nearest to a cause */
        for (int i = 0; i < n; i++) {
            const char *dot = strrchr(s[i].name, '.');
            if (grads == (dot && strcmp(dot, ".grad") == 0) &&
                !slot_matches(f, gan, k, &s[i], path_name))
                return -1;
        }
    snprintf(name, sizeof name, "s%d.losses", k);
    float *ref = tensor(f, name, VKG_LOSSES, NULL);
    if (!ref) return -1;
    for (int i = 0; i < VKG_LOSSES; i++)
        if (!(fabs(losses[i] - ref[i]) <= 1e-5 * fabs(ref[i]))) {
            test_fail(__FILE__, __LINE__, "%s (%s) step %d: %s is %.9g, PyTorch's %.9g", f->name,
                      path_name, k, loss_names[i], losses[i], ref[i]);
            return -1;
        }
    return 0;
}

static void run_fixture(const char *name, vkg_ctx *ctx, const char *path_name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/parity/%s.safetensors", VKGAN_SOURCE_DIR, name);
    fixture f = {name, path, vkg_safetensors_read(path)};
    CHECK(f.st, "%s (tools/pytorch_parity.py writes it)", vkg_error());
    vkg_gan gan;
    int made = 0;
    const char *format = vkg_safetensors_meta(f.st, "format");
    if (!format || strcmp(format, "vkgan-parity-1") != 0)
        test_fail(__FILE__, __LINE__, "%s: not a parity fixture (format %s)", path,
                  format ? format : "missing");
    else if (make_gan(&f, ctx, &gan) < 0)
        test_fail(__FILE__, __LINE__, "%s: building the GAN: %s", path, vkg_error());
    else
        made = 1;
    if (made && !test_failed() && load_init(&f, &gan) < 0 && !test_failed())
        test_fail(__FILE__, __LINE__, "%s: loading the initial weights: %s", path, vkg_error());
    int steps = test_failed() ? 0 : (int)meta_num(&f, "steps");
    for (int k = 1; k <= steps && !test_failed(); k++) check_step(&f, &gan, k, path_name);
    if (made) vkg_gan_destroy(&gan);
    vkg_safetensors_free(f.st);
}

static void run_both(const char *name) {
    run_fixture(name, test_ctx(), "main path");
    if (!test_failed()) run_fixture(name, test_ctx_alternate(), "alternate path");
}

TEST(parity_dcgan28) {
    run_both("dcgan28");
}
TEST(parity_dcgan32) {
    run_both("dcgan32");
}
TEST(parity_dcgan64) {
    run_both("dcgan64");
}
TEST(parity_mlp_2d) {
    run_both("ring8");
}
TEST(parity_label_smoothing) {
    run_both("label_smoothing");
}
TEST(parity_feature_matching) {
    run_both("feature_matching");
}
TEST(parity_minibatch_stddev) {
    run_both("minibatch_stddev");
}
TEST(parity_historical_averaging) {
    run_both("hist_avg");
}
TEST(parity_ema) {
    run_both("ema");
}
TEST(parity_conditional) {
    run_both("conditional");
}
TEST(parity_d_steps_2) {
    run_both("d_steps2");
}
TEST(parity_bias) {
    run_both("bias");
}
