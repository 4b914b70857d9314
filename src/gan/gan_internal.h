/* Shared by the files of the GAN (src/gan/gan.c, the step; src/gan/gan_observe.c, what observers
 * read of it): the random streams and G's generation recording. Private to src/gan. */
#ifndef VKGAN_GAN_INTERNAL_H
#define VKGAN_GAN_INTERNAL_H

#include "vkgan/gan.h"

/* Random streams: what each draw is for, so no two share bits. */
enum {
    STREAM_Z = 1001,
    STREAM_Z_SAMPLE,
    STREAM_Z_FIXED,
    STREAM_LABELS_REAL,
    STREAM_LABELS_FAKE,
    STREAM_NOISE_REAL,
    STREAM_NOISE_FAKE,
    STREAM_FAKE_CLASSES,
    STREAM_Z_REFERENCE,
    STREAM_Z_PREVIEW,
    STREAM_Z_EVAL,
    STREAM_G_DROPOUT = 2001, /* + layer index */
};

/* Records G on z (with the EMA weights when on), then its images copied into `copy` (may be
 * NULL), and ends the recording. */
int gan_record_generate_into(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z,
                             const vkg_tensor *copy);

#endif
