/* The FCD classifier: its layers, training and evaluation recordings, statistics and file. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gan/slots.h"
#include "vkgan/classifier.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

#define FEATURE_LAYER 8 /* the ReLU after the penultimate dense layer */
#define FORMAT "vkgan-classifier-1"
#define MAX_SIDE 1024 /* pixels a side of the input */

static int layers(int classes, vkg_layer_spec *L) {
    vkg_conv down = {4, 2, 1};
    int n = 0;
    for (int width = 16; width <= 32; width *= 2) {
        L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_CONV, .out = width, .conv = down};
        L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_BATCHNORM};
        L[n++] =
            (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f};
    }
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_DENSE, .out = VKG_CLASSIFIER_FEATURES};
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_BATCHNORM};
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION, .act = VKG_RELU};
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_DENSE, .out = classes, .bias = 1};
    return n;
}

int vkg_classifier_create(vkg_ctx *ctx, vkg_arena *arena, int c, int h, int w, int classes,
                          int batch, vkg_classifier *cls) {
    memset(cls, 0, sizeof *cls);
    if (h < 8 || w < 8 || c < 1 || c > 4)
        return vkg_set_error("classifier: %dx%dx%d images (at least 8x8, 1 to 4 channels)", c, h,
                             w);
    if (classes < 2 || classes > VKG_SOFTMAX_MAX_CLASSES)
        return vkg_set_error("classifier: %d classes (2 to %d)", classes, VKG_SOFTMAX_MAX_CLASSES);
    vkg_layer_spec L[16];
    int n = layers(classes, L), f = VKG_CLASSIFIER_FEATURES;
    *cls = (vkg_classifier){.ctx = ctx, .c = c, .h = h, .w = w, .classes = classes, .batch = batch};
    if (vkg_model_create(arena, L, n, batch, c, h, w, &cls->m) < 0 ||
        vkg_tensor_alloc(arena, batch, 1, 1, 1, &cls->labels) < 0 ||
        vkg_tensor_alloc(arena, batch, classes, 1, 1, &cls->dlogits) < 0 ||
        vkg_tensor_alloc(arena, 1, 2 + classes, 1, 1, &cls->scores) < 0 ||
        vkg_tensor_alloc(arena, 1, f, 1, 1, &cls->feat_sum) < 0 ||
        vkg_tensor_alloc(arena, f, f, 1, 1, &cls->feat_gram) < 0)
        return -1;
    vkg_adam_hyper adam = {1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0, 0};
    return vkg_model_set_adam(ctx, &cls->m, &adam);
}

int vkg_classifier_record_train(vkg_rec *rec, vkg_classifier *cls, const vkg_tensor *images) {
    int r = vkg_model_forward(rec, &cls->m, images, VKG_BN_TRAIN);
    r |= vkg_softmax_xent(rec, vkg_model_output(&cls->m), &cls->labels.buf, &cls->scores.buf,
                          &cls->dlogits, 1, 0);
    r |= vkg_model_backward(rec, &cls->m, images, &cls->dlogits, NULL, 1, 0, VKG_BN_TRAIN);
    return r | vkg_model_adam(rec, &cls->m);
}

int vkg_classifier_record_eval(vkg_rec *rec, vkg_classifier *cls, const vkg_tensor *images,
                               const vkg_buf *labels, int accumulate) {
    const vkg_tensor *f = &cls->m.layers[FEATURE_LAYER].out;
    int r = vkg_model_forward(rec, &cls->m, images, VKG_BN_EVAL);
    r |= vkg_softmax_xent(rec, vkg_model_output(&cls->m), labels, &cls->scores.buf, NULL, 1,
                          accumulate);
    r |= vkg_channel_sum(rec, f, &cls->feat_sum, 1, accumulate);
    /* sum_n f_n f_n^T is the weight gradient of a dense layer with x = dy = f */
    return r | vkg_dense_backward_weight(rec, f, f, &cls->feat_gram, accumulate);
}

/* Diversity: the expected squared distance between two independent samples' features,
 * E|x - y|^2 = 2 trace(cov). A variance below 0 is rounding (the float Gram matrix less n mean^2
 * cancels when the features barely vary) and counts as 0, so no spread reads as about 0, never
 * below. */
static double diversity_of(const double *cov, int f) {
    double d = 0;
    for (int i = 0; i < f; i++) d += 2 * fmax(cov[i * f + i], 0);
    return d;
}

