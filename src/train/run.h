/* Shared by vkgan train and vkgan sample. */
#ifndef VKGAN_TRAIN_RUN_H
#define VKGAN_TRAIN_RUN_H

#include "vkgan/dcgan.h"
#include "vkgan/gan.h"
#include "vkgan/train.h"

/* G's and D's layers for resolved options: MLPs for 2D points, else the DCGAN pair. */
int run_build_layers(const vkg_train_options *o, int points, int channels, vkg_layer_spec *g,
                     int *ng, vkg_layer_spec *d, int *nd);
/* The number of classes the models are conditioned on (0 when they are not). */
int run_classes(const vkg_train_options *o, int dataset_classes);

/* Writes n generated images as a PNG grid: with classes > 0 (example i of class i % classes)
 * one row per class of up to 8 examples, else `cols` columns. */
int run_write_grid(const char *path, const float *images, int n, int classes, int c, int h, int w,
                   int cols);

#endif
