/* The recorded GAN training step (see include/vkgan/gan.h). */
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "gan/gan_internal.h"
#include "vkgan/error.h"
#include "vkgan/gan.h"

/* Each BCE writes (loss, mean sigmoid) to its own aligned pair. */
static const vkg_buf *loss_slot(const vkg_gan *gan, int index) {
    return &gan->losses[index / 2].buf;
}

static int ranks(const vkg_gan_config *c) {
    return c->ranks.ranks > 1 ? c->ranks.ranks : 1;
}

/* A draw keyed by the number of real batches drawn so far (advanced at the top of each D step),
 * for this rank's share of the global batch. */
static vkg_rng batch_rng(const vkg_gan *gan, uint32_t stream) {
    const vkg_gan_config *c = &gan->config;
    return (vkg_rng){.seed = c->seed,
                     .stream = stream,
                     .counters = &gan->counters.buf,
                     .step_index = VKG_COUNTER_BATCH,
                     .first = (uint32_t)(c->ranks.rank * c->batch),
                     .total = (uint32_t)(ranks(c) * c->batch)};
}

/* Several ranks: the ranges are averaged across them (summed in rank order, then scaled) on the
 * host between two parts of the step; nothing with one. */
static int record_average(vkg_rec *rec, vkg_gan *gan, const vkg_buf *const *ranges, int n) {
    int k = ranks(&gan->config);
    return k > 1 ? vkg_allsum_record(rec, &gan->allsum, ranges, n, 1.0f / (float)k) : 0;
}

/* What each reduction point averages: a model's gradients and the losses of its step. */
static int d_cut_ranges(const vkg_gan *gan, const vkg_buf **out) {
    out[0] = &gan->d.grads.buf, out[1] = &gan->losses[0].buf, out[2] = &gan->losses[1].buf;
    return 3;
}
static int g_cut_ranges(const vkg_gan *gan, const vkg_buf **out) {
    out[0] = &gan->g.grads.buf, out[1] = &gan->losses[2].buf;
    return 2;
}

/* G on its input: after a reference pass over the fixed reference batch when G has virtual
 * batch norm (its statistics are those of the current weights). */
static int forward_g(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z, int mode) {
    int r = 0;
    if (vkg_model_has_virtual_bn(&gan->g)) {
        const vkg_tensor *ref = &gan->ref_z;
        if (gan->config.classes) {
            r |= vkg_onehot_concat(rec, &gan->ref_z, &gan->fixed_labels.buf, gan->config.classes,
                                   &gan->ref_z_cat);
            ref = &gan->ref_z_cat;
        }
        r |= vkg_model_forward(rec, &gan->g, ref, VKG_BN_REFERENCE);
    }
    return r | vkg_model_forward(rec, &gan->g, z, mode);
}

static int labels_on(const vkg_gan_config *c) {
    const vkg_label_noise zero = {0};
    return memcmp(&c->real_labels, &zero, sizeof zero) != 0 ||
           memcmp(&c->fake_labels, &zero, sizeof zero) != 0;
}

/* G's batch before conditioning: with instance noise a noisy copy (whose gradient is G's). */
static const vkg_tensor *fake_image(const vkg_gan *gan) {
    return gan->config.noise_sigma > 0 ? &gan->fake_noisy : vkg_model_output(&gan->g);
}

/* What D sees of G's batch and of the real one, and what G reads: with the one-hot class
 * channels when conditional. */
static const vkg_tensor *fake_input(const vkg_gan *gan) {
    return gan->config.classes ? &gan->fake_cat : fake_image(gan);
}
static const vkg_tensor *real_input(const vkg_gan *gan) {
    return gan->config.classes ? &gan->real_cat : &gan->real;
}
static const vkg_tensor *g_input(const vkg_gan *gan) {
    return gan->config.classes ? &gan->z_cat : &gan->z;
}

/* The historical average of a model's parameters moves to include their current value
 * (the counter counts the values from 1), before the step's penalty reads it. */
static int hist_update(vkg_rec *rec, const vkg_gan *gan, const vkg_model *m, const vkg_tensor *avg,
                       uint32_t counter) {
    if (gan->config.hist_avg <= 0) return 0;
    return vkg_param_average(rec, &m->params.buf, &avg->buf, -1, &gan->counters.buf, counter);
}

static int hist_penalty(vkg_rec *rec, const vkg_gan *gan, const vkg_model *m,
                        const vkg_tensor *avg) {
    if (gan->config.hist_avg <= 0) return 0;
    return vkg_average_penalty(rec, &m->params.buf, &avg->buf, gan->config.hist_avg, &m->grads.buf);
}

/* Row block k of a per-D-step input set (the test seam), shaped as `like`. */
static vkg_buf input_set(const vkg_tensor *set, const vkg_tensor *like, int k) {
    vkg_tensor v = vkg_tensor_view(set, (size_t)k * vkg_tensor_count(like), like->n, like->c,
                                   like->h, like->w);
    return v.buf;
}

