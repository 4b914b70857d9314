/* Shared by vkgan train and vkgan sample: the models of a run's options. */
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

#endif