int vkg_classifier_read_stats(vkg_classifier *cls, int n, int labelled, vkg_class_stats *s) {
    int f = VKG_CLASSIFIER_FEATURES, k = cls->classes;
    float scores[2 + 64], sum[VKG_CLASSIFIER_FEATURES];
    float *gram = malloc(sizeof(float) * f * f);
    if (!gram) return vkg_set_error("out of host memory");
    int rc = vkg_tensor_download(cls->ctx, &cls->scores, scores);
    if (rc == 0) rc = vkg_tensor_download(cls->ctx, &cls->feat_sum, sum);
    if (rc == 0) rc = vkg_tensor_download(cls->ctx, &cls->feat_gram, gram);
    memset(s, 0, sizeof *s);
    s->n = n, s->features = f, s->classes = k;
    for (int i = 0; rc == 0 && i < f; i++) s->mean[i] = sum[i] / (double)n;
    for (int i = 0; rc == 0 && i < f; i++)
        for (int j = 0; j < f; j++)
            s->cov[i * f + j] =
                (gram[i * f + j] - n * s->mean[i] * s->mean[j]) / (n > 1 ? n - 1.0 : 1.0);
    s->diversity = diversity_of(s->cov, f);
    if (labelled) s->loss = scores[0] / n, s->accuracy = scores[1] / n;
    for (int j = 0; j < k; j++) s->hist[j] = scores[2 + j] / n;
    s->entropy = vkg_entropy(s->hist, k);
    free(gram);
    return rc;
}

/* ---- the file: weights, running statistics, the real statistics in double as two floats ---- */

int vkg_classifier_save(vkg_classifier *cls, const char *path, const vkg_class_stats *real,
                        const char *const (*meta)[2], int meta_count) {
    enum { MAX = 64, MAX_META = 24 };
    slot s[MAX];
    vkg_st_tensor t[MAX + 2];
    float *data[MAX] = {0};
    int n = slots_model(&cls->m, "C", NULL, 0, s, 0), f = VKG_CLASSIFIER_FEATURES;
    if (meta_count > MAX_META - 8) return vkg_set_error("classifier file: too much metadata");
    int rc = slots_download(cls->ctx, s, n, t, data);
    float *stats = malloc(sizeof(float) * (size_t)(f + f * f));
    if (rc == 0 && !stats) rc = vkg_set_error("out of host memory");
    if (rc == 0) {
        for (int i = 0; i < f; i++) stats[i] = (float)real->mean[i];
        for (int i = 0; i < f * f; i++) stats[f + i] = (float)real->cov[i];
        t[n] = (vkg_st_tensor){"real.mean", VKG_F32, 1, {f}, stats};
        t[n + 1] = (vkg_st_tensor){"real.cov", VKG_F32, 2, {f, f}, stats + f};
        char v[6][64];
        snprintf(v[0], 64, "%d %d %d", cls->c, cls->h, cls->w);
        snprintf(v[1], 64, "%d", cls->classes);
        snprintf(v[2], 64, "%d", real->n);
        snprintf(v[3], 64, "%.6f", real->accuracy);
        snprintf(v[4], 64, "%.9g", real->entropy);
        snprintf(v[5], 64, "%.9g", real->loss);
        vkg_st_meta m[MAX_META] = {{"format", FORMAT},      {"input", v[0]},
                                   {"classes", v[1]},       {"real.count", v[2]},
                                   {"real.accuracy", v[3]}, {"real.entropy", v[4]},
                                   {"real.loss", v[5]},     {"features", "64"}};
        for (int i = 0; i < meta_count; i++) m[8 + i] = (vkg_st_meta){meta[i][0], meta[i][1]};
        rc = vkg_safetensors_write(path, t, n + 2, m, 8 + meta_count);
    }
    for (int i = 0; i < n; i++) free(data[i]);
    free(stats);
    return rc;
}

static vkg_safetensors *open_file(const char *path) {
    vkg_safetensors *st = vkg_safetensors_read(path);
    const char *format = st ? vkg_safetensors_meta(st, "format") : NULL;
    if (st && (!format || strcmp(format, FORMAT) != 0)) {
        vkg_set_error("%s: not a vkgan classifier (metadata format is %s)", path,
                      format ? format : "missing");
        vkg_safetensors_free(st);
        return NULL;
    }
    return st;
}

