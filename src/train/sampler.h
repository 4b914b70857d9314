/* G alone, rebuilt from a checkpoint of vkgan train (its options and data shape from the
 * metadata, the EMA weights when there are any): used by vkgan sample and vkgan view. */
#ifndef VKGAN_TRAIN_SAMPLER_H
#define VKGAN_TRAIN_SAMPLER_H

#include "vkgan/io.h"
#include "vkgan/model.h"
#include "vkgan/train.h"

/* G at its training batch size (so batch norm sees batches like training's), with its inputs. */
typedef struct sampler {
    vkg_model g;
    vkg_tensor z, z_cat, labels, ref_z, ref_cat, ref_labels, counter;
    int classes;
} sampler;

/* The run's options and data shape (points, channels, height, width, classes) from the
 * checkpoint's metadata. */
int sampler_read_setup(const vkg_safetensors *st, const char *path, vkg_train_options *o,
                       int shape[5]);
/* Builds G in the arena and loads its weights; dropout masks follow `seed` and the counter. */
int sampler_setup(vkg_ctx *ctx, vkg_arena *arena, const vkg_safetensors *st, const char *path,
                  const vkg_train_options *o, const int shape[5], unsigned seed, sampler *s);
/* Records one batch: z drawn for the counter's value (when draw_z; else z as uploaded), the
 * classes, the virtual-BN reference pass when there is one, G. Ends the recording. */
int sampler_record(vkg_rec *rec, sampler *s, unsigned seed, int draw_z);
/* Uploads the labels of examples first .. first + n - 1: all `cls`, or i % classes. */
int sampler_labels(vkg_ctx *ctx, const vkg_tensor *t, int first, int classes, int cls);

/* n generated images (or 2D points) on the host: batches of the training batch size drawn for
 * `seed`, with classes all `cls` or i % classes (cls < 0) for a conditional model. */
int sampler_images(vkg_ctx *ctx, const vkg_safetensors *st, const char *path,
                   const vkg_train_options *o, const int shape[5], int n, unsigned seed, int cls,
                   float *images);

#endif
