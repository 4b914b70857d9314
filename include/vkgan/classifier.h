/* vkgan's image classifier and the Fréchet Classifier Distance (FCD). A small CNN trained with
 * vkgan's own kernels; its penultimate layer's features give the statistics that FCD compares
 * (mean and covariance, as Inception features do for FID). FCD is not Inception FID: it is
 * comparable only between runs scored with the same classifier file. */
#ifndef VKGAN_CLASSIFIER_H
#define VKGAN_CLASSIFIER_H

#include "vkgan/model.h"

#define VKG_CLASSIFIER_FEATURES 64

typedef struct vkg_classifier {
    vkg_ctx *ctx;
    vkg_model m;
    int c, h, w, classes, batch;
    vkg_tensor labels;    /* [batch] floats: the batch's classes (training, accuracy) */
    vkg_tensor dlogits;   /* [batch, classes] */
    vkg_tensor scores;    /* [2 + classes]: summed loss, correct rows, predicted-class histogram */
    vkg_tensor feat_sum;  /* [features]: sum over examples of the features */
    vkg_tensor feat_gram; /* [features, features]: sum over examples of f f^T */
} vkg_classifier;

/* What a classifier file holds besides the weights: the statistics of the real test set. */
typedef struct vkg_class_stats {
    int n, features, classes;
    double mean[VKG_CLASSIFIER_FEATURES];
    double cov[VKG_CLASSIFIER_FEATURES * VKG_CLASSIFIER_FEATURES];
    double loss, accuracy; /* mean cross-entropy and accuracy (when labels were given) */
    double hist[64];       /* predicted-class fractions */
    double entropy;        /* of hist, in nats (log(classes) when every class is equally often) */
    double diversity;      /* mean squared distance between two examples' features: 2 tr(cov) */
} vkg_class_stats;

/* Builds the classifier for c x h x w images (h, w >= 8) and `classes` classes (2..64), run on
 * batches of `batch`: conv 4x4/2 (16) BN LReLU, conv 4x4/2 (32) BN LReLU, dense 64 BN ReLU (the
 * features), dense classes. */
int vkg_classifier_create(vkg_ctx *ctx, vkg_arena *arena, int c, int h, int w, int classes,
                          int batch, vkg_classifier *out);
/* One training step on `images` (the batch) with cls->labels: forward with batch statistics,
 * softmax cross-entropy into cls->scores, backward, Adam. */
int vkg_classifier_record_train(vkg_rec *rec, vkg_classifier *cls, const vkg_tensor *images);
/* Evaluation of one batch (running batch-norm statistics): the scores (with `labels`, may be
 * NULL) and the feature sums, added to what they hold when `accumulate` is set. */
int vkg_classifier_record_eval(vkg_rec *rec, vkg_classifier *cls, const vkg_tensor *images,
                               const vkg_buf *labels, int accumulate);
/* Reads the sums of n evaluated examples into statistics (mean, covariance, accuracy, ...). */
int vkg_classifier_read_stats(vkg_classifier *cls, int n, int labelled, vkg_class_stats *out);

/* Writes the weights, the real statistics and `meta` pairs to a safetensors file (atomically). */
int vkg_classifier_save(vkg_classifier *cls, const char *path, const vkg_class_stats *real,
                        const char *const (*meta)[2], int meta_count);
/* Reads a classifier file's shape (input c x h x w, classes) and real statistics. */
int vkg_classifier_peek(const char *path, int *c, int *h, int *w, int *classes,
                        vkg_class_stats *real);
/* Loads the weights into a classifier built with the file's shape. */
int vkg_classifier_load(vkg_classifier *cls, const char *path);

/* Fréchet distance between two Gaussians N(m1, c1) and N(m2, c2) of dimension d:
 * |m1 - m2|^2 + tr(c1 + c2 - 2 (c1 c2)^(1/2)), in double precision (symmetric eigensolver). */
double vkg_frechet_distance(int d, const double *m1, const double *c1, const double *m2,
                            const double *c2);
/* Entropy (nats) of a histogram of fractions. */
double vkg_entropy(const double *p, int n);

#endif
