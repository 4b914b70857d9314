/* vkgan GANs: a generator and a discriminator and one training step recorded once and replayed.
 * The step follows the DCGAN recipe: D trained on an all-real and an all-fake batch separately
 * (batch statistics never mix them), then G trained through the updated D on the same fake
 * batch with flipped labels (the non-saturating loss), BCE with logits, Adam on each: the
 * order of PyTorch's DCGAN example. The GPU advances its own step counter,
 * which keys z and every other random draw and places the real batch in a shuffled epoch order,
 * so replays need no host writes. */
#ifndef VKGAN_GAN_H
#define VKGAN_GAN_H

#include "vkgan/model.h"

typedef struct vkg_gan_config {
    int batch, latent;
    float lr_d, lr_g, beta1, beta2;
    uint32_t seed;
} vkg_gan_config;

/* Scalars of the last step, in the order of the GPU loss buffer. */
enum { VKG_LOSS_D_REAL, VKG_DX, VKG_LOSS_D_FAKE, VKG_DGZ_D, VKG_LOSS_G, VKG_DGZ_G, VKG_LOSSES };

typedef struct vkg_gan {
    vkg_ctx *ctx;
    vkg_gan_config config;
    vkg_model g, d;
    vkg_tensor data; /* the whole dataset, [rows, c, h, w] in [-1, 1] */
    vkg_tensor z, real, real_targets, fake_targets, dlogits, dfake;
    vkg_tensor counters;  /* [0]: the training step */
    vkg_tensor losses[3]; /* (loss, mean sigmoid) of D real, D fake, G */
    vkg_rec *step[2];     /* one training step, recorded twice: the host submits them in turn and
                           * waits only for the one from two submissions ago */
    unsigned submitted;
    vkg_rec *sample; /* G on fresh z, for evaluation */
} vkg_gan;

/* Builds both models, uploads the dataset (rows of c x h x w floats) and records the step.
 * g maps [batch, latent] to the data's shape; d maps that shape to one logit. */
int vkg_gan_create(vkg_ctx *ctx, vkg_arena *arena, const vkg_layer_spec *g, int g_layers,
                   const vkg_layer_spec *d, int d_layers, const float *data, int rows, int c, int h,
                   int w, const vkg_gan_config *config, vkg_gan *out);
void vkg_gan_destroy(vkg_gan *gan);
/* Waits until every submitted step has finished. */
int vkg_gan_wait(vkg_gan *gan);
/* Runs `steps` training steps (submitted back to back) and waits for them. */
int vkg_gan_train(vkg_gan *gan, int steps);
/* The scalars of the last completed step. */
int vkg_gan_losses(vkg_gan *gan, float losses[VKG_LOSSES]);
/* Writes a checkpoint (safetensors, atomically): every layer's weights and biases as
 * "G.<layer>.weight" / ".bias" (batch norm: gamma and beta) with Adam's "exp_avg" and
 * "exp_avg_sq" beside them, batch-norm running statistics, and in the metadata the step, Adam's
 * hyperparameters and step for each model, the seed, batch and latent size. */
int vkg_gan_save(vkg_gan *gan, const char *path);
/* Restores a checkpoint into a GAN built with the same layers; any missing tensor or other shape
 * is an error naming it (a checkpoint from another model). Training then goes on exactly. */
int vkg_gan_load(vkg_gan *gan, const char *path);

/* Generates one batch from fresh z (draw `index` of the evaluation stream) into out. */
int vkg_gan_sample(vkg_gan *gan, uint32_t index, float *out);

#endif
