/* The recorded GAN training step: a seeded run is bit-exact, and training moves both models.
 * (Mode coverage on ring8 is issue 3's test: it needs more steps than CI can spend yet.) */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vkgan/data.h"
#include "vkgan/gan.h"

/* Two hidden layers of `hidden` units: ReLU in G, LeakyReLU(0.2) in D, a linear output. */
static void mlps(int hidden, vkg_layer_spec g[5], vkg_layer_spec d[5]) {
    for (int i = 0; i < 5; i++) {
        g[i] = (vkg_layer_spec){.kind = i % 2 ? VKG_LAYER_ACTIVATION : VKG_LAYER_DENSE,
                                .out = i == 4 ? 2 : hidden,
                                .bias = 1,
                                .act = VKG_RELU};
        d[i] = g[i];
        d[i].out = i == 4 ? 1 : hidden, d[i].act = VKG_LEAKY_RELU, d[i].slope = 0.2f;
    }
}

/* Trains a small ring8 GAN for `steps` steps and downloads both parameter ranges. */
static int train_small(uint32_t seed, int steps, float **g_params, float **d_params, size_t *ng,
                       size_t *nd) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_dataset ring;
    if (vkg_make_mixture("ring8", 1024, 1, &ring) < 0) return -1;
    vkg_gan_config config = {.batch = 32,
                             .latent = 8,
                             .lr_d = 1e-3f,
                             .lr_g = 1e-3f,
                             .beta1 = 0.5f,
                             .beta2 = 0.999f,
                             .seed = seed};
    vkg_layer_spec g[5], d[5];
    mlps(16, g, d);
    vkg_gan gan;
    int r = vkg_gan_create(ctx, arena, g, 5, d, 5, ring.points, ring.count, 2, 1, 1, &config, &gan);
    vkg_dataset_free(&ring);
    if (r < 0) return -1;
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
