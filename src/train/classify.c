/* vkgan train-classifier: the FCD classifier trained with vkgan's kernels on the GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/classify.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"
#include "vkgan/score.h"

int image_set_upload(vkg_ctx *ctx, vkg_arena *arena, const vkg_dataset *d, image_set *out) {
    size_t each = (size_t)d->channels * d->height * d->width;
    if (!d->pixels || !d->labels || d->classes < 2)
        return vkg_set_error("%s: not a labelled image set", d->name);
    out->count = d->count;
    float *labels = malloc(sizeof(float) * (size_t)d->count);
    if (!labels) return vkg_set_error("out of host memory");
    for (int i = 0; i < d->count; i++) labels[i] = (float)d->labels[i];
    /* u8 rows are gathered as whole 32-bit words: pad the range to a multiple of 4 bytes */
    int rc = vkg_arena_alloc(arena, (each * d->count + 3) / 4 * 4, &out->pixels);
    if (rc == 0) rc = vkg_arena_alloc(arena, sizeof(float) * (size_t)d->count, &out->labels);
    if (rc == 0) rc = vkg_upload(ctx, &out->pixels, d->pixels, each * d->count);
    if (rc == 0) rc = vkg_upload(ctx, &out->labels, labels, sizeof(float) * (size_t)d->count);
    free(labels);
    return rc;
}

/* Batch `step` of the set's shuffled order into images (and labels). */
static int gather(vkg_rec *rec, const vkg_rng *rng, const image_set *set, const vkg_tensor *images,
                  const vkg_tensor *labels) {
    int r = vkg_gather_epoch_batch(rec, rng, &set->pixels, 1, set->count, images);
    return r | (labels ? vkg_gather_epoch_batch(rec, rng, &set->labels, 0, set->count, labels) : 0);
}

int classify_set(vkg_classifier *cls, vkg_arena *arena, const image_set *set, int labelled,
                 vkg_class_stats *out) {
    int chunks = set->count / cls->batch;
    if (chunks < 1)
        return vkg_set_error("%d examples: fewer than one batch of %d", set->count, cls->batch);
    vkg_tensor images;
    if (vkg_tensor_alloc(arena, cls->batch, cls->c, cls->h, cls->w, &images) < 0) return -1;
    vkg_rec *rec = vkg_rec_begin(cls->ctx, 0);
    int r = rec ? 0 : -1;
    for (int k = 0; r == 0 && k < chunks; k++) {
        vkg_rng rng = {.seed = 12345, .step_base = (uint32_t)k};
        r |= gather(rec, &rng, set, &images, labelled ? &cls->labels : NULL);
        r |= vkg_classifier_record_eval(rec, cls, &images, labelled ? &cls->labels.buf : NULL,
                                        k > 0);
    }
    if (r == 0) r = vkg_rec_end(rec);
    if (r == 0) r = vkg_rec_run(rec);
    vkg_rec_destroy(rec);
    return r < 0 ? -1 : vkg_classifier_read_stats(cls, chunks * cls->batch, labelled, out);
}

static void tell(vkg_classifier_progress_fn progress, void *user,
                 const vkg_classifier_progress *p) {
    if (progress) progress(user, p);
}

/* The checks before the device: the data's two splits (train_set, test_set) and the --init
 * file, which must take the data's images and classes. */
static int load(const vkg_classifier_train_options *o, vkg_dataset *train_set,
                vkg_dataset *test_set) {
    if (vkg_dataset_load(o->data, 64, 1, (uint64_t)o->seed, train_set) < 0 ||
        vkg_dataset_load_test(o->data, test_set) < 0)
        return -1;
    if (!train_set->pixels || train_set->classes < 2)
        return vkg_set_error("--data %s: a classifier needs labelled images", o->data);
    int c, h, w, classes;
    vkg_class_stats real;
    if (o->init && vkg_classifier_peek(o->init, &c, &h, &w, &classes, &real) < 0)
        return vkg_set_error("--init %s", vkg_error());
    if (o->init && (c != train_set->channels || h != train_set->height || w != train_set->width ||
                    classes != train_set->classes))
        return vkg_set_error("--init %s: a classifier of %dx%dx%d images and %d classes, the data "
                             "%s has %dx%dx%d and %d",
                             o->init, c, h, w, classes, o->data, train_set->channels,
                             train_set->height, train_set->width, train_set->classes);
    return 0;
}

