/* The recorded GAN training step (see include/vkgan/gan.h). */
#include <stdlib.h>
#include <string.h>

#include "vkgan/error.h"
#include "vkgan/gan.h"

/* Random streams: what each draw is for, so no two share bits. */
enum { STREAM_Z = 1001, STREAM_Z_SAMPLE };

/* Each BCE writes (loss, mean sigmoid) to its own aligned pair. */
static const vkg_buf *loss_slot(const vkg_gan *gan, int index) {
    return &gan->losses[index / 2].buf;
}

/* D step: real batch (target 1), fake batch (target 0), gradients summed, Adam on D. */
static int record_d_step(vkg_rec *rec, vkg_gan *gan) {
    vkg_rng step_rng = {.seed = gan->config.seed, .counters = &gan->counters.buf};
    vkg_rng z_rng = step_rng, real_rng = step_rng;
    z_rng.stream = STREAM_Z;
    real_rng.step_base = (uint32_t)-1; /* the counter was advanced at the top of the step */
    const vkg_tensor *logits = vkg_model_output(&gan->d);
    int r = 0;
    r |= vkg_gather_epoch_batch(rec, &real_rng, &gan->data.buf, 0, gan->data.n, &gan->real);
    r |= vkg_fill_normal(rec, &z_rng, 0, 1, &gan->z);
    r |= vkg_model_forward(rec, &gan->d, &gan->real, 1);
    r |= vkg_bce_with_logits(rec, logits, &gan->real_targets, loss_slot(gan, VKG_LOSS_D_REAL),
                             &gan->dlogits, 1);
    r |= vkg_model_backward(rec, &gan->d, &gan->real, &gan->dlogits, NULL, 1, 0, 1);
    r |= vkg_model_forward(rec, &gan->g, &gan->z, 1);
    r |= vkg_model_forward(rec, &gan->d, vkg_model_output(&gan->g), 1);
    r |= vkg_bce_with_logits(rec, logits, &gan->fake_targets, loss_slot(gan, VKG_LOSS_D_FAKE),
                             &gan->dlogits, 1);
    r |= vkg_model_backward(rec, &gan->d, vkg_model_output(&gan->g), &gan->dlogits, NULL, 1, 1, 1);
    r |= vkg_model_adam(rec, &gan->d);
    return r ? -1 : 0;
}

/* G step, as PyTorch's DCGAN: the fake batch of the D step (G's activations are still in place)
 * through the updated D with target 1 (non-saturating), the gradient back through D into G. */
static int record_g_step(vkg_rec *rec, vkg_gan *gan) {
    const vkg_tensor *fake = vkg_model_output(&gan->g);
    int r = 0;
    r |= vkg_model_forward(rec, &gan->d, fake, 1);
    r |= vkg_bce_with_logits(rec, vkg_model_output(&gan->d), &gan->real_targets,
                             loss_slot(gan, VKG_LOSS_G), &gan->dlogits, 1);
    r |= vkg_model_backward(rec, &gan->d, fake, &gan->dlogits, &gan->dfake, 0, 0, 1);
    r |= vkg_model_backward(rec, &gan->g, &gan->z, &gan->dfake, NULL, 1, 0, 1);
    r |= vkg_model_adam(rec, &gan->g);
    return r ? -1 : 0;
}

static int setup(vkg_gan *gan, vkg_arena *arena, const float *data, int rows, int c, int h, int w) {
    int b = gan->config.batch;
    const vkg_tensor *gout = vkg_model_output(&gan->g), *dout = vkg_model_output(&gan->d);
    if (gout->c != c || gout->h != h || gout->w != w)
        return vkg_set_error("the generator makes %dx%dx%d, the data is %dx%dx%d", gout->c, gout->h,
                             gout->w, c, h, w);
    if (vkg_tensor_count(dout) != (size_t)b)
        return vkg_set_error("the discriminator must give one logit per example");
    float *targets = malloc(sizeof(float) * (size_t)b);
    if (!targets) return vkg_set_error("out of host memory");
    int r = vkg_tensor_alloc(arena, rows, c, h, w, &gan->data) |
            vkg_tensor_alloc(arena, b, gan->config.latent, 1, 1, &gan->z) |
            vkg_tensor_alloc(arena, b, c, h, w, &gan->real) |
            vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->real_targets) |
            vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->fake_targets) |
            vkg_tensor_alloc(arena, b, 1, 1, 1, &gan->dlogits) |
            vkg_tensor_alloc(arena, b, c, h, w, &gan->dfake) |
            vkg_tensor_alloc(arena, 1, 4, 1, 1, &gan->counters) |
            vkg_tensor_alloc(arena, 1, 2, 1, 1, &gan->losses[0]) |
            vkg_tensor_alloc(arena, 1, 2, 1, 1, &gan->losses[1]) |
            vkg_tensor_alloc(arena, 1, 2, 1, 1, &gan->losses[2]);
    r = r ? -1 : vkg_tensor_upload(gan->ctx, &gan->data, data);
    for (int i = 0; r == 0 && i < b; i++) targets[i] = 1.0f;
    if (r == 0) r = vkg_tensor_upload(gan->ctx, &gan->real_targets, targets);
    for (int i = 0; r == 0 && i < b; i++) targets[i] = 0.0f;
    if (r == 0) r = vkg_tensor_upload(gan->ctx, &gan->fake_targets, targets);
    free(targets);
    uint32_t zero[4] = {0};
    return r == 0 ? vkg_upload(gan->ctx, &gan->counters.buf, zero, sizeof zero) : -1;
}

