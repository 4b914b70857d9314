/* Setting a GAN up (see include/vkgan/gan.h): its configuration checked, its tensors in one
 * arena, the data uploaded, the weights initialised, and the step and sampling recorded once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gan/gan_internal.h"
#include "vkgan/error.h"
#include "vkgan/gan.h"

static int check_config(const vkg_gan_config *c) {
    if (c->batch < 1 || c->latent < 1)
        return vkg_set_error("batch %d and latent size %d must be positive", c->batch, c->latent);
    if (gan_ranks(c) > 1 && (!c->ranks.sum || c->ranks.rank < 0 || c->ranks.rank >= c->ranks.ranks))
        return vkg_set_error("rank %d of %d: not a rank, or no sum across ranks", c->ranks.rank,
                             c->ranks.ranks);
    if (gan_ranks(c) > 1 && (c->feature_matching || c->external_inputs))
        return vkg_set_error("feature matching and external inputs run in one process only");
    if (gan_ranks(c) > 1 && c->classes && c->batch % c->classes)
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
    r |= vkg_tensor_alloc(arena, b * gan_ranks(c), c->latent, 1, 1, &gan->fixed_z); /* global */
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
    if (gan_ranks(c) > 1) {
        gan->allsum = (vkg_allsum){
            .ranks = c->ranks.ranks, .sum = c->ranks.sum, .user = c->ranks.user, .host = gan->host};
        for (int m = 0; c->ranks.sync_bn && m < 2; m++) {
            vkg_model *model = m ? &gan->d : &gan->g;
            for (int i = 0; i < model->count; i++) model->layers[i].bn.sync = &gan->allsum;
        }
        r |= vkg_tensor_alloc(arena, b * gan_ranks(c), s->c, s->h, s->w, &gan->samples);
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
        int n = b * gan_d_steps(c);
        r |= vkg_tensor_alloc(arena, n, s->c, s->h, s->w, &gan->in_real) |
             vkg_tensor_alloc(arena, n, c->latent, 1, 1, &gan->in_z);
        if (c->classes)
            r |= vkg_tensor_alloc(arena, n, 1, 1, 1, &gan->in_real_labels) |
                 vkg_tensor_alloc(arena, n, 1, 1, 1, &gan->in_fake_labels);
    }
    if (vkg_model_has_virtual_bn(&gan->g) && gan_ranks(c) > 1)
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
    for (int j = 0; j < gan_ranks(c); j++) {
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
        r |= gan_record_generate_body(gan->sample, gan, &gan->z, &out);
        r |= vkg_rec_copy(gan->sample_fixed, &fixed.buf, &gan->z.buf);
        r |= gan_record_generate_body(gan->sample_fixed, gan, &gan->z, &out);
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
    gan->g.rng = gan_batch_rng(gan, STREAM_G_DROPOUT);
    vkg_adam_hyper hd = {config->lr_d, config->beta1, config->beta2, 1e-8f, 0, 0, 0};
    vkg_adam_hyper hg = {config->lr_g, config->beta1, config->beta2, 1e-8f, 0, 0, 0};
    if (vkg_model_set_adam(ctx, &gan->d, &hd) < 0 || vkg_model_set_adam(ctx, &gan->g, &hg) < 0 ||
        initialise(gan) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (!(gan->step[i] = vkg_rec_begin(ctx, 1)) || /* every dispatch timed */
            gan_record_step(gan->step[i], gan) < 0)
            return -1;
        if (i == 0) gan->reduce_bytes = gan->allsum.bytes; /* the sums of one step */
    }
    if (!(gan->sample = vkg_rec_begin(ctx, 0)) || !(gan->sample_fixed = vkg_rec_begin(ctx, 0)))
        return -1;
    if (gan_ranks(config) > 1) return record_samples_parts(gan);
    vkg_rng z_rng = {.seed = config->seed,
                     .stream = STREAM_Z_SAMPLE,
                     .counters = &gan->counters.buf,
                     .step_index = VKG_COUNTER_SAMPLE};
    if (vkg_fill_normal(gan->sample, &z_rng, 0, 1, &gan->z) < 0 ||
        gan_record_generate_into(gan->sample, gan, &gan->z, NULL) < 0)
        return -1;
    return gan_record_generate_into(gan->sample_fixed, gan, &gan->fixed_z, NULL);
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
