/* vkgan train-classifier and the evaluation of labelled image sets with a classifier. */
#ifndef VKGAN_TRAIN_CLASSIFY_H
#define VKGAN_TRAIN_CLASSIFY_H

#include "vkgan/classifier.h"
#include "vkgan/data.h"

/* A labelled image set on the GPU: bytes (scaled to [-1, 1] when gathered) and float labels. */
typedef struct image_set {
    vkg_buf pixels, labels;
    int count;
} image_set;
int image_set_upload(vkg_ctx *ctx, vkg_arena *arena, const vkg_dataset *d, image_set *out);

/* Statistics of a set under the classifier: its first floor(count / batch) * batch examples in
 * a fixed shuffled order (all of them when the batch divides the count). */
int classify_set(vkg_classifier *cls, vkg_arena *arena, const image_set *set, int labelled,
                 vkg_class_stats *out);

typedef struct classify_options {
    const char *data, *out, *device;
    const char *init; /* start from this classifier file's weights (NULL: fresh) */
    double lr;        /* Adam's rate in the first epoch; it halves each epoch */
    int epochs, batch, seed, validation;
} classify_options;
/* Trains a classifier on the data's training split, evaluates it on the test split (whose
 * statistics it stores for FCD) and writes it. Returns the exit code. */
int classify_train_run(const classify_options *o, const char *command);

#endif