/* D step k's real batch, z, and when conditional the real labels and G's classes: gathered and
 * drawn on the GPU, or with the test seam copied from the inputs the host set. */
static int record_inputs(vkg_rec *rec, vkg_gan *gan, int k) {
    const vkg_gan_config *c = &gan->config;
    int r = 0;
    if (c->external_inputs) {
        vkg_buf real = input_set(&gan->in_real, &gan->real, k),
                z = input_set(&gan->in_z, &gan->z, k);
        r |= vkg_rec_copy(rec, &real, &gan->real.buf) | vkg_rec_copy(rec, &z, &gan->z.buf);
        if (c->classes) {
            vkg_buf rl = input_set(&gan->in_real_labels, &gan->real_labels, k),
                    fl = input_set(&gan->in_fake_labels, &gan->fake_labels, k);
            r |= vkg_rec_copy(rec, &rl, &gan->real_labels.buf) |
                 vkg_rec_copy(rec, &fl, &gan->fake_labels.buf);
        }
        return r;
    }
    vkg_rng z_rng = batch_rng(gan, STREAM_Z), real_rng = batch_rng(gan, 0);
    real_rng.step_base = (uint32_t)-1; /* the counter was advanced at the top of the D step */
    r |= vkg_gather_epoch_batch_split(rec, &real_rng, &gan->data, &gan->data_rest, gan->data_split,
                                      gan->shape.u8, gan->shape.count, &gan->real);
    r |= vkg_fill_normal(rec, &z_rng, 0, 1, &gan->z);
    if (c->classes) { /* the real batch's labels in the same order; uniform classes for G */
        vkg_rng classes = batch_rng(gan, STREAM_FAKE_CLASSES);
        r |= vkg_gather_epoch_batch(rec, &real_rng, &gan->label_data, 0, gan->shape.count,
                                    &gan->real_labels);
        r |= vkg_fill_uniform(rec, &classes, 0, (float)c->classes, &gan->fake_labels);
    }
    return r;
}

/* D step k: real batch (target 1), fake batch (target 0), gradients summed, Adam on D. */
static int record_d_step(vkg_rec *rec, vkg_gan *gan, int k) {
    const vkg_gan_config *c = &gan->config;
    const vkg_tensor *logits = vkg_model_output(&gan->d), *fake = fake_input(gan);
    int r = vkg_counter_add(rec, &gan->counters.buf, VKG_COUNTER_BATCH, 1);
    r |= hist_update(rec, gan, &gan->d, &gan->d_hist, VKG_COUNTER_BATCH);
    r |= record_inputs(rec, gan, k);
    if (c->classes)
        r |= vkg_onehot_concat(rec, &gan->z, &gan->fake_labels.buf, c->classes, &gan->z_cat);
    if (labels_on(c)) {
        vkg_rng real = batch_rng(gan, STREAM_LABELS_REAL),
                fake = batch_rng(gan, STREAM_LABELS_FAKE);
        vkg_label_noise plain_real = {1, 1, 0, 0, 0}, zero = {0};
        const vkg_label_noise *rl =
            memcmp(&c->real_labels, &zero, sizeof zero) ? &c->real_labels : &plain_real;
        r |= vkg_fill_labels(rec, &real, rl, &gan->real_targets);
        r |= vkg_fill_labels(rec, &fake, &c->fake_labels, &gan->fake_targets);
    }
    if (c->noise_sigma > 0) {
        vkg_rng noise = batch_rng(gan, STREAM_NOISE_REAL);
        r |= vkg_add_normal(rec, &noise, 1, &gan->noise_level.buf, &gan->real, &gan->real);
    }
    if (c->classes)
        r |= vkg_onehot_concat(rec, &gan->real, &gan->real_labels.buf, c->classes, &gan->real_cat);
    r |= vkg_model_forward(rec, &gan->d, real_input(gan), VKG_BN_TRAIN);
    r |= vkg_bce_with_logits(rec, logits, &gan->real_targets, loss_slot(gan, VKG_LOSS_D_REAL),
                             &gan->dlogits, 1);
    r |= vkg_model_backward(rec, &gan->d, real_input(gan), &gan->dlogits, NULL, 1, 0, 1);
    r |= forward_g(rec, gan, g_input(gan), VKG_BN_TRAIN);
    if (c->noise_sigma > 0) {
        vkg_rng noise = batch_rng(gan, STREAM_NOISE_FAKE);
        r |= vkg_add_normal(rec, &noise, 1, &gan->noise_level.buf, vkg_model_output(&gan->g),
                            &gan->fake_noisy);
    }
    if (c->classes)
        r |= vkg_onehot_concat(rec, fake_image(gan), &gan->fake_labels.buf, c->classes,
                               &gan->fake_cat);
    r |= vkg_model_forward(rec, &gan->d, fake, VKG_BN_TRAIN);
    r |= vkg_bce_with_logits(rec, logits, &gan->fake_targets, loss_slot(gan, VKG_LOSS_D_FAKE),
                             &gan->dlogits, 1);
    r |= vkg_model_backward(rec, &gan->d, fake, &gan->dlogits, NULL, 1, 1, 1);
    const vkg_buf *ranges[3];
    r |= record_average(rec, gan, ranges, d_cut_ranges(gan, ranges));
    r |= hist_penalty(rec, gan, &gan->d, &gan->d_hist);
    r |= vkg_model_adam(rec, &gan->d);
    return r ? -1 : 0;
}

