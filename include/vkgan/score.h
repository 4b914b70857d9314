/* The FCD classifier's tools of the trainer library: vkgan score (the quality numbers vkgan train
 * logs, for a checkpoint's samples or a set of images) and vkgan train-classifier (the
 * classifier itself, trained with vkgan's kernels). Neither prints: numbers are returned and
 * progress is told to a callback; errors are -1 with vkg_error(). */
#ifndef VKGAN_SCORE_H
#define VKGAN_SCORE_H

typedef struct vkg_score_options {
    const char *checkpoint, *images; /* exactly one: a checkpoint of vkgan train (`samples`
                                      * generated samples, EMA weights when kept), or a
                                      * directory of images / a vkgan grid PNG */
    const char *classifier;          /* NULL: the shipped one for the checkpoint's data
                                      * (Fashion-MNIST for images) */
    const char *device;              /* index or part of a name; NULL: the first */
    int samples, validation;         /* validation: the layer on, its messages an error */
    unsigned seed;                   /* of the samples' latent vectors */
} vkg_score_options;

typedef struct vkg_score_result {
    int n;                            /* samples scored (whole training batches from a
                                       * checkpoint); 0 until the numbers are known */
    const char *classifier;           /* the classifier file used (the options' or the shipped
                                       * one; lives as long as the options) */
    double fcd;                       /* Frechet Classifier Distance to the real test set */
    double entropy, real_entropy;     /* of the predicted classes, nats */
    double diversity, real_diversity; /* mean squared feature distance of two examples */
    double accuracy;                  /* conditional checkpoint: share classified as their class;
                                       * else -1 */
} vkg_score_result;

/* Scores a checkpoint's samples or a set of images. 0 with *out filled, or -1 with vkg_error();
 * when only the validation layer's report failed, out->n > 0 and the numbers are filled. */
int vkg_score(const vkg_score_options *o, vkg_score_result *out);

typedef struct vkg_classifier_train_options {
    const char *data, *out, *device; /* data: fashion-mnist or mnist:DIR (with a test split);
                                      * out: the classifier file to write */
    const char *init;                /* start from this classifier file's weights (NULL: fresh) */
    const char *command;             /* stored in the file's metadata (the command line) */
    double lr;                       /* Adam's rate in the first epoch; it halves each epoch */
    int epochs, batch, seed, validation;
} vkg_classifier_train_options;

/* What vkg_classifier_train tells its callback, in this order: DEVICE once (the device is
 * open), START once (the data is loaded), STEP every 100 steps and at the last, TESTED once
 * (before the file is written). */
typedef enum vkg_classifier_stage {
    VKG_CLASSIFIER_DEVICE,
    VKG_CLASSIFIER_START,
    VKG_CLASSIFIER_STEP,
    VKG_CLASSIFIER_TESTED,
} vkg_classifier_stage;

typedef struct vkg_classifier_progress {
    vkg_classifier_stage stage;
    const char *device, *device_type; /* the device's name and type ("cpu": a software one) */
    const char *data_name;            /* START: the training split's name */
    int count, classes;               /* START: its images and classes; TESTED: count is the
                                       * test images scored */
    int epochs, steps_per_epoch, batch;
    int step, total_steps;        /* STEP: the step (1-based) of total_steps */
    double epoch;                 /* STEP: step / steps_per_epoch */
    double loss, accuracy;        /* STEP: means over the steps since the last (accuracy a
                                   * share of 1); TESTED: accuracy on the test split */
    double entropy;               /* TESTED: class entropy of the predictions, nats */
    double images_per_s, seconds; /* since the start of training */
} vkg_classifier_progress;
typedef void (*vkg_classifier_progress_fn)(void *user, const vkg_classifier_progress *p);

/* Trains a classifier on the data's training split, evaluates it on the test split (whose
 * statistics it stores for FCD) and writes it to o->out atomically. progress may be NULL.
 * 0, or -1 with vkg_error(). */
int vkg_classifier_train(const vkg_classifier_train_options *o, vkg_classifier_progress_fn progress,
                         void *user);

#endif
