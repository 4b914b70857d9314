/* Shared by the files of the GAN (src/gan/gan.c, the step; gan_setup.c, setting it up;
 * gan_observe.c, what observers read of it): the random streams, the recordings. Private to
 * src/gan. */
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

/* The number of ranks the step runs on (1 for one process). */
static inline int gan_ranks(const vkg_gan_config *c) {
    return c->ranks.ranks > 1 ? c->ranks.ranks : 1;
}

/* D steps per G step (0 counts as 1). */
static inline int gan_d_steps(const vkg_gan_config *c) {
    return c->d_steps > 1 ? c->d_steps : 1;
}

/* A draw keyed by the number of real batches drawn so far (advanced at the top of each D step),
 * for this rank's share of the global batch. */
vkg_rng gan_batch_rng(const vkg_gan *gan, uint32_t stream);

/* Records one training step (every D step, the G step, the loss ring) and ends the recording. */
int gan_record_step(vkg_rec *rec, vkg_gan *gan);

/* Records G on z (with the EMA weights when on); with `copy` set, its images are copied there. */
int gan_record_generate_body(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z,
                             const vkg_tensor *copy);

/* Records G on z (with the EMA weights when on), then its images copied into `copy` (may be
 * NULL), and ends the recording. */
int gan_record_generate_into(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z,
                             const vkg_tensor *copy);

#endif