/* G step, as PyTorch's DCGAN: the fake batch of the last D step (G's activations are still in
 * place) through the updated D with target 1 (non-saturating), the gradient back through D into
 * G (through the instance noise unchanged: it is added). */
/* Where D's backward pass puts the gradient with respect to its fake input. */
static const vkg_tensor *d_fake_grad(const vkg_gan *gan) {
    return gan->config.classes ? &gan->dfake_cat : &gan->dfake;
}

/* D's last hidden features (the input of its last layer), flattened to [N, features]. */
static vkg_tensor features_of(const vkg_gan *gan) {
    vkg_tensor f = gan->d.layers[gan->d.count - 2].out;
    f.c = f.c * f.h * f.w, f.h = f.w = 1;
    return f;
}

/* Feature matching: the real batch's mean features under the current D (batch statistics,
 * the running ones untouched), then the fake batch's, the loss and its gradient, which flows
 * back through D from the features into G. The BCE of the fake logits is still computed so
 * D(G(z)) is reported; the loss slot then holds the feature-matching loss. */
static int record_feature_matching(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *fake) {
    vkg_tensor f = features_of(gan);
    float mean = 1.0f / (float)gan->config.batch;
    int r = vkg_model_forward(rec, &gan->d, real_input(gan), VKG_BN_BATCH_STATS);
    r |= vkg_channel_sum(rec, &f, &gan->fm_real, mean, 0);
    r |= vkg_model_forward(rec, &gan->d, fake, VKG_BN_TRAIN);
    r |= vkg_bce_with_logits(rec, vkg_model_output(&gan->d), &gan->g_targets,
                             loss_slot(gan, VKG_LOSS_G), &gan->dlogits, 1);
    r |= vkg_channel_sum(rec, &f, &gan->fm_fake, mean, 0);
    r |= vkg_feature_match(rec, &gan->fm_real, &gan->fm_fake, loss_slot(gan, VKG_LOSS_G),
                           &gan->fm_grad);
    r |= vkg_model_backward_from(rec, &gan->d, gan->d.count - 2, fake, &gan->fm_grad,
                                 d_fake_grad(gan), 0, 0, 1);
    return r ? -1 : 0;
}

static int record_g_step(vkg_rec *rec, vkg_gan *gan) {
    const vkg_tensor *fake = fake_input(gan);
    int r = hist_update(rec, gan, &gan->g, &gan->g_hist, VKG_COUNTER_STEP);
    if (gan->config.feature_matching) {
        r |= record_feature_matching(rec, gan, fake);
    } else {
        r |= vkg_model_forward(rec, &gan->d, fake, VKG_BN_TRAIN);
        r |= vkg_bce_with_logits(rec, vkg_model_output(&gan->d), &gan->g_targets,
                                 loss_slot(gan, VKG_LOSS_G), &gan->dlogits, 1);
        r |= vkg_model_backward(rec, &gan->d, fake, &gan->dlogits, d_fake_grad(gan), 0, 0, 1);
    }
    if (gan->config.classes) /* the image channels' gradient */
        r |= vkg_onehot_backward(rec, &gan->dfake_cat, &gan->fake_labels.buf, gan->config.classes,
                                 &gan->dfake);
    r |= vkg_model_backward(rec, &gan->g, g_input(gan), &gan->dfake, NULL, 1, 0, 1);
    const vkg_buf *ranges[2];
    r |= record_average(rec, gan, ranges, g_cut_ranges(gan, ranges));
    r |= hist_penalty(rec, gan, &gan->g, &gan->g_hist);
    r |= vkg_model_adam(rec, &gan->g);
    if (gan->config.ema > 0)
        r |= vkg_param_average(rec, &gan->g.params.buf, &gan->ema.buf, gan->config.ema, NULL, 0);
    return r ? -1 : 0;
}

static int d_steps(const vkg_gan_config *c) {
    return c->d_steps > 1 ? c->d_steps : 1;
}

static int record_step(vkg_rec *rec, vkg_gan *gan) {
    const vkg_gan_config *c = &gan->config;
    int r = 0;
    if (c->noise_sigma > 0) /* sigma for this step, from the steps done before it */
        r |= vkg_linear_decay(rec, &gan->counters.buf, VKG_COUNTER_STEP, c->noise_sigma,
                              (float)c->noise_steps, &gan->noise_level.buf);
    r |= vkg_counter_add(rec, &gan->counters.buf, VKG_COUNTER_STEP, 1);
    for (int k = 0; k < d_steps(c); k++) r |= record_d_step(rec, gan, k);
    r |= record_g_step(rec, gan);
    r |= vkg_loss_ring(rec, &gan->counters.buf, VKG_COUNTER_STEP, &gan->losses[0].buf,
                       &gan->losses[1].buf, &gan->losses[2].buf, &gan->ring, VKG_LOSS_RING);
    return r ? -1 : vkg_rec_end(rec);
}

