/* The model summary vkgan train prints before it starts. */
#ifndef VKGAN_TRAIN_SUMMARY_H
#define VKGAN_TRAIN_SUMMARY_H

#include <stdio.h>

#include "vkgan/model.h"

typedef struct model_totals {
    size_t params;
    double macs; /* forward multiply-adds per example */
} model_totals;

/* Prints one line per layer (kind, output shape, parameters) and fills the totals; -1 with
 * vkg_error() when the layers do not fit the input. f may be NULL (totals only). */
int summary_print(FILE *f, const char *name, const vkg_layer_spec *layers, int count, int c, int h,
                  int w, model_totals *totals);

#endif
