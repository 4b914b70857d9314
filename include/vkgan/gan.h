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

struct vkg_safetensors;

/* The training data: `count` rows of c x h x w, bytes 0..255 (u8, scaled to [-1, 1] on the GPU)
 * or floats already in [-1, 1]. Uploaded once; the host copies nothing per step. */
typedef struct vkg_gan_data {
    const void *rows;
    int u8, count, c, h, w;
    const int32_t *labels; /* count labels (class-conditional GANs), or NULL */
} vkg_gan_data;

/* Data-parallel training (vkgan train under mpirun): `ranks` processes each run the step on
 * their share of a global batch of ranks * batch examples, rank r on examples r * batch ..
 * (r + 1) * batch - 1, every random draw keyed by the global example index, and the gradients
 * (with the losses) averaged across the ranks by `sum` before each Adam step. */
typedef struct vkg_gan_ranks {
    int rank, ranks; /* ranks 0 or 1: one process, no host calls in the step */
    int sync_bn;     /* batch norm with the global batch's statistics (vkg_batchnorm.sync) */
    /* sums `count` floats across the ranks in place, in a fixed order (the same result on every
     * rank); 0, or -1 with vkg_error() */
    int (*sum)(void *user, float *values, size_t count);
    void *user;
} vkg_gan_ranks;

typedef struct vkg_gan_config {
    int batch, latent; /* batch: this process's share (the global batch / ranks.ranks) */
    float lr_d, lr_g, beta1, beta2;
    uint32_t seed;
    /* stabilisation; zero leaves each off (the DCGAN recipe) */
    int d_steps; /* D steps per G step (0 counts as 1), each on a fresh real batch and z */
    /* D's targets, drawn each D step (vkg_fill_labels): real_labels all zero means the plain
     * target 1, fake_labels all zero the plain 0. G is always trained towards 1. */
    vkg_label_noise real_labels, fake_labels;
    float noise_sigma; /* instance noise: N(0, sigma^2) added to every input of D, sigma ... */
    int noise_steps;   /* ... decaying linearly from noise_sigma to 0 over this many steps */
    float ema;         /* decay of an exponential moving average of G's weights (samples use it) */
    float hist_avg;    /* historical averaging: lambda ||theta - mean of past theta||^2, G and D */
    int classes;       /* > 0: class-conditional G and D (the labels as one-hot channels of z and
                        * of D's input; G draws uniform classes); 0: unconditional */
    uint64_t max_binding; /* bytes one data binding may hold (0: the device's limit) */
    int feature_matching; /* G minimises the distance between the batch means of D's last hidden
                           * features on real and generated data instead of the BCE loss */
    /* Test seam (tests/test_parity.c), never set by vkgan itself: each D step takes its real
     * batch, z, and when conditional the real batch's labels and G's classes from tensors the
     * host fills with vkg_gan_set_inputs before each step, instead of the GPU's gather and
     * Philox draws (every other draw, e.g. label noise, stays as it is). */
    int external_inputs;
    vkg_gan_ranks ranks;
} vkg_gan_config;

/* Scalars of a step, in the order of the GPU loss buffer. */
enum { VKG_LOSS_D_REAL, VKG_DX, VKG_LOSS_D_FAKE, VKG_DGZ_D, VKG_LOSS_G, VKG_DGZ_G, VKG_LOSSES };

/* Steps whose scalars (and GPU times) are kept for reading after they finish. */
#define VKG_LOSS_RING 64

/* The GPU counters: training steps (G steps), real batches drawn (D steps), evaluation draws. */
enum { VKG_COUNTER_STEP, VKG_COUNTER_BATCH, VKG_COUNTER_SAMPLE, VKG_COUNTER_PREVIEW, VKG_COUNTERS };