/* G on a latent batch, with the EMA weights swapped in when that is on; batch norm uses the
 * batch statistics and leaves the running ones as training made them. */
/* G on z (with the EMA weights when on); with `copy` set, its images are copied there. */
static int record_generate_body(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z,
                                const vkg_tensor *copy) {
    int ema = gan->config.ema > 0, r = 0, k = gan->config.classes;
    if (k) { /* the fixed batch's classes: i % classes */
        const vkg_tensor *zc = z == &gan->fixed_z ? &gan->fixed_z_cat : &gan->z_cat;
        r |= vkg_onehot_concat(rec, z, &gan->fixed_labels.buf, k, zc);
        z = zc;
    }
    if (ema) {
        r |= vkg_rec_copy(rec, &gan->g.params.buf, &gan->g_saved.buf);
        r |= vkg_rec_copy(rec, &gan->ema.buf, &gan->g.params.buf);
    }
    r |= forward_g(rec, gan, z, VKG_BN_BATCH_STATS);
    if (ema) r |= vkg_rec_copy(rec, &gan->g_saved.buf, &gan->g.params.buf);
    if (copy) r |= vkg_rec_copy(rec, &vkg_model_output(&gan->g)->buf, &copy->buf);
    return r ? -1 : 0;
}

int gan_record_generate_into(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z,
                             const vkg_tensor *copy) {
    return record_generate_body(rec, gan, z, copy) < 0 ? -1 : vkg_rec_end(rec);
}

int vkg_gan_record_generate(vkg_rec *rec, vkg_gan *gan, uint32_t draw) {
    int n = ranks(&gan->config);
    vkg_rng z_rng = {.seed = gan->config.seed,
                     .stream = STREAM_Z_EVAL,
                     .step_base = draw / (uint32_t)n,
                     .first = draw % (uint32_t)n * (uint32_t)gan->config.batch};
    if (vkg_fill_normal(rec, &z_rng, 0, 1, &gan->z) < 0) return -1;
    return record_generate_body(rec, gan, &gan->z, NULL);
}

static int record_generate(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z) {
    return gan_record_generate_into(rec, gan, z, NULL);
}

static int check_config(const vkg_gan_config *c) {
    if (c->batch < 1 || c->latent < 1)
        return vkg_set_error("batch %d and latent size %d must be positive", c->batch, c->latent);
    if (ranks(c) > 1 && (!c->ranks.sum || c->ranks.rank < 0 || c->ranks.rank >= c->ranks.ranks))
        return vkg_set_error("rank %d of %d: not a rank, or no sum across ranks", c->ranks.rank,
                             c->ranks.ranks);
    if (ranks(c) > 1 && (c->feature_matching || c->external_inputs))
        return vkg_set_error("feature matching and external inputs run in one process only");
    if (ranks(c) > 1 && c->classes && c->batch % c->classes)
        return vkg_set_error("%d ranks: a conditional model needs a per-rank batch (%d) that is a "
                             "multiple of the %d classes",
                             c->ranks.ranks, c->batch, c->classes);
    if (c->d_steps < 0 || c->d_steps > 100)
        return vkg_set_error("D steps per G step: %d is not in 1..100", c->d_steps);
    if (c->noise_sigma < 0 || (c->noise_sigma > 0 && c->noise_steps < 1))
        return vkg_set_error("instance noise needs sigma >= 0 and a positive number of steps");
    if (!(c->ema >= 0 && c->ema < 1)) return vkg_set_error("EMA decay %g is not in [0, 1)", c->ema);
    if (c->classes < 0 || c->classes > 1000)
        return vkg_set_error("%d classes: conditioning takes 1 to 1000", c->classes);
    if (!(c->hist_avg >= 0))
        return vkg_set_error("historical averaging weight %g is negative", c->hist_avg);
    return 0;
}

