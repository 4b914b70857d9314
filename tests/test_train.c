/* vkgan train end to end, in-process with validation on: a short Fashion-MNIST run with every
 * output file checked, checkpoint rotation, and bit-exact resume of a whole run (with the
 * stabilisation options on). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image.h>

#include "check.h"
#include "vkgan/data.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/train.h"

/* Options for a tiny run in the test's directory: `name` below it, validation on, quiet. */
static vkg_train_options tiny(const char *data, const char *name, int steps) {
    vkg_train_options o;
    vkg_train_defaults(&o);
    snprintf(o.data, sizeof o.data, "%s", data);
    snprintf(o.out, sizeof o.out, "%s/%s", test_tmpdir(), name);
    o.steps = steps, o.batch = 16, o.g_width = 4, o.d_width = 6, o.latent = 8;
    o.mlp_hidden = 16;
    o.validation = 1, o.quiet = 1;
    return o;
}

/* A PNG's pixels (test memory), or NULL; its size in w, h. */
static unsigned char *png_pixels(const char *path, int *w, int *h) {
    int c;
    unsigned char *p = stbi_load(path, w, h, &c, 1);
    if (!p) return NULL;
    unsigned char *copy = test_alloc((size_t)*w * *h);
    memcpy(copy, p, (size_t)*w * *h);
    stbi_image_free(p);
    return copy;
}

static int file_exists(const char *dir, const char *name) {
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, R_OK) == 0;
}

TEST(train_fashion_mnist_short_run) {
    CHECK(access(VKG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0,
          "Fashion-MNIST is not installed: tools/setup.sh installs dataset-fashion-mnist");
    vkg_train_options o = tiny("fashion-mnist", "run", 40);
    o.sample_every = 20, o.log_every = 10, o.checkpoint_every = 10, o.keep = 2;
    CHECK(test_train(&o, NULL, 0) == VKG_TRAIN_DONE, "the run failed: %s", vkg_error());
    const char *dir = o.out;
    const char *files[] = {"config.json",
                           "metrics.jsonl",
                           "metrics.csv",
                           "reals.png",
                           "samples/step-000000000.png",
                           "samples/step-000000020.png",
                           "samples/step-000000040.png",
                           "checkpoints/step-000000030.safetensors",
                           "checkpoints/step-000000040.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        CHECK(file_exists(dir, files[i]), "%s/%s is missing", dir, files[i]);
    CHECK(!file_exists(dir, "checkpoints/step-000000020.safetensors"),
          "--keep 2 kept an older checkpoint");

    char path[4300];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *config = cJSON_Parse(test_read_text(path));
    CHECK(config, "config.json does not parse");
    const cJSON *opts = cJSON_GetObjectItem(config, "options");
    const cJSON *device = cJSON_GetObjectItem(config, "device");
    int ok = cJSON_GetObjectItem(opts, "g-width") &&
             cJSON_GetObjectItem(opts, "g-width")->valuedouble == 4 &&
             cJSON_IsString(cJSON_GetObjectItem(device, "name"));
    cJSON_Delete(config);
    CHECK(ok, "config.json lacks the resolved options or the device");

    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *text = test_read_text(path);
    int lines = 0, checks = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *m = cJSON_Parse(line);
        CHECK(m, "metrics line %d does not parse: %s", lines, line);
        const cJSON *fcd = cJSON_GetObjectItem(m, "fcd"); /* quality checks: at 0 and the end */
        if (fcd) {
            int step = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "step"));
            CHECK(cJSON_IsNumber(fcd) && fcd->valuedouble > 0 && step == 40 * checks++,
                  "quality line %d: %s", checks, line);
            cJSON_Delete(m);
            lines--;
            continue;
        }
        double v[5];
        const char *keys[5] = {"loss_d", "loss_g", "d_x", "d_g_z", "images_per_s"};
        for (int k = 0; k < 5; k++) v[k] = cJSON_GetNumberValue(cJSON_GetObjectItem(m, keys[k]));
        int step = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "step"));
        cJSON_Delete(m);
        CHECK(step == 10 * (lines + 1), "metrics line %d has step %d", lines, step);
        CHECK(isfinite(v[0]) && isfinite(v[1]) && v[0] > 0 && v[1] > 0, "losses %g %g", v[0], v[1]);
        CHECK(v[2] > 0 && v[2] < 1 && v[3] > 0 && v[3] < 1, "D(x) %g, D(G(z)) %g", v[2], v[3]);
        CHECK(v[4] > 0, "images/s %g", v[4]);
    }
    CHECK(lines == 4 && checks == 2,
          "metrics.jsonl has %d lines and %d quality checks, want 4 and 2", lines, checks);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    text = test_read_text(path);
    const char *header = "step,epoch,seconds,images_per_s,loss_d,loss_g,d_x,d_g_z,";
    CHECK(strncmp(text, header, strlen(header)) == 0, "metrics.csv header: %.60s", text);
    lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    CHECK(lines == 5, "metrics.csv has %d lines, want a header and 4", lines);

    int w0, h0, w1, h1, wr, hr;
    snprintf(path, sizeof path, "%s/samples/step-000000000.png", dir);
    unsigned char *first = png_pixels(path, &w0, &h0);
    snprintf(path, sizeof path, "%s/samples/step-000000040.png", dir);
    unsigned char *last = png_pixels(path, &w1, &h1);
    snprintf(path, sizeof path, "%s/reals.png", dir);
    unsigned char *reals = png_pixels(path, &wr, &hr);
    CHECK(first && last && reals, "a PNG does not decode");
    /* 16 samples in 8 columns: 2 rows of 28 pixels with 2-pixel borders */
    CHECK(w0 == 8 * 30 + 2 && h0 == 2 * 30 + 2 && w1 == w0 && h1 == h0, "grid %dx%d", w0, h0);
    CHECK(wr == 8 * 30 + 2 && hr == 8 * 30 + 2, "reals.png is %dx%d, want 64 images", wr, hr);
    long changed = 0;
    for (int i = 0; i < w0 * h0; i++) changed += abs(first[i] - last[i]) > 8;
    CHECK(changed > w0 * h0 / 20, "only %ld pixels changed between the first and last grid",
          changed);
}