static int create(vkg_ctx *ctx, vkg_arena *arena, const vkg_layer_spec *g, int g_layers,
                  const vkg_layer_spec *d, int d_layers, const float *data, int rows, int c, int h,
                  int w, const vkg_gan_config *config, vkg_gan *gan) {
    gan->ctx = ctx;
    gan->config = *config;
    int b = config->batch;
    if (vkg_model_create(arena, g, g_layers, b, config->latent, 1, 1, &gan->g) < 0 ||
        vkg_model_create(arena, d, d_layers, b, c, h, w, &gan->d) < 0 ||
        setup(gan, arena, data, rows, c, h, w) < 0)
        return -1;
    vkg_adam_hyper hd = {config->lr_d, config->beta1, config->beta2, 1e-8f, 0, 0, 0};
    vkg_adam_hyper hg = {config->lr_g, config->beta1, config->beta2, 1e-8f, 0, 0, 0};
    if (vkg_model_set_adam(ctx, &gan->d, &hd) < 0 || vkg_model_set_adam(ctx, &gan->g, &hg) < 0)
        return -1;
    vkg_rec *init = vkg_rec_begin(ctx, 0);
    int r = init ? 0 : -1;
    r |= vkg_model_init(init, &gan->g, config->seed);
    r |= vkg_model_init(init, &gan->d, config->seed + 1);
    r = r ? -1 : vkg_rec_end(init);
    r = r ? -1 : vkg_rec_run(init);
    vkg_rec_destroy(init);
    if (r < 0) return -1;

    for (int i = 0; i < 2; i++) {
        if (!(gan->step[i] = vkg_rec_begin(ctx, 0))) return -1;
        r = vkg_counter_add(gan->step[i], &gan->counters.buf, 0, 1);
        r |= record_d_step(gan->step[i], gan);
        r |= record_g_step(gan->step[i], gan);
        if (r || vkg_rec_end(gan->step[i]) < 0) return -1;
    }

    gan->sample = vkg_rec_begin(ctx, 0);
    if (!gan->sample) return -1;
    vkg_rng z_rng = {.seed = config->seed,
                     .stream = STREAM_Z_SAMPLE,
                     .counters = &gan->counters.buf,
                     .step_index = 1};
    r = vkg_fill_normal(gan->sample, &z_rng, 0, 1, &gan->z);
    r |= vkg_model_forward(gan->sample, &gan->g, &gan->z, 1);
    return r ? -1 : vkg_rec_end(gan->sample);
}

int vkg_gan_create(vkg_ctx *ctx, vkg_arena *arena, const vkg_layer_spec *g, int g_layers,
                   const vkg_layer_spec *d, int d_layers, const float *data, int rows, int c, int h,
                   int w, const vkg_gan_config *config, vkg_gan *gan) {
    memset(gan, 0, sizeof *gan);
    if (create(ctx, arena, g, g_layers, d, d_layers, data, rows, c, h, w, config, gan) == 0)
        return 0;
    vkg_gan_destroy(gan);
    return -1;
}

void vkg_gan_destroy(vkg_gan *gan) {
    vkg_rec_destroy(gan->step[0]);
    vkg_rec_destroy(gan->step[1]);
    vkg_rec_destroy(gan->sample);
    gan->step[0] = gan->step[1] = gan->sample = NULL;
}

int vkg_gan_wait(vkg_gan *gan) {
    return vkg_rec_wait(gan->step[0]) < 0 || vkg_rec_wait(gan->step[1]) < 0 ? -1 : 0;
}

int vkg_gan_train(vkg_gan *gan, int steps) {
    for (int i = 0; i < steps; i++) /* vkg_rec_submit waits if that recording is still pending */
        if (vkg_rec_submit(gan->step[gan->submitted++ % 2]) < 0) return -1;
    return vkg_gan_wait(gan);
}

int vkg_gan_losses(vkg_gan *gan, float losses[VKG_LOSSES]) {
    if (vkg_gan_wait(gan) < 0) return -1;
    for (int i = 0; i < 3; i++)
        if (vkg_tensor_download(gan->ctx, &gan->losses[i], losses + 2 * i) < 0) return -1;
    return 0;
}

int vkg_gan_sample(vkg_gan *gan, uint32_t index, float *out) {
    vkg_buf slot = gan->counters.buf;
    slot.offset += 4, slot.size = 4;
    if (vkg_gan_wait(gan) < 0 || vkg_upload(gan->ctx, &slot, &index, 4) < 0 ||
        vkg_rec_run(gan->sample) < 0)
        return -1;
    return vkg_tensor_download(gan->ctx, vkg_model_output(&gan->g), out);
}
