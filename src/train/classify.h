/* The evaluation of labelled image sets with a classifier (vkgan train-classifier,
 * vkg_classifier_train in include/vkgan/score.h, and the tests). */
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

#endif