/* The tensors and counters a bit-exact resume must restore, in a ring8 run with every option. */
static const char *const resumed_tensors[] = {
    "G.0.weight", "G.0.weight.exp_avg",    "G.0.weight.ema", "G.2.bias.hist_avg",
    "D.5.bias",   "D.2.weight.exp_avg_sq", "fixed_z"};
static const char *const resumed_keys[] = {"step", "batches_drawn", "G.adam", "D.adam"};

/* ring8 with every option that changes the step: 24 steps straight equal 12, a resume, 12
 * more, bit for bit (weights, moments, EMA, historical averages, counters); the metrics log of
 * the resumed run is cut back to the checkpoint and continues. */
TEST(train_resume_is_bit_exact) {
    vkg_train_options base = tiny("ring8", "straight", 24);
    base.d_steps = 2, base.soft_labels = 1, base.flip_labels = 0.05, base.instance_noise = 0.1;
    base.noise_steps = 20; /* else it follows --steps, which differs between the two runs */
    base.ema = 0.9, base.hist_avg = 0.01, base.lr_d = 1e-3, base.lr_g = 5e-4;
    base.feature_matching = 1, base.minibatch_stddev = 1;
    base.log_every = 5, base.sample_every = 12, base.checkpoint_every = 12;
    vkg_train_options straight = base, half = base, resumed;
    CHECK(test_train(&straight, NULL, 0) == VKG_TRAIN_DONE, "the straight run failed");
    snprintf(half.out, sizeof half.out, "%s/halves", test_tmpdir());
    half.steps = 14; /* checkpoints at 12 and 14: resume from 14 */
    CHECK(test_train(&half, NULL, 0) == VKG_TRAIN_DONE, "the first half failed");
    char ckpt[4300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/step-000000014.safetensors", half.out);
    CHECK(unlink(ckpt) == 0, "no checkpoint at step 14"); /* as if it crashed after step 14 */
    vkg_train_defaults(&resumed);
    snprintf(resumed.resume, sizeof resumed.resume, "%s", half.out);
    resumed.steps = 24, resumed.validation = 1, resumed.quiet = 1;
    CHECK(test_train(&resumed, NULL, 0) == VKG_TRAIN_DONE, "the resumed run failed");

    char a[4300], b[4300], why[200];
    snprintf(a, sizeof a, "%s/checkpoints/step-000000024.safetensors", straight.out);
    snprintf(b, sizeof b, "%s/checkpoints/step-000000024.safetensors", half.out);
    CHECK(test_same_tensors(a, b, resumed_tensors, 7, resumed_keys, 4, why, sizeof why),
          "straight and resumed runs: %s", why);
    snprintf(a, sizeof a, "%s/metrics.csv", straight.out);
    snprintf(b, sizeof b, "%s/metrics.csv", half.out);
    char *sa = test_read_text(a), *sb = test_read_text(b);
    int la = 0, lb = 0;
    for (char *p = sa; *p; p++) la += *p == '\n';
    for (char *p = sb; *p; p++) lb += *p == '\n';
    CHECK(la == lb && la == 1 + 5, "metrics.csv lines: straight %d, resumed %d", la, lb);
    /* the resumed log continues at the right steps after the cut */
    CHECK(strstr(sb, "\n10,") && strstr(sb, "\n15,") && strstr(sb, "\n24,"),
          "resumed metrics steps: %s", sb);
}

/* Every option at once on a tiny DCGAN (validation on): the run finishes, its losses are
 * finite and a sample can be drawn from its checkpoint with the EMA weights. */
TEST(train_dcgan_with_every_option) {
    CHECK(access(VKG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0,
          "Fashion-MNIST is not installed: tools/setup.sh installs dataset-fashion-mnist");
    vkg_train_options o = tiny("fashion-mnist", "all", 6);
    o.d_steps = 2, o.label_smoothing = 0.9, o.flip_labels = 0.05, o.instance_noise = 0.1;
    o.g_dropout = 0.5, o.g_leaky = 1, o.d_avg_pool = 1, o.minibatch_stddev = 1;
    o.feature_matching = 1, o.hist_avg = 0.01, o.ema = 0.99, o.log_every = 3;
    o.conditional = 1, o.virtual_bn = 1;
    CHECK(test_train(&o, NULL, 0) == VKG_TRAIN_DONE, "the run failed: %s", vkg_error());
    char ckpt[4300], png[4300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/step-000000006.safetensors", o.out);
    snprintf(png, sizeof png, "%s/sample.png", test_tmpdir());
    int w, h;
    /* one row per class: 10 rows of 2 */
    CHECK(vkg_sample_run(ckpt, 20, png, 4, -1, NULL, 1) == 0, "vkgan sample failed");
    CHECK(png_pixels(png, &w, &h) && w == 2 * 30 + 2 && h == 10 * 30 + 2, "grid %dx%d", w, h);
    /* one class: a 3 x 3 grid */
    CHECK(vkg_sample_run(ckpt, 9, png, 4, 3, NULL, 1) == 0, "vkgan sample --class 3 failed");
    CHECK(png_pixels(png, &w, &h) && w == 3 * 30 + 2 && h == w, "grid %dx%d", w, h);
    CHECK(vkg_sample_run(ckpt, 9, png, 4, 10, NULL, 1) < 0 && strstr(vkg_error(), "--class 10"),
          "--class 10 of 10 accepted (%s)", vkg_error());
    /* the run's own grids: 16 samples, classes 0-9, one row of 1 per class */
    snprintf(png, sizeof png, "%s/samples/step-000000006.png", o.out);
    CHECK(png_pixels(png, &w, &h) && w == 1 * 30 + 2 && h == 10 * 30 + 2, "run grid %dx%d", w, h);
}