typedef struct vkg_gan {
    vkg_ctx *ctx;
    vkg_gan_config config;
    vkg_gan_data shape; /* the data's shape (rows not kept) */
    vkg_model g, d;
    vkg_buf data, data_rest; /* the dataset; rows from data_split on in data_rest when it is
                              * larger than one binding may be */
    int data_split;
    vkg_tensor z, fixed_z, real, real_targets, fake_targets, g_targets, dlogits, dfake;
    vkg_tensor fake_noisy, noise_level;   /* instance noise */
    vkg_tensor ema, g_saved;              /* EMA of G's parameters; G's own while the EMA samples */
    vkg_tensor g_hist, d_hist;            /* historical averages */
    vkg_tensor fm_real, fm_fake, fm_grad; /* feature matching: the means, the gradient */
    /* class conditioning: labels (floats) of the data, the batches and the fixed batch (class
     * i % classes); G's and D's inputs with the one-hot channels; D's gradient on them */
    vkg_buf label_data;
    vkg_tensor real_labels, fake_labels, fixed_labels;
    vkg_tensor z_cat, fixed_z_cat, real_cat, fake_cat, dfake_cat;
    /* virtual batch norm in G: the fixed reference latent batch (with classes i % classes) */
    vkg_tensor ref_z, ref_z_cat;
    /* config.external_inputs: one set of inputs per D step (vkg_gan_set_inputs) */
    vkg_tensor in_real, in_z, in_real_labels, in_fake_labels;
    vkg_tensor counters;  /* VKG_COUNTERS */
    vkg_tensor losses[3]; /* (loss, mean sigmoid) of D real, D fake, G */
    vkg_arena *host;      /* host-visible: the ring of every step's scalars */
    vkg_buf ring;
    const float *ring_map;
    vkg_rec *step[2]; /* one training step, recorded twice: the host submits them in turn and
                       * waits only for the one from two submissions ago */
    unsigned submitted;
    double step_ms[VKG_LOSS_RING];      /* GPU time of step t in [t % VKG_LOSS_RING] (0: unknown) */
    uint32_t step_ms_of[VKG_LOSS_RING]; /* the step each entry is of */
    uint32_t steps;                     /* training steps done (or submitted) */
    uint32_t completed;    /* steps known to have finished (the host has not waited for more) */
    vkg_rec *sample;       /* G on fresh z, for evaluation */
    vkg_rec *sample_fixed; /* G on the fixed latent batch */
    vkg_tensor preview;    /* G's images for the window (vkg_gan_preview) */
    vkg_rec *preview_rec[2];
    int preview_last;    /* the recording of the last preview, -1 before the first */
    vkg_rec *finite_rec; /* vkg_gan_nonfinite */
    vkg_tensor finite_sums[4];
    /* several ranks: the sums across them, the bytes they sum in one step, the global batch
     * of samples */
    vkg_allsum allsum;
    double reduce_bytes;
    vkg_tensor samples;
} vkg_gan;

/* Builds both models, uploads the dataset and records the step. g maps [batch, latent] to the
 * data's shape; d maps that shape to one logit. When G has virtual batch-norm layers, every G
 * forward pass is preceded by a reference pass over a fixed latent batch drawn at the start. */
int vkg_gan_create(vkg_ctx *ctx, vkg_arena *arena, const vkg_layer_spec *g, int g_layers,
                   const vkg_layer_spec *d, int d_layers, const vkg_gan_data *data,
                   const vkg_gan_config *config, vkg_gan *out);
void vkg_gan_destroy(vkg_gan *gan);
/* Waits until every submitted step has finished. */
int vkg_gan_wait(vkg_gan *gan);
/* Submits `steps` training steps back to back; the host waits only for the step two
 * submissions back, so the GPU never idles. */
int vkg_gan_submit(vkg_gan *gan, int steps);
/* Test seam (config.external_inputs set): the inputs of the next step, one set per D step
 * (d_steps sets of `batch` rows, the set of D step k at rows k * batch ..): real
 * [d_steps * batch, c, h, w] (the data's shape, values in [-1, 1]), z [d_steps * batch, latent]
 * (N(0, 1) draws), and for a class-conditional GAN real_labels and fake_labels
 * [d_steps * batch] (class indices as floats; NULL otherwise). Waits for the submitted steps,
 * then uploads; every later step reads these until they are set again. -1 with vkg_error()
 * when the GAN was made without external_inputs or labels are missing. */
int vkg_gan_set_inputs(vkg_gan *gan, const float *real, const float *z, const float *real_labels,
                       const float *fake_labels);
