/* The recorded GAN training step: a seeded run is bit-exact, and training moves both models.
 * (Mode coverage on ring8 is issue 3's test: it needs more steps than CI can spend yet.) */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vkgan/data.h"
#include "vkgan/dcgan.h"
#include "vkgan/gan.h"
#include "vkgan/io.h"

/* A ring8 GAN on `points` points (dataset seed 1) with MLPs of `hidden` units, Adam 1e-3 and
 * beta1 0.5. */
static int ring_gan(uint32_t seed, int points, int batch, int latent, int hidden, vkg_gan *gan) {
    vkg_dataset ring;
    if (vkg_make_mixture("ring8", points, 1, &ring) < 0) return -1;
    vkg_gan_config config = {.batch = batch,
                             .latent = latent,
                             .lr_d = 1e-3f,
                             .lr_g = 1e-3f,
                             .beta1 = 0.5f,
                             .beta2 = 0.999f,
                             .seed = seed};
    vkg_layer_spec g[5], d[5];
    vkg_mlp_generator(hidden, 2, 2, g);
    vkg_mlp_discriminator(hidden, 2, d);
    vkg_gan_data data = {ring.points, 0, ring.count, 2, 1, 1};
    int r = vkg_gan_create(test_ctx(), test_arena(test_ctx()), g, 5, d, 5, &data, &config, gan);
    vkg_dataset_free(&ring);
    return r;
}

/* A small one: 200 points, so an epoch is 6.25 batches of 32. */
static int small_gan(uint32_t seed, int hidden, vkg_gan *gan) {
    return ring_gan(seed, 200, 32, 8, hidden, gan);
}

/* Trains a small GAN for `steps` steps and downloads both parameter ranges. */
static int train_small(uint32_t seed, int steps, float **g_params, float **d_params, size_t *ng,
                       size_t *nd) {
    vkg_ctx *ctx = test_ctx();
    vkg_gan gan;
    if (small_gan(seed, 16, &gan) < 0) return -1;
    int r;
    *ng = gan.g.param_count, *nd = gan.d.param_count;
    *g_params = test_alloc(sizeof(float) * *ng);
    *d_params = test_alloc(sizeof(float) * *nd);
    r = vkg_gan_train(&gan, steps);
    if (r == 0) r = vkg_tensor_download(ctx, &gan.g.params, *g_params);
    if (r == 0) r = vkg_tensor_download(ctx, &gan.d.params, *d_params);
    vkg_gan_destroy(&gan);
    return r;
}

TEST(gan_same_seed_is_bit_exact) {
    float *g0, *d0, *g1, *d1, *g2, *d2, *g3, *d3;
    size_t ng, nd;
    CHECK_OK(train_small(5, 0, &g0, &d0, &ng, &nd));
    CHECK_OK(train_small(5, 20, &g1, &d1, &ng, &nd));
    CHECK_OK(train_small(5, 20, &g2, &d2, &ng, &nd));
    CHECK_OK(train_small(6, 20, &g3, &d3, &ng, &nd));
    CHECK(memcmp(g1, g2, ng * sizeof(float)) == 0, "G differs between two runs with one seed");
    CHECK(memcmp(d1, d2, nd * sizeof(float)) == 0, "D differs between two runs with one seed");
    CHECK(memcmp(g1, g3, ng * sizeof(float)) != 0, "G is the same for another seed");
    CHECK(memcmp(g0, g1, ng * sizeof(float)) != 0 && memcmp(d0, d1, nd * sizeof(float)) != 0,
          "20 training steps changed nothing");
}

static int download_all(vkg_gan *gan, float **g, float **d) {
    *g = test_alloc(sizeof(float) * gan->g.param_count * 3);
    *d = test_alloc(sizeof(float) * gan->d.param_count * 3);
    const vkg_tensor *gt[3] = {&gan->g.params, &gan->g.adam_m, &gan->g.adam_v};
    const vkg_tensor *dt[3] = {&gan->d.params, &gan->d.adam_m, &gan->d.adam_v};
    for (int i = 0; i < 3; i++)
        if (vkg_tensor_download(gan->ctx, gt[i], *g + i * gan->g.param_count) < 0 ||
            vkg_tensor_download(gan->ctx, dt[i], *d + i * gan->d.param_count) < 0)
            return -1;
    return 0;
}

/* 12 steps in one run equal 6 steps, a checkpoint, a new process-like start from it, 6 steps:
 * weights and Adam moments bit for bit (the second half crosses an epoch boundary). */