static int alloc_tensors(vkg_gan *gan, vkg_arena *arena) {
    const vkg_gan_data *s = &gan->shape;
    const vkg_gan_config *c = &gan->config;
    int b = c->batch, r = 0;
    r |= vkg_tensor_alloc(arena, b, c->latent, 1, 1, &gan->z);
    r |= vkg_tensor_alloc(arena, b * ranks(c), c->latent, 1, 1, &gan->fixed_z); /* global */
    r |= vkg_tensor_alloc(arena, b, s->c, s->h, s->w, &gan->real);
    r |= vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->real_targets);
    r |= vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->fake_targets);
    r |= vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->g_targets);
    r |= vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->dlogits);
    r |= vkg_tensor_alloc(arena, b, s->c, s->h, s->w, &gan->dfake);
    r |= vkg_tensor_alloc(arena, b, s->c, s->h, s->w, &gan->preview);
    r |= vkg_tensor_alloc(arena, 1, VKG_COUNTERS, 1, 1, &gan->counters);
    for (int i = 0; i < 4; i++) r |= vkg_tensor_alloc(arena, 1, 1, 1, 1, &gan->finite_sums[i]);
    for (int i = 0; i < 3; i++) r |= vkg_tensor_alloc(arena, 1, 2, 1, 1, &gan->losses[i]);
    gan->host = vkg_arena_create_mapped(gan->ctx, 0);
    if (!gan->host || vkg_arena_alloc(gan->host, VKG_LOSS_RING * 8 * sizeof(float), &gan->ring) < 0)
        return -1;
    gan->ring_map = vkg_arena_host(gan->host, &gan->ring);
    if (ranks(c) > 1) {
        gan->allsum = (vkg_allsum){
            .ranks = c->ranks.ranks, .sum = c->ranks.sum, .user = c->ranks.user, .host = gan->host};
        for (int m = 0; c->ranks.sync_bn && m < 2; m++) {
            vkg_model *model = m ? &gan->d : &gan->g;
            for (int i = 0; i < model->count; i++) model->layers[i].bn.sync = &gan->allsum;
        }
        r |= vkg_tensor_alloc(arena, b * ranks(c), s->c, s->h, s->w, &gan->samples);
    }
    if (c->noise_sigma > 0)
        r |= vkg_tensor_alloc(arena, b, s->c, s->h, s->w, &gan->fake_noisy) |
             vkg_tensor_alloc(arena, 1, 1, 1, 1, &gan->noise_level);
    int ng = (int)gan->g.param_count, nd = (int)gan->d.param_count;
    if (c->ema > 0)
        r |= vkg_tensor_alloc(arena, 1, ng, 1, 1, &gan->ema) |
             vkg_tensor_alloc(arena, 1, ng, 1, 1, &gan->g_saved);
    if (c->hist_avg > 0)
        r |= vkg_tensor_alloc(arena, 1, ng, 1, 1, &gan->g_hist) |
             vkg_tensor_alloc(arena, 1, nd, 1, 1, &gan->d_hist);
    if (c->classes) {
        int k = c->classes;
        r |= vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->real_labels) |
             vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->fake_labels) |
             vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->fixed_labels) |
             vkg_tensor_alloc(arena, b, c->latent + k, 1, 1, &gan->z_cat) |
             vkg_tensor_alloc(arena, b, c->latent + k, 1, 1, &gan->fixed_z_cat) |
             vkg_tensor_alloc(arena, b, s->c + k, s->h, s->w, &gan->real_cat) |
             vkg_tensor_alloc(arena, b, s->c + k, s->h, s->w, &gan->fake_cat) |
             vkg_tensor_alloc(arena, b, s->c + k, s->h, s->w, &gan->dfake_cat) |
             vkg_arena_alloc(arena, sizeof(float) * (uint64_t)s->count, &gan->label_data);
    }
    if (c->external_inputs) { /* the test seam: one set per D step */
        int n = b * d_steps(c);
        r |= vkg_tensor_alloc(arena, n, s->c, s->h, s->w, &gan->in_real) |
             vkg_tensor_alloc(arena, n, c->latent, 1, 1, &gan->in_z);
        if (c->classes)
            r |= vkg_tensor_alloc(arena, n, 1, 1, 1, &gan->in_real_labels) |
                 vkg_tensor_alloc(arena, n, 1, 1, 1, &gan->in_fake_labels);
    }
    if (vkg_model_has_virtual_bn(&gan->g) && ranks(c) > 1)
        return vkg_set_error("virtual batch norm runs in one process only");
    if (vkg_model_has_virtual_bn(&gan->g))
        r |= vkg_tensor_alloc(arena, b, c->latent, 1, 1, &gan->ref_z) |
             (c->classes ? vkg_tensor_alloc(arena, b, c->latent + c->classes, 1, 1, &gan->ref_z_cat)
                         : 0);
    if (c->feature_matching) {
        if (gan->d.count < 2) return vkg_set_error("feature matching needs a D with hidden layers");
        const vkg_tensor *f = &gan->d.layers[gan->d.count - 2].out;
        int features = f->c * f->h * f->w;
        r |= vkg_tensor_alloc(arena, 1, features, 1, 1, &gan->fm_real) |
             vkg_tensor_alloc(arena, 1, features, 1, 1, &gan->fm_fake) |
             vkg_tensor_alloc(arena, b, f->c, f->h, f->w, &gan->fm_grad);
    }
    return r ? -1 : 0;
}