/* n integers separated by single spaces, nothing else, each in lo..hi; 0 or -1 (no message). */
static int parse_ints(const char *text, int n, long lo, long hi, int *v) {
    for (int i = 0; i < n; i++) {
        if (i > 0 && *text++ != ' ') return -1;
        if (*text != '-' && (*text < '0' || *text > '9')) return -1;
        char *end;
        errno = 0;
        long x = strtol(text, &end, 10);
        if (errno || x < lo || x > hi) return -1;
        v[i] = (int)x, text = end;
    }
    return *text ? -1 : 0;
}

/* A metadata number in lo..hi (absent: 0). */
static int parse_real(const char *text, double lo, double hi, double *v) {
    char *end;
    *v = text ? strtod(text, &end) : 0;
    return !text || (*text && !*end && isfinite(*v) && *v >= lo && *v <= hi) ? 0 : -1;
}

/* The file's shape and statistics, every number checked before anything is sized by it. */
static int peek(vkg_safetensors *st, const char *path, int *c, int *h, int *w, int *classes,
                vkg_class_stats *real) {
    const char *input = vkg_safetensors_meta(st, "input"), *k = vkg_safetensors_meta(st, "classes");
    const char *count = vkg_safetensors_meta(st, "real.count");
    int f = VKG_CLASSIFIER_FEATURES, nd1, nd2, chw[3], n;
    int64_t s1[4], s2[4];
    const float *mean = vkg_safetensors_get(st, "real.mean", VKG_F32, &nd1, s1);
    const float *cov = vkg_safetensors_get(st, "real.cov", VKG_F32, &nd2, s2);
    if (!input || !k || !count || !mean || !cov)
        return vkg_set_error("%s: a classifier file without its input shape, classes or real "
                             "statistics",
                             path);
    if (parse_ints(input, 3, 1, MAX_SIDE, chw) < 0 || (chw[0] != 1 && chw[0] != 3) || chw[1] < 8 ||
        chw[2] < 8)
        return vkg_set_error("%s: metadata input is not 'C H W' for 1 or 3 channels of 8..%d "
                             "pixels a side",
                             path, MAX_SIDE);
    if (parse_ints(k, 1, 2, VKG_SOFTMAX_MAX_CLASSES, classes) < 0)
        return vkg_set_error("%s: metadata classes is not a whole number from 2 to %d", path,
                             VKG_SOFTMAX_MAX_CLASSES);
    if (parse_ints(count, 1, 1, INT_MAX, &n) < 0)
        return vkg_set_error("%s: metadata real.count is not a whole number from 1 to 2^31-1",
                             path);
    if (nd1 != 1 || s1[0] != f || nd2 != 2 || s2[0] != f || s2[1] != f)
        return vkg_set_error("%s: real.mean and real.cov are not of %d and %dx%d values", path, f,
                             f, f);
    *c = chw[0], *h = chw[1], *w = chw[2];
    if (!real) return 0;
    memset(real, 0, sizeof *real);
    real->n = n, real->features = f, real->classes = *classes;
    for (int i = 0; i < f + f * f; i++) {
        float v;
        memcpy(&v, i < f ? mean + i : cov + (i - f), sizeof v); /* the bytes may be unaligned */
        if (!isfinite(v))
            return vkg_set_error("%s: %s holds a value that is not finite", path,
                                 i < f ? "real.mean" : "real.cov");
        if (i < f)
            real->mean[i] = v;
        else
            real->cov[i - f] = v;
    }
    real->diversity = diversity_of(real->cov, f);
    if (parse_real(vkg_safetensors_meta(st, "real.accuracy"), 0, 1, &real->accuracy) < 0)
        return vkg_set_error("%s: metadata real.accuracy is not a number from 0 to 1", path);
    if (parse_real(vkg_safetensors_meta(st, "real.entropy"), 0, log(*classes) + 1e-3,
                   &real->entropy) < 0)
        return vkg_set_error("%s: metadata real.entropy is not a number from 0 to log(classes)",
                             path);
    return 0;
}

int vkg_classifier_peek(const char *path, int *c, int *h, int *w, int *classes,
                        vkg_class_stats *real) {
    vkg_safetensors *st = open_file(path);
    if (!st) return -1;
    int rc = peek(st, path, c, h, w, classes, real);
    vkg_safetensors_free(st);
    return rc;
}

int vkg_classifier_load(vkg_classifier *cls, const char *path) {
    vkg_safetensors *st = open_file(path);
    if (!st) return -1;
    slot s[64];
    int n = slots_model(&cls->m, "C", NULL, 0, s, 0);
    int rc = slots_upload(cls->ctx, st, s, n, path);
    vkg_safetensors_free(st);
    return rc;
}
