/* Sample quality under the FCD classifier (see quality.h). */
#include <stdio.h>
#include <string.h>

#include "train/quality.h"
#include "vkgan/error.h"

const char *quality_default_classifier(const char *data) {
    return strcmp(data, "fashion-mnist") == 0 ? VKGAN_ASSETS_DIR
               "/fashion-mnist-classifier.safetensors"
                                              : NULL;
}

int quality_check_file(const char *path, int c, int h, int w, int classes, vkg_class_stats *real) {
    int fc, fh, fw, fk;
    if (vkg_classifier_peek(path, &fc, &fh, &fw, &fk, real) < 0) return -1;
    if (fc != c || fh != h || fw != w)
        return vkg_set_error("classifier %s takes %dx%dx%d images, these are %dx%dx%d", path, fc,
                             fh, fw, c, h, w);
    if (classes && classes != fk)
        return vkg_set_error("classifier %s has %d classes, the model %d", path, fk, classes);
    return fk;
}

int quality_open(quality *q, vkg_ctx *ctx, const char *path, int c, int h, int w, int classes,
                 int batch) {
    memset(q, 0, sizeof *q);
    q->ctx = ctx;
    int fk = quality_check_file(path, c, h, w, classes, &q->real);
    if (fk < 0) return -1;
    q->labelled = classes > 0;
    if (!(q->arena = vkg_arena_create(ctx, 0)) ||
        vkg_classifier_create(ctx, q->arena, c, h, w, fk, batch, &q->cls) < 0)
        return -1;
    return vkg_classifier_load(&q->cls, path);
}

int quality_record_gan(quality *q, vkg_gan *gan, int samples) {
    q->draws = (samples + gan->config.batch - 1) / gan->config.batch;
    const vkg_buf *labels = q->labelled ? &gan->fixed_labels.buf : NULL;
    int r = (q->rec = vkg_rec_begin(q->ctx, 0)) ? 0 : -1;
    for (int k = 0; r == 0 && k < q->draws; k++) {
        r |= vkg_gan_record_generate(q->rec, gan, (uint32_t)k);
        r |= vkg_classifier_record_eval(q->rec, &q->cls, vkg_model_output(&gan->g), labels, k > 0);
    }
    return r < 0 ? -1 : vkg_rec_end(q->rec);
}

static int numbers(quality *q, int n, quality_numbers *out) {
    vkg_class_stats s;
    if (vkg_classifier_read_stats(&q->cls, n, q->labelled, &s) < 0) return -1;
    out->n = n;
    out->fcd =
        vkg_frechet_distance(VKG_CLASSIFIER_FEATURES, s.mean, s.cov, q->real.mean, q->real.cov);
    out->entropy = s.entropy;
    out->diversity = s.diversity;
    out->accuracy = q->labelled ? s.accuracy : -1;
    return 0;
}

int quality_measure(quality *q, quality_numbers *out) {
    if (vkg_rec_run(q->rec) < 0) return -1;
    return numbers(q, q->draws * q->cls.batch, out);
}

int quality_of_images(quality *q, const float *images, const float *labels, int n,
                      quality_numbers *out) {
    int b = q->cls.batch;
    size_t each = (size_t)q->cls.c * q->cls.h * q->cls.w;
    if (n < b || n % b) return vkg_set_error("%d images: not a multiple of the batch %d", n, b);
    vkg_tensor x;
    vkg_rec *rec[2] = {vkg_rec_begin(q->ctx, 0), vkg_rec_begin(q->ctx, 0)};
    int r = rec[0] && rec[1] ? vkg_tensor_alloc(q->arena, b, q->cls.c, q->cls.h, q->cls.w, &x) : -1;
    for (int i = 0; r == 0 && i < 2; i++) /* the first batch sets the sums, the others add */
        r = vkg_classifier_record_eval(rec[i], &q->cls, &x, labels ? &q->cls.labels.buf : NULL, i) <
                    0
                ? -1
                : vkg_rec_end(rec[i]);
    for (int k = 0; r == 0 && k < n / b; k++) {
        r = vkg_upload(q->ctx, &x.buf, images + each * (size_t)k * b, sizeof(float) * each * b);
        if (r == 0 && labels)
            r = vkg_upload(q->ctx, &q->cls.labels.buf, labels + (size_t)k * b, sizeof(float) * b);
        if (r == 0) r = vkg_rec_run(rec[k > 0]);
    }
    vkg_rec_destroy(rec[0]);
    vkg_rec_destroy(rec[1]);
    int saved = q->labelled;
    q->labelled = labels != NULL;
    if (r == 0) r = numbers(q, n, out);
    q->labelled = saved;
    return r;
}

void quality_close(quality *q) {
    vkg_rec_destroy(q->rec);
    vkg_arena_destroy(q->arena);
    q->rec = NULL, q->arena = NULL;
}