/* Uploads the data and the constant targets; the init recording does the rest. */
static int setup(vkg_gan *gan, vkg_arena *arena, const vkg_gan_data *data) {
    int b = gan->config.batch;
    const vkg_tensor *gout = vkg_model_output(&gan->g), *dout = vkg_model_output(&gan->d);
    if (gan->config.classes && !data->labels)
        return vkg_set_error("a class-conditional GAN needs a labelled dataset");
    if (gout->c != data->c || gout->h != data->h || gout->w != data->w)
        return vkg_set_error("the generator makes %dx%dx%d, the data is %dx%dx%d", gout->c, gout->h,
                             gout->w, data->c, data->h, data->w);
    if (vkg_tensor_count(dout) != (size_t)b)
        return vkg_set_error("the discriminator must give one logit per example");
    if (data->count < 1) return vkg_set_error("the dataset is empty");
    /* the rows in one binding, the rest (if any) in a second */
    uint64_t row = (uint64_t)data->c * data->h * data->w * (data->u8 ? 1 : 4);
    uint64_t limit = gan->config.max_binding ? gan->config.max_binding
                                             : vkg_ctx_device(gan->ctx)->max_storage_buffer_range;
    uint64_t first = limit / row < (uint64_t)data->count ? limit / row : (uint64_t)data->count;
    uint64_t rest = (uint64_t)data->count - first;
    if (first < 1 || rest * row > limit)
        return vkg_set_error("the dataset takes %.1f MiB, more than two bindings of %.1f MiB on %s",
                             (double)(data->count * row) / 1048576.0, limit / 1048576.0,
                             vkg_ctx_device(gan->ctx)->name);
    gan->data_split = (int)first;
    if (alloc_tensors(gan, arena) < 0 ||
        vkg_arena_alloc(arena, (first * row + 3) & ~3ull, &gan->data) < 0 ||
        vkg_upload(gan->ctx, &gan->data, data->rows, first * row) < 0)
        return -1;
    if (rest && (vkg_arena_alloc(arena, (rest * row + 3) & ~3ull, &gan->data_rest) < 0 ||
                 vkg_upload(gan->ctx, &gan->data_rest, (const char *)data->rows + first * row,
                            rest * row) < 0))
        return -1;
    int k = gan->config.classes, n = data->count > b ? data->count : b;
    float *f = malloc(sizeof(float) * (size_t)n);
    if (!f) return vkg_set_error("out of host memory");
    for (int i = 0; i < b; i++) f[i] = 1.0f;
    int r = vkg_tensor_upload(gan->ctx, &gan->real_targets, f);
    if (r == 0) r = vkg_tensor_upload(gan->ctx, &gan->g_targets, f);
    for (int i = 0; k && r == 0 && i < data->count; i++) {
        if (data->labels[i] < 0 || data->labels[i] >= k)
            r = vkg_set_error("label %d of example %d is outside 0..%d", data->labels[i], i, k - 1);
        f[i] = (float)data->labels[i];
    }
    if (k && r == 0)
        r = vkg_upload(gan->ctx, &gan->label_data, f, sizeof(float) * (size_t)data->count);
    for (int i = 0; k && r == 0 && i < b; i++) f[i] = (float)(i % k);
    if (k && r == 0) r = vkg_tensor_upload(gan->ctx, &gan->fixed_labels, f);
    free(f);
    return r;
}

/* Initial weights (DCGAN init), zero counters, the fixed latent batch, EMA = weights, historical
 * averages 0 (fresh device memory may hold anything, even NaN). */
static int initialise(vkg_gan *gan) {
    vkg_rec *init = vkg_rec_begin(gan->ctx, 0);
    if (!init) return -1;
    int r = vkg_model_init(init, &gan->g, gan->config.seed);
    r |= vkg_model_init(init, &gan->d, gan->config.seed + 1);
    vkg_rec_fill(init, &gan->counters.buf, 0);
    vkg_rec_fill(init, &gan->fake_targets.buf, 0);
    vkg_rec_fill(init, &gan->ring, 0xffffffffu); /* no step stamped yet */
    vkg_rng fixed = {.seed = gan->config.seed, .stream = STREAM_Z_FIXED};
    r |= vkg_fill_normal(init, &fixed, 0, 1, &gan->fixed_z);
    if (gan->config.ema > 0) r |= vkg_rec_copy(init, &gan->g.params.buf, &gan->ema.buf);
    if (gan->config.hist_avg > 0) { /* the first update (weight 1) then copies the weights */
        vkg_rec_fill(init, &gan->g_hist.buf, 0);
        vkg_rec_fill(init, &gan->d_hist.buf, 0);
    }
    if (vkg_model_has_virtual_bn(&gan->g)) {
        vkg_rng ref = {.seed = gan->config.seed, .stream = STREAM_Z_REFERENCE};
        r |= vkg_fill_normal(init, &ref, 0, 1, &gan->ref_z);
    }
    r = r ? -1 : vkg_rec_end(init);
    r = r ? -1 : vkg_rec_run(init);
    vkg_rec_destroy(init);
    return r;
}

/* Several ranks: the sample recordings make the global batch one rank's share at a time, into
 * gan->samples: part j from z elements j * batch * latent .. (the draw one process makes). */