/* Runs `steps` training steps and waits for them. */
int vkg_gan_train(vkg_gan *gan, int steps);
/* The scalars of the last step (waits for it). */
int vkg_gan_losses(vkg_gan *gan, float losses[VKG_LOSSES]);
/* The scalars of a finished step (step <= gan->completed, one of the last VKG_LOSS_RING steps),
 * read in place from host-visible memory: nothing waits. Each submit finishes the step two
 * submissions back, so a caller that reads after every submit reads every step a little
 * later while the GPU keeps running. */
int vkg_gan_step_losses(vkg_gan *gan, uint32_t step, float losses[VKG_LOSSES]);
/* Writes a checkpoint (safetensors, atomically): every layer's weights and biases as
 * "G.<layer>.weight" / ".bias" (batch norm: gamma and beta) with Adam's "exp_avg" and
 * "exp_avg_sq" beside them (and ".ema" / ".hist_avg" when those are on), batch-norm running
 * statistics, the fixed latent batch "fixed_z", and in the metadata the step, the real batches
 * drawn (the data order follows from them and the seed), Adam's state for each model, the seed,
 * batch and latent size, and `extra` pairs (may be NULL). A state holding a NaN or an infinity
 * is never written: VKG_GAN_NONFINITE then, with vkg_error() naming the tensor (nothing on disk
 * changes); -1 on other errors. */
#define VKG_GAN_NONFINITE (-2)
int vkg_gan_save(vkg_gan *gan, const char *path, const char *const (*extra)[2], int extra_count);
/* Restores a checkpoint into a GAN built with the same layers and options; any missing tensor
 * or other shape is an error naming it (a checkpoint from another model). Training then goes
 * on exactly. */
int vkg_gan_load(vkg_gan *gan, const char *path);
/* The same from a file already read (path names it in errors); st stays the caller's. */
int vkg_gan_load_from(vkg_gan *gan, const struct vkg_safetensors *st, const char *path);

/* The GPU time of a finished step (step <= gan->completed, one of the last VKG_LOSS_RING steps)
 * in milliseconds, from the timestamps that follow every dispatch of the step: from the start
 * of the step's command buffer to the end of its last dispatch. -1 with vkg_error() when it is
 * not known (not finished, or too old). */
int vkg_gan_step_ms(vkg_gan *gan, uint32_t step, double *ms);
/* GPU time per kernel of the last completed step: up to max distinct
 * shader names with their total milliseconds and dispatch counts, largest first. */
int vkg_gan_profile(vkg_gan *gan, const char **names, double *ms, int *calls, int max);

/* Queues G on the fixed latent batch (fresh = 0) or on a new random one (fresh = 1) and a copy
 * of its images into gan->preview, for the window to read on the GPU; nothing waits, and
 * training is not changed by it. */
int vkg_gan_preview(vkg_gan *gan, int fresh);
/* GPU milliseconds of the last preview, from its timestamps (-1 while none has finished). */
double vkg_gan_preview_ms(vkg_gan *gan);

/* Records G on draw `draw` of an evaluation latent stream of its own (the same vectors for the
 * same draw, whatever the step), with the EMA weights when on and class i % classes when
 * conditional (gan->fixed_labels), leaving the images in G's output for the commands the caller
 * records next. Training is not changed by it. */
int vkg_gan_record_generate(vkg_rec *rec, vkg_gan *gan, uint32_t draw);
/* Whether G's and D's weights and gradients (those of the last step) are finite: *mask gets
 * bit 0 for G's weights, 1 G's gradients, 2 D's weights, 3 D's gradients (waits for the GPU). */
int vkg_gan_nonfinite(vkg_gan *gan, unsigned *mask);

/* With several ranks (config.ranks) the recordings of vkg_gan_sample and vkg_gan_sample_fixed
 * generate the global batch (ranks * batch examples, as one process would) part by part, and
 * vkg_gan_record_generate's draw counts per-rank batches: draw d is part d % ranks of global
 * draw d / ranks. */
/* Generates one batch from fresh z (draw `index` of the evaluation stream) into out. */
int vkg_gan_sample(vkg_gan *gan, uint32_t index, float *out);
/* Generates the batch of the fixed latent vectors (with the EMA weights when that is on); when
 * conditional, example i is of class i % classes. */
int vkg_gan_sample_fixed(vkg_gan *gan, float *out);

#endif
