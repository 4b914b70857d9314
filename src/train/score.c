/* vkgan score: the quality numbers of vkgan train for a checkpoint or a set of images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>

#include "train/quality.h"
#include "train/sampler.h"
#include "vkgan/data.h"
#include "vkgan/error.h"
#include "vkgan/score.h"

#define BORDER 2 /* of vkgan's PNG grids (src/io/png_grid.c) */

/* The largest batch up to 256 that divides n. */
static int batch_for(int n) {
    for (int b = n < 256 ? n : 256; b > 1; b--)
        if (n % b == 0) return b;
    return 1;
}

/* A vkgan grid PNG cut into its h x w tiles (trailing all-black tiles, a grid's unused places,
 * left out, unless all are black); *images is malloc'd NCHW in [-1, 1]. */
static int read_grid(const char *path, int c, int h, int w, float **images, int *n) {
    int gw, gh, got;
    FILE *f = vkg_open_regular(path);
    if (!f) return -1;
    unsigned char *px = stbi_load_from_file(f, &gw, &gh, &got, c);
    fclose(f);
    if (!px) return vkg_set_error("%s: cannot read the image (%s)", path, stbi_failure_reason());
    int cols = (gw - BORDER) / (w + BORDER), rows = (gh - BORDER) / (h + BORDER);
    if (cols < 1 || rows < 1 || cols * (w + BORDER) + BORDER != gw ||
        rows * (h + BORDER) + BORDER != gh) {
        stbi_image_free(px);
        return vkg_set_error("%s: %dx%d pixels is not a vkgan grid of %dx%d images (2-pixel "
                             "borders)",
                             path, gw, gh, w, h);
    }
    size_t each = (size_t)c * h * w;
    *images = malloc(sizeof(float) * each * (size_t)cols * rows);
    if (!*images) {
        stbi_image_free(px);
        return vkg_set_error("out of host memory");
    }
    *n = 0;
    int last = 0; /* tiles up to the last one that is not all black */
    for (int i = 0; i < cols * rows; i++) {
        int x0 = BORDER + (i % cols) * (w + BORDER), y0 = BORDER + (i / cols) * (h + BORDER);
        float *img = *images + each * (size_t)i;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    unsigned char v = px[((size_t)(y0 + y) * gw + x0 + x) * c + ch];
                    img[((size_t)ch * h + y) * w + x] = v / 127.5f - 1;
                    if (v) last = i + 1;
                }
    }
    /* a grid of only black tiles is a collapsed G's, scored whole: vkgan writes no empty grid */
    *n = last ? last : cols * rows;
    stbi_image_free(px);
    return 0;
}

/* The images of --images: a directory of images (each resized to the classifier's size) or one
 * grid PNG. */
static int read_images(const char *path, int c, int h, int w, float **images, int *n) {
    struct stat st;
    if (stat(path, &st) != 0) return vkg_set_error("--images %s: no such file or directory", path);
    if (!S_ISDIR(st.st_mode)) return read_grid(path, c, h, w, images, n);
    vkg_dataset d;
    if (vkg_load_folder(path, h, c, &d) < 0) return -1;
    size_t count = (size_t)d.count * c * h * w;
    *images = malloc(sizeof(float) * count);
    if (*images)
        for (size_t i = 0; i < count; i++) (*images)[i] = d.pixels[i] / 127.5f - 1;
    *n = d.count;
    vkg_dataset_free(&d);
    return *images ? 0 : vkg_set_error("out of host memory");
}

/* Generated images of a checkpoint (and their classes when conditional). */
static int checkpoint_images(vkg_ctx *ctx, const vkg_score_options *o, const char **classifier,
                             float **images, float **labels, int *n, int shape[5]) {
    vkg_safetensors *st = vkg_safetensors_read(o->checkpoint);
    if (!st) return -1;
    vkg_train_options to;
    int r = vkg_sampler_read_setup(st, o->checkpoint, &to, shape);
    if (r < 0) {
        vkg_safetensors_free(st);
        return -1;
    }
    if (shape[0]) r = vkg_set_error("%s: a 2D-point model has no images to score", o->checkpoint);
    if (r == 0 && !*classifier) {
        *classifier = quality_default_classifier(to.data);
        if (!*classifier)
            r = vkg_set_error("%s was trained on %s, for which vkgan ships no classifier: pass "
                              "--classifier FILE",
                              o->checkpoint, to.data);
    }
    /* whole training batches, so batch norm sees batches like training's */
    *n = (o->samples + to.batch - 1) / to.batch * to.batch;
    size_t each = (size_t)shape[1] * shape[2] * shape[3];
    *images = r == 0 ? malloc(sizeof(float) * each * (size_t)*n) : NULL;
    *labels = r == 0 && shape[4] ? malloc(sizeof(float) * (size_t)*n) : NULL;
    if (r == 0 && (!*images || (shape[4] && !*labels))) r = vkg_set_error("out of host memory");
    if (r == 0) r = sampler_images(ctx, st, o->checkpoint, &to, shape, *n, o->seed, -1, *images);
    for (int i = 0; r == 0 && shape[4] && i < *n; i++) (*labels)[i] = (float)(i % shape[4]);
    vkg_safetensors_free(st);
    return r;
}

static int score(vkg_ctx *ctx, const vkg_score_options *o, vkg_score_result *res) {
    const char *classifier = o->classifier;
    float *images = NULL, *labels = NULL;
    int n = 0, shape[5] = {0}, r, c, h, w, k;
    if (o->checkpoint) {
        r = checkpoint_images(ctx, o, &classifier, &images, &labels, &n, shape);
    } else {
        if (!classifier) classifier = quality_default_classifier("fashion-mnist");
        r = vkg_classifier_peek(classifier, &c, &h, &w, &k, NULL);
        if (r == 0) r = read_images(o->images, c, h, w, &images, &n);
        shape[1] = c, shape[2] = h, shape[3] = w;
        if (r == 0 && n < 2)
            r = vkg_set_error("--images %s: %d image%s, FCD needs 2 or more", o->images, n,
                              n == 1 ? "" : "s");
    }
    quality q = {0};
    quality_numbers out;
    if (r == 0)
        r = quality_open(&q, ctx, classifier, shape[1], shape[2], shape[3], shape[4], batch_for(n));
    if (r == 0) r = quality_of_images(&q, images, labels, n, &out);
    if (r == 0)
        *res = (vkg_score_result){.n = n,
                                  .classifier = classifier,
                                  .fcd = out.fcd,
                                  .entropy = out.entropy,
                                  .real_entropy = q.real.entropy,
                                  .diversity = out.diversity,
                                  .real_diversity = q.real.diversity,
                                  .accuracy = out.accuracy};
    quality_close(&q);
    free(images);
    free(labels);
    return r;
}

int vkg_score(const vkg_score_options *o, vkg_score_result *out) {
    memset(out, 0, sizeof *out);
    if (!o->checkpoint == !o->images)
        return vkg_set_error("vkgan score needs exactly one of --checkpoint PATH and --images "
                             "DIR|GRID.png");
    vkg_ctx_options copts = {.device = o->device, .validation = o->validation ? 1 : -1, .quiet = 1};
    vkg_ctx *ctx = vkg_ctx_create(&copts);
    int r = ctx ? score(ctx, o, out) : -1;
    if (r == 0 && o->validation && vkg_ctx_validation_count(ctx) > 0)
        r = vkg_set_error("validation messages were reported");
    vkg_ctx_destroy(ctx);
    return r < 0 ? -1 : 0;
}