TEST(gan_resume_is_bit_exact) {
    char path[4200];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", test_tmpdir());
    vkg_gan straight, first, resumed;
    float *g1, *d1, *g2, *d2;
    CHECK_OK(small_gan(5, 16, &straight));
    int ok = vkg_gan_train(&straight, 12) == 0 && download_all(&straight, &g1, &d1) == 0;
    size_t ng = straight.g.param_count * 3, nd = straight.d.param_count * 3;
    vkg_gan_destroy(&straight);
    CHECK(ok, "%s", vkg_error());
    CHECK_OK(small_gan(5, 16, &first));
    ok = vkg_gan_train(&first, 6) == 0 && vkg_gan_save(&first, path, NULL, 0) == 0;
    vkg_gan_destroy(&first);
    CHECK(ok, "%s", vkg_error());
    CHECK_OK(small_gan(5, 16, &resumed));
    ok = vkg_gan_load(&resumed, path) == 0 && vkg_gan_train(&resumed, 6) == 0 &&
         download_all(&resumed, &g2, &d2) == 0;
    vkg_gan_destroy(&resumed);
    CHECK(ok, "%s", vkg_error());
    CHECK(memcmp(g1, g2, ng * sizeof(float)) == 0, "G (weights or moments) differs after resume");
    CHECK(memcmp(d1, d2, nd * sizeof(float)) == 0, "D (weights or moments) differs after resume");

    vkg_gan other;
    CHECK_OK(small_gan(5, 24, &other)); /* wider layers: another model */
    int refused = vkg_gan_load(&other, path) < 0;
    vkg_gan_destroy(&other);
    CHECK(refused && strstr(vkg_error(), "another model") && strstr(vkg_error(), "G.0.weight"),
          "loading into another model: %s", vkg_error());
    char bogus[4200];
    snprintf(bogus, sizeof bogus, "%s/plain.safetensors", test_tmpdir());
    float x = 1;
    vkg_st_tensor t = {"x", VKG_F32, 1, {1, 0, 0, 0}, &x};
    CHECK_OK(vkg_safetensors_write(bogus, &t, 1, NULL, 0));
    CHECK_OK(small_gan(5, 16, &other));
    refused = vkg_gan_load(&other, bogus) < 0;
    vkg_gan_destroy(&other);
    CHECK(refused && strstr(vkg_error(), "not a vkgan GAN checkpoint"), "%s", vkg_error());
}

/* The mode-collapse benchmark (issue 3): ring8, MLPs of 2 x 128, batch 256, Adam 1e-3 then 2e-4
 * from step 2000, seed 5; after 3000 steps at least 7 of 8 modes and 80% of the samples within
 * 3 sigma of a mode. Measured on lavapipe: 8 modes, 83.8%, about 9 minutes (the run is
 * deterministic on one device, so it gives these numbers every time). */
TEST(gan_ring8_covers_the_modes) {
    vkg_ctx *ctx = test_ctx();
    vkg_dataset ring; /* for its modes */
    CHECK_OK(vkg_make_mixture("ring8", 1, 1, &ring));
    vkg_gan gan = {0};
    int r = ring_gan(5, 8192, 256, 16, 128, &gan);
    float *points = test_alloc(sizeof(float) * 2 * 256 * 10), losses[VKG_LOSSES] = {0};
    if (r == 0) r = vkg_gan_train(&gan, 2000);
    if (r == 0) r = vkg_model_set_lr(ctx, &gan.g, 2e-4f) | vkg_model_set_lr(ctx, &gan.d, 2e-4f);
    if (r == 0) r = vkg_gan_train(&gan, 1000);
    if (r == 0) r = vkg_gan_losses(&gan, losses);
    for (int k = 0; r == 0 && k < 10; k++) r = vkg_gan_sample(&gan, (uint32_t)k, points + k * 512);
    int covered = 0;
    double hq = 0;
    if (r == 0) vkg_mode_metrics(&ring, points, 2560, &covered, &hq);
    vkg_gan_destroy(&gan); /* safe after a failed create too: it zeroes the struct first */
    vkg_dataset_free(&ring);
    CHECK(r == 0, "training failed: %s", vkg_error());
    CHECK(losses[VKG_DX] > 0 && losses[VKG_DX] < 1 && losses[VKG_DGZ_D] > 0 &&
              losses[VKG_DGZ_D] < 1,
          "D(x) %g, D(G(z)) %g", losses[VKG_DX], losses[VKG_DGZ_D]);
    CHECK(covered >= 7 && hq >= 0.8, "after 3000 steps: %d of 8 modes, %.1f%% high quality",
          covered, 100 * hq);
}
