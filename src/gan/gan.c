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

/* A draw keyed by the number of real batches drawn so far (advanced at the top of each D step),
 * for this rank's share of the global batch. */
vkg_rng gan_batch_rng(const vkg_gan *gan, uint32_t stream) {
    const vkg_gan_config *c = &gan->config;
    return (vkg_rng){.seed = c->seed,
                     .stream = stream,
                     .counters = &gan->counters.buf,
                     .step_index = VKG_COUNTER_BATCH,
                     .first = (uint32_t)(c->ranks.rank * c->batch),
                     .total = (uint32_t)(gan_ranks(c) * c->batch)};
}

/* Several ranks: the ranges are averaged across them (summed in rank order, then scaled) on the
 * host between two parts of the step; nothing with one. */
static int record_average(vkg_rec *rec, vkg_gan *gan, const vkg_buf *const *ranges, int n) {
    int k = gan_ranks(&gan->config);
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
    vkg_rng z_rng = gan_batch_rng(gan, STREAM_Z), real_rng = gan_batch_rng(gan, 0);
    real_rng.step_base = (uint32_t)-1; /* the counter was advanced at the top of the D step */
    r |= vkg_gather_epoch_batch_split(rec, &real_rng, &gan->data, &gan->data_rest, gan->data_split,
                                      gan->shape.u8, gan->shape.count, &gan->real);
    r |= vkg_fill_normal(rec, &z_rng, 0, 1, &gan->z);
    if (c->classes) { /* the real batch's labels in the same order; uniform classes for G */
        vkg_rng classes = gan_batch_rng(gan, STREAM_FAKE_CLASSES);
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
        vkg_rng real = gan_batch_rng(gan, STREAM_LABELS_REAL),
                fake = gan_batch_rng(gan, STREAM_LABELS_FAKE);
        vkg_label_noise plain_real = {1, 1, 0, 0, 0}, zero = {0};
        const vkg_label_noise *rl =
            memcmp(&c->real_labels, &zero, sizeof zero) ? &c->real_labels : &plain_real;
        r |= vkg_fill_labels(rec, &real, rl, &gan->real_targets);
        r |= vkg_fill_labels(rec, &fake, &c->fake_labels, &gan->fake_targets);
    }
    if (c->noise_sigma > 0) {
        vkg_rng noise = gan_batch_rng(gan, STREAM_NOISE_REAL);
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
        vkg_rng noise = gan_batch_rng(gan, STREAM_NOISE_FAKE);
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

int gan_record_step(vkg_rec *rec, vkg_gan *gan) {
    const vkg_gan_config *c = &gan->config;
    int r = 0;
    if (c->noise_sigma > 0) /* sigma for this step, from the steps done before it */
        r |= vkg_linear_decay(rec, &gan->counters.buf, VKG_COUNTER_STEP, c->noise_sigma,
                              (float)c->noise_steps, &gan->noise_level.buf);
    r |= vkg_counter_add(rec, &gan->counters.buf, VKG_COUNTER_STEP, 1);
    for (int k = 0; k < gan_d_steps(c); k++) r |= record_d_step(rec, gan, k);
    r |= record_g_step(rec, gan);
    r |= vkg_loss_ring(rec, &gan->counters.buf, VKG_COUNTER_STEP, &gan->losses[0].buf,
                       &gan->losses[1].buf, &gan->losses[2].buf, &gan->ring, VKG_LOSS_RING);
    return r ? -1 : vkg_rec_end(rec);
}

/* G on a latent batch, with the EMA weights swapped in when that is on; batch norm uses the
 * batch statistics and leaves the running ones as training made them. */
int gan_record_generate_body(vkg_rec *rec, vkg_gan *gan, const vkg_tensor *z,
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
    return gan_record_generate_body(rec, gan, z, copy) < 0 ? -1 : vkg_rec_end(rec);
}

int vkg_gan_record_generate(vkg_rec *rec, vkg_gan *gan, uint32_t draw) {
    int n = gan_ranks(&gan->config);
    vkg_rng z_rng = {.seed = gan->config.seed,
                     .stream = STREAM_Z_EVAL,
                     .step_base = draw / (uint32_t)n,
                     .first = draw % (uint32_t)n * (uint32_t)gan->config.batch};
    if (vkg_fill_normal(rec, &z_rng, 0, 1, &gan->z) < 0) return -1;
    return gan_record_generate_body(rec, gan, &gan->z, NULL);
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
        gan->ctx, gan_ranks(&gan->config) > 1 ? &gan->samples : vkg_model_output(&gan->g), out);
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
