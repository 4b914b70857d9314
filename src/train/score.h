/* vkgan score: FCD, class entropy, diversity (and class accuracy) of a checkpoint's samples or
 * of a set of images, with an FCD classifier. */
#ifndef VKGAN_TRAIN_SCORE_H
#define VKGAN_TRAIN_SCORE_H

typedef struct score_options {
    const char *checkpoint, *images; /* one of the two */
    const char *classifier;          /* NULL: the shipped one for the data */
    const char *device;
    int samples, validation;
    unsigned seed;
} score_options;

/* Prints the numbers; returns the exit code (errors printed). */
int vkg_score_run(const score_options *o);

#endif