static int record_samples_parts(vkg_gan *gan) {
    const vkg_gan_config *c = &gan->config;
    int r = 0;
    for (int j = 0; j < ranks(c); j++) {
        size_t each = vkg_tensor_count(vkg_model_output(&gan->g)), zn = vkg_tensor_count(&gan->z);
        vkg_tensor out = vkg_tensor_view(&gan->samples, (size_t)j * each, c->batch, gan->shape.c,
                                         gan->shape.h, gan->shape.w);
        vkg_tensor fixed =
            vkg_tensor_view(&gan->fixed_z, (size_t)j * zn, c->batch, c->latent, 1, 1);
        vkg_rng z_rng = {.seed = c->seed,
                         .stream = STREAM_Z_SAMPLE,
                         .counters = &gan->counters.buf,
                         .step_index = VKG_COUNTER_SAMPLE,
                         .first = (uint32_t)(j * c->batch)};
        r |= vkg_fill_normal(gan->sample, &z_rng, 0, 1, &gan->z);
        r |= record_generate_body(gan->sample, gan, &gan->z, &out);
        r |= vkg_rec_copy(gan->sample_fixed, &fixed.buf, &gan->z.buf);
        r |= record_generate_body(gan->sample_fixed, gan, &gan->z, &out);
    }
    return r ? -1 : vkg_rec_end(gan->sample) < 0 ? -1 : vkg_rec_end(gan->sample_fixed);
}

static int create(vkg_ctx *ctx, vkg_arena *arena, const vkg_layer_spec *g, int g_layers,
                  const vkg_layer_spec *d, int d_layers, const vkg_gan_data *data,
                  const vkg_gan_config *config, vkg_gan *gan) {
    gan->ctx = ctx;
    gan->config = *config;
    gan->shape = *data;
    gan->shape.rows = NULL, gan->shape.labels = NULL;
    int b = config->batch;
    int k = config->classes;
    if (check_config(config) < 0 ||
        vkg_model_create(arena, g, g_layers, b, config->latent + k, 1, 1, &gan->g) < 0 ||
        vkg_model_create(arena, d, d_layers, b, data->c + k, data->h, data->w, &gan->d) < 0 ||
        setup(gan, arena, data) < 0)
        return -1;
    gan->g.rng = batch_rng(gan, STREAM_G_DROPOUT);
    vkg_adam_hyper hd = {config->lr_d, config->beta1, config->beta2, 1e-8f, 0, 0, 0};
    vkg_adam_hyper hg = {config->lr_g, config->beta1, config->beta2, 1e-8f, 0, 0, 0};
    if (vkg_model_set_adam(ctx, &gan->d, &hd) < 0 || vkg_model_set_adam(ctx, &gan->g, &hg) < 0 ||
        initialise(gan) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (!(gan->step[i] = vkg_rec_begin(ctx, 1)) || /* every dispatch timed */
            record_step(gan->step[i], gan) < 0)
            return -1;
        if (i == 0) gan->reduce_bytes = gan->allsum.bytes; /* the sums of one step */
    }
    if (!(gan->sample = vkg_rec_begin(ctx, 0)) || !(gan->sample_fixed = vkg_rec_begin(ctx, 0)))
        return -1;
    if (ranks(config) > 1) return record_samples_parts(gan);
    vkg_rng z_rng = {.seed = config->seed,
                     .stream = STREAM_Z_SAMPLE,
                     .counters = &gan->counters.buf,
                     .step_index = VKG_COUNTER_SAMPLE};
    if (vkg_fill_normal(gan->sample, &z_rng, 0, 1, &gan->z) < 0 ||
        record_generate(gan->sample, gan, &gan->z) < 0)
        return -1;
    return record_generate(gan->sample_fixed, gan, &gan->fixed_z);
}

int vkg_gan_create(vkg_ctx *ctx, vkg_arena *arena, const vkg_layer_spec *g, int g_layers,
                   const vkg_layer_spec *d, int d_layers, const vkg_gan_data *data,
                   const vkg_gan_config *config, vkg_gan *gan) {
    memset(gan, 0, sizeof *gan);
    gan->preview_last = -1;
    if (create(ctx, arena, g, g_layers, d, d_layers, data, config, gan) == 0) return 0;
    vkg_gan_destroy(gan);
    return -1;
}

void vkg_gan_destroy(vkg_gan *gan) {
    vkg_rec_destroy(gan->step[0]);
    vkg_rec_destroy(gan->step[1]);
    vkg_rec_destroy(gan->sample);
    vkg_rec_destroy(gan->sample_fixed);
    vkg_rec_destroy(gan->preview_rec[0]);
    vkg_rec_destroy(gan->preview_rec[1]);
    vkg_rec_destroy(gan->finite_rec);
    gan->finite_rec = NULL;
    gan->step[0] = gan->step[1] = gan->sample = gan->sample_fixed = NULL;
    gan->preview_rec[0] = gan->preview_rec[1] = NULL;
    vkg_allsum_free(&gan->allsum);
    vkg_arena_destroy(gan->host);
    gan->host = NULL;
}

