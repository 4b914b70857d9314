/* G alone, rebuilt from a checkpoint of vkgan train: vkg_sampler (include/vkgan/rundir.h), used
 * by vkgan sample, vkgan score and vkgan view; and the images it makes on the host. */
#ifndef VKGAN_TRAIN_SAMPLER_H
#define VKGAN_TRAIN_SAMPLER_H

#include "vkgan/rundir.h"

/* n generated images (or 2D points) on the host: batches of the training batch size drawn for
 * `seed`, with classes all `cls` or i % classes (cls < 0) for a conditional model. */
int sampler_images(vkg_ctx *ctx, const vkg_safetensors *st, const char *path,
                   const vkg_train_options *o, const int shape[5], int n, unsigned seed, int cls,
                   float *images);

#endif
