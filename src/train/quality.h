/* Sample quality under the FCD classifier: FCD against the real test set's statistics, the
 * entropy of the predicted classes, feature diversity and (conditional models) the accuracy of
 * the generated class. Used by vkgan train (every --health-every steps) and vkgan score. */
#ifndef VKGAN_TRAIN_QUALITY_H
#define VKGAN_TRAIN_QUALITY_H

#include "vkgan/classifier.h"
#include "vkgan/gan.h"

typedef struct quality_numbers {
    int n;            /* samples measured */
    double fcd;       /* Fréchet Classifier Distance to the real test set */
    double entropy;   /* of the predicted-class histogram, nats */
    double diversity; /* mean squared feature distance between two samples (2 tr cov) */
    double accuracy;  /* conditional models: samples classified as their class; else -1 */
} quality_numbers;

typedef struct quality {
    vkg_ctx *ctx;
    vkg_arena *arena;
    vkg_classifier cls;
    vkg_class_stats real; /* the test set's, from the file */
    vkg_rec *rec;         /* quality_record_gan */
    int draws, labelled;
} quality;

/* The shipped classifier for a --data spec (assets/), or NULL when there is none. */
const char *quality_default_classifier(const char *data);
/* Whether a classifier file fits c x h x w images (and `classes`, as quality_open): its classes,
 * with its real statistics in *real, or -1 with quality_open's error; the device is not used. */
int quality_check_file(const char *path, int c, int h, int w, int classes, vkg_class_stats *real);
/* Loads a classifier file for c x h x w images (and `classes` > 0: a conditional model's
 * classes, which the classifier's must equal), run on batches of `batch`. 0 or -1 with an error
 * naming the file and what does not fit. */
int quality_open(quality *q, vkg_ctx *ctx, const char *path, int c, int h, int w, int classes,
                 int batch);
/* Records the measurement of `samples` generated images (rounded up to whole batches): G on the
 * same evaluation latent vectors each time, then the classifier. */
int quality_record_gan(quality *q, vkg_gan *gan, int samples);
/* Runs that recording (waits) and computes the numbers. */
int quality_measure(quality *q, quality_numbers *out);
/* The numbers for n images on the host (NCHW floats in [-1, 1]); labels (n floats) or NULL.
 * n must be a multiple of the batch. */
int quality_of_images(quality *q, const float *images, const float *labels, int n,
                      quality_numbers *out);
void quality_close(quality *q);

#endif