/* Keeps the GPU time of the finished replay of a step recording as the time of `step`. */
static int keep_step_time(vkg_gan *gan, vkg_rec *rec, uint32_t step) {
    double ms;
    if (vkg_rec_span_ms(rec, &ms) < 0) return -1;
    gan->step_ms[step % VKG_LOSS_RING] = ms, gan->step_ms_of[step % VKG_LOSS_RING] = step;
    return 0;
}

int vkg_gan_wait(vkg_gan *gan) {
    if (vkg_rec_wait(gan->step[0]) < 0 || vkg_rec_wait(gan->step[1]) < 0) return -1;
    /* the last two submissions ran steps `steps` and `steps - 1` */
    for (unsigned k = 1; k <= 2 && k <= gan->submitted && k <= gan->steps; k++)
        if (keep_step_time(gan, gan->step[(gan->submitted - k) % 2], gan->steps + 1 - k) < 0)
            return -1;
    gan->completed = gan->steps;
    return 0;
}

int vkg_gan_submit(vkg_gan *gan, int steps) {
    for (int i = 0; i < steps; i++) {
        vkg_rec *rec = gan->step[gan->submitted % 2];
        /* this recording last ran the step two submissions back: its times, once it is done */
        if (gan->submitted >= 2 && gan->steps >= 2 &&
            (vkg_rec_wait(rec) < 0 || keep_step_time(gan, rec, gan->steps - 1) < 0))
            return -1;
        if (vkg_rec_submit(rec) < 0) return -1;
        gan->submitted++;
        gan->steps++;
        if (gan->steps >= 2 && gan->steps - 2 > gan->completed) gan->completed = gan->steps - 2;
    }
    return 0;
}

int vkg_gan_step_ms(vkg_gan *gan, uint32_t step, double *ms) {
    unsigned i = step % VKG_LOSS_RING;
    if (step > gan->completed || gan->step_ms_of[i] != step || gan->step_ms[i] <= 0)
        return vkg_set_error("the GPU time of step %u is not known", step);
    *ms = gan->step_ms[i];
    return 0;
}

int vkg_gan_set_inputs(vkg_gan *gan, const float *real, const float *z, const float *real_labels,
                       const float *fake_labels) {
    const vkg_gan_config *c = &gan->config;
    if (!c->external_inputs)
        return vkg_set_error("set inputs: the GAN was made without external_inputs");
    if (c->classes && (!real_labels || !fake_labels))
        return vkg_set_error("set inputs: a class-conditional GAN needs both label sets");
    if (vkg_gan_wait(gan) < 0 || vkg_tensor_upload(gan->ctx, &gan->in_real, real) < 0 ||
        vkg_tensor_upload(gan->ctx, &gan->in_z, z) < 0)
        return -1;
    if (c->classes && (vkg_tensor_upload(gan->ctx, &gan->in_real_labels, real_labels) < 0 ||
                       vkg_tensor_upload(gan->ctx, &gan->in_fake_labels, fake_labels) < 0))
        return -1;
    return 0;
}

int vkg_gan_train(vkg_gan *gan, int steps) {
    return vkg_gan_submit(gan, steps) < 0 ? -1 : vkg_gan_wait(gan);
}

int vkg_gan_losses(vkg_gan *gan, float losses[VKG_LOSSES]) {
    return vkg_gan_wait(gan) < 0 ? -1 : vkg_gan_step_losses(gan, gan->steps, losses);
}

int vkg_gan_step_losses(vkg_gan *gan, uint32_t step, float losses[VKG_LOSSES]) {
    if (step == 0 || step > gan->completed || gan->steps - step >= VKG_LOSS_RING)
        return vkg_set_error("the scalars of step %u are not at hand (finished: %u, ring of %d)",
                             step, gan->completed, VKG_LOSS_RING);
    const float *slot = gan->ring_map + (step % VKG_LOSS_RING) * 8;
    uint32_t stamp;
    memcpy(&stamp, slot + 6, sizeof stamp);
    if (stamp != step)
        return vkg_set_error("the loss ring holds step %u where step %u was expected", stamp, step);
    memcpy(losses, slot, sizeof(float) * VKG_LOSSES);
    return 0;
}

static int generate(vkg_gan *gan, vkg_rec *rec, float *out) {
    if (vkg_gan_wait(gan) < 0 || vkg_rec_run(rec) < 0) return -1;
    return vkg_tensor_download(
        gan->ctx, ranks(&gan->config) > 1 ? &gan->samples : vkg_model_output(&gan->g), out);
}

int vkg_gan_sample(vkg_gan *gan, uint32_t index, float *out) {
    vkg_buf slot = gan->counters.buf;
    slot.offset += 4 * VKG_COUNTER_SAMPLE, slot.size = 4;
    if (vkg_gan_wait(gan) < 0 || vkg_upload(gan->ctx, &slot, &index, 4) < 0) return -1;
    return generate(gan, gan->sample, out);
}

int vkg_gan_sample_fixed(vkg_gan *gan, float *out) {
    return generate(gan, gan->sample_fixed, out);
}