static int train(vkg_ctx *ctx, const vkg_classifier_train_options *o, vkg_dataset train_set,
                 vkg_dataset test_set, vkg_classifier_progress_fn progress, void *user) {
    vkg_arena *arena = NULL;
    vkg_rec *step = NULL;
    int rc = -1;
    vkg_classifier cls;
    image_set train_gpu, test_gpu;
    vkg_tensor images, counter;
    if (!(arena = vkg_arena_create(ctx, 0)) ||
        vkg_classifier_create(ctx, arena, train_set.channels, train_set.height, train_set.width,
                              train_set.classes, o->batch, &cls) < 0 ||
        image_set_upload(ctx, arena, &train_set, &train_gpu) < 0 ||
        image_set_upload(ctx, arena, &test_set, &test_gpu) < 0 ||
        vkg_tensor_alloc(arena, o->batch, cls.c, cls.h, cls.w, &images) < 0 ||
        vkg_tensor_alloc(arena, 1, 4, 1, 1, &counter) < 0 || !(step = vkg_rec_begin(ctx, 0)))
        goto done;
    /* the step: counter + 1, gather batch (counter - 1) of the epoch order, train */
    vkg_rng rng = {.seed = (uint32_t)o->seed, .step_base = (uint32_t)-1, .counters = &counter.buf};
    vkg_rec *init = vkg_rec_begin(ctx, 0);
    if (!init) goto done;
    vkg_rec_fill(init, &counter.buf, 0);
    int r = vkg_model_init(init, &cls.m, (uint32_t)o->seed);
    r |= vkg_rec_end(init);
    r |= vkg_rec_run(init);
    vkg_rec_destroy(init);
    if (r == 0 && o->init && vkg_classifier_load(&cls, o->init) < 0) goto done;
    r |= vkg_counter_add(step, &counter.buf, 0, 1);
    r |= gather(step, &rng, &train_gpu, &images, &cls.labels);
    r |= vkg_classifier_record_train(step, &cls, &images);
    if (r || vkg_rec_end(step) < 0) goto done;
    int per_epoch = train_set.count / o->batch, total = per_epoch * o->epochs;
    double start = vkg_now(), loss = 0, correct = 0;
    vkg_classifier_progress p = {.stage = VKG_CLASSIFIER_START,
                                 .device = vkg_ctx_device(ctx)->name,
                                 .device_type = vkg_ctx_device(ctx)->type,
                                 .data_name = train_set.name,
                                 .count = train_set.count,
                                 .classes = train_set.classes,
                                 .epochs = o->epochs,
                                 .steps_per_epoch = per_epoch,
                                 .batch = o->batch,
                                 .total_steps = total};
    tell(progress, user, &p);
    for (int s = 1; s <= total; s++) {
        if (s % per_epoch == 1 || per_epoch == 1) /* Adam's rate halves each epoch */
            if (vkg_model_set_lr(ctx, &cls.m, (float)o->lr / (float)(1 << ((s - 1) / per_epoch))) <
                0)
                goto done;
        float scores[2];
        vkg_buf first = cls.scores.buf;
        first.size = sizeof scores;
        if (vkg_rec_run(step) < 0 || vkg_download(ctx, &first, scores, sizeof scores) < 0)
            goto done;
        loss += scores[0], correct += scores[1];
        if (s % 100 == 0 || s == total) {
            int n = s % 100 ? s % 100 : 100;
            p.stage = VKG_CLASSIFIER_STEP, p.step = s, p.epoch = (double)s / per_epoch;
            p.loss = loss / (n * o->batch), p.accuracy = correct / (n * o->batch);
            p.seconds = vkg_now() - start, p.images_per_s = s * (double)o->batch / p.seconds;
            tell(progress, user, &p);
            loss = correct = 0;
        }
    }
    vkg_class_stats test;
    if (classify_set(&cls, arena, &test_gpu, 1, &test) < 0) goto done;
    p.stage = VKG_CLASSIFIER_TESTED, p.count = test.n, p.accuracy = test.accuracy;
    p.entropy = test.entropy, p.seconds = vkg_now() - start;
    tell(progress, user, &p);
    char epochs[16], seconds[32];
    snprintf(epochs, sizeof epochs, "%d", o->epochs);
    snprintf(seconds, sizeof seconds, "%.0f", vkg_now() - start);
    const char *const meta[5][2] = {{"data", o->data},
                                    {"epochs", epochs},
                                    {"seconds", seconds},
                                    {"device", vkg_ctx_device(ctx)->name},
                                    {"command", o->command ? o->command : ""}};
    if (vkg_classifier_save(&cls, o->out, &test, meta, 5) < 0) goto done;
    rc = 0;
done:
    vkg_rec_destroy(step);
    vkg_arena_destroy(arena);
    return rc;
}

int vkg_classifier_train(const vkg_classifier_train_options *o, vkg_classifier_progress_fn progress,
                         void *user) {
    /* quiet: the software device's note is the caller's (the DEVICE stage) */
    vkg_ctx_options copts = {.device = o->device, .validation = o->validation ? 1 : -1, .quiet = 1};
    vkg_dataset train_set = {0}, test_set = {0};
    vkg_ctx *ctx = load(o, &train_set, &test_set) < 0 ? NULL : vkg_ctx_create(&copts);
    if (ctx)
        tell(progress, user,
             &(vkg_classifier_progress){.stage = VKG_CLASSIFIER_DEVICE,
                                        .device = vkg_ctx_device(ctx)->name,
                                        .device_type = vkg_ctx_device(ctx)->type});
    int rc = ctx ? train(ctx, o, train_set, test_set, progress, user) : -1;
    if (rc == 0 && o->validation && vkg_ctx_validation_count(ctx) > 0)
        rc = vkg_set_error("validation messages were reported");
    vkg_ctx_destroy(ctx);
    vkg_dataset_free(&train_set);
    vkg_dataset_free(&test_set);
    return rc < 0 ? -1 : 0;
}
