/* The DCGAN builders: the paper's 64x64 models have exactly the parameter counts of PyTorch's
 * DCGAN (nz 100, ngf = ndf = 64, nc 3: G 3,576,704 and D 2,765,568), and every size builds and
 * runs G -> D on the GPU. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "vkgan/dcgan.h"
#include "vkgan/error.h"

static size_t total_params(const vkg_layer_spec *layers, int n, int c, int h, int w,
                           vkg_layer_info *info) {
    if (vkg_layers_describe(layers, n, c, h, w, info) < 0) return 0;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += info[i].params;
    return total;
}

TEST(dcgan64_matches_the_paper_model) {
    vkg_dcgan_shape shape = {
        .image_size = 64, .channels = 3, .latent = 100, .g_width = 64, .d_width = 64};
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    vkg_layer_info gi[VKG_MAX_LAYERS], di[VKG_MAX_LAYERS];
    int ng = vkg_dcgan_generator(&shape, g), nd = vkg_dcgan_discriminator(&shape, d);
    CHECK(ng > 0 && nd > 0, "%s", vkg_error());
    size_t pg = total_params(g, ng, 100, 1, 1, gi), pd = total_params(d, nd, 3, 64, 64, di);
    CHECK(pg == 3576704, "G has %zu parameters, PyTorch's DCGAN 3576704", pg);
    CHECK(pd == 2765568, "D has %zu parameters, PyTorch's DCGAN 2765568", pd);
    const vkg_layer_info *go = &gi[ng - 1], *dout = &di[nd - 1];
    CHECK(go->c == 3 && go->h == 64 && go->w == 64, "G makes %dx%dx%d", go->c, go->h, go->w);
    CHECK(dout->c == 1 && dout->h == 1 && dout->w == 1, "D gives %dx%dx%d", dout->c, dout->h,
          dout->w);
    CHECK(g[ng - 1].kind == VKG_LAYER_ACTIVATION && g[ng - 1].act == VKG_TANH, "G ends in tanh");
    CHECK(d[1].kind == VKG_LAYER_ACTIVATION, "D's input layer has batch norm");
    CHECK(g[ng - 2].kind == VKG_LAYER_CONV_T, "G's output layer has batch norm");
}

static void run_dcgan(int size, int channels) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_dcgan_shape shape = {
        .image_size = size, .channels = channels, .latent = 12, .g_width = 4, .d_width = 4};
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    int ng = vkg_dcgan_generator(&shape, g), nd = vkg_dcgan_discriminator(&shape, d);
    CHECK(ng > 0 && nd > 0, "%s", vkg_error());
    vkg_model G, D;
    CHECK_OK(vkg_model_create(arena, g, ng, 3, 12, 1, 1, &G));
    CHECK_OK(vkg_model_create(arena, d, nd, 3, channels, size, size, &D));
    const vkg_tensor *image = vkg_model_output(&G);
    CHECK(image->c == channels && image->h == size && image->w == size, "G makes %dx%dx%d",
          image->c, image->h, image->w);
    vkg_tensor z = upload_tensor(ctx, arena, 3, 12, 1, 1, random_doubles(36, -2, 2, 3));
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_model_init(rec, &G, 1));
    CHECK_OK(vkg_model_init(rec, &D, 2));
    CHECK_OK(vkg_model_forward(rec, &G, &z, 1));
    CHECK_OK(vkg_model_forward(rec, &D, image, 1));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    size_t n = vkg_tensor_count(image);
    float *pixels = download_tensor(ctx, image),
          *logits = download_tensor(ctx, vkg_model_output(&D));
    int varied = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(pixels[i] > -1 && pixels[i] < 1, "pixel %zu = %g outside tanh's range", i, pixels[i]);
        varied |= pixels[i] != pixels[0];
    }
    CHECK(varied, "G's output is constant");
    for (int i = 0; i < 3; i++) CHECK(isfinite(logits[i]), "logit %d = %g", i, logits[i]);
}

TEST(dcgan28_grey_runs) {
    run_dcgan(28, 1);
}
TEST(dcgan32_colour_runs) {
    run_dcgan(32, 3);
}
TEST(dcgan64_colour_runs) {
    run_dcgan(64, 3);
}

TEST(dcgan_rejects_unsupported_shapes) {
    vkg_layer_spec layers[VKG_MAX_LAYERS];
    vkg_dcgan_shape bad_size = {
        .image_size = 48, .channels = 3, .latent = 100, .g_width = 64, .d_width = 64};
    vkg_dcgan_shape bad_channels = {
        .image_size = 32, .channels = 4, .latent = 100, .g_width = 64, .d_width = 64};
    CHECK(vkg_dcgan_generator(&bad_size, layers) < 0 && strstr(vkg_error(), "48"), "%s",
          vkg_error());
    CHECK(vkg_dcgan_discriminator(&bad_channels, layers) < 0 && strstr(vkg_error(), "4 channels"),
          "%s", vkg_error());
}

/* The variations: LeakyReLU and dropout in G, average-pool downsampling in D, same shapes. */
TEST(dcgan_variations) {
    vkg_dcgan_shape s = {.image_size = 28,
                         .channels = 1,
                         .latent = 10,
                         .g_width = 4,
                         .d_width = 4,
                         .g_dropout = 0.5f,
                         .g_leaky = 1,
                         .d_avg_pool = 1};
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    int ng = vkg_dcgan_generator(&s, g), nd = vkg_dcgan_discriminator(&s, d);
    CHECK(ng > 0 && nd > 0, "%s", vkg_error());
    int relu = 0, leaky = 0, dropout = 0, pools = 0, strided = 0;
    for (int i = 0; i < ng; i++) {
        relu += g[i].kind == VKG_LAYER_ACTIVATION && g[i].act == VKG_RELU;
        leaky += g[i].kind == VKG_LAYER_ACTIVATION && g[i].act == VKG_LEAKY_RELU;
        dropout += g[i].kind == VKG_LAYER_DROPOUT && g[i].p == 0.5f;
    }
    for (int i = 0; i < nd; i++) {
        pools += d[i].kind == VKG_LAYER_AVG_POOL;
        strided += d[i].kind == VKG_LAYER_CONV && d[i].conv.stride > 1;
    }
    CHECK(relu == 0 && leaky == 2 && dropout == 2, "G: %d relu, %d leaky, %d dropout", relu, leaky,
          dropout);
    CHECK(pools == 2 && strided == 0, "D: %d pools, %d strided convs", pools, strided);
    vkg_layer_info gi[VKG_MAX_LAYERS], di[VKG_MAX_LAYERS];
    CHECK_OK(vkg_layers_describe(g, ng, 10, 1, 1, gi));
    CHECK_OK(vkg_layers_describe(d, nd, 1, 28, 28, di));
    CHECK(gi[ng - 1].c == 1 && gi[ng - 1].h == 28 && di[nd - 1].c == 1 && di[nd - 1].h == 1,
          "G makes %dx%d, D gives %dx%d", gi[ng - 1].c, gi[ng - 1].h, di[nd - 1].c, di[nd - 1].h);
    s.g_dropout = 1.0f;
    CHECK(vkg_dcgan_generator(&s, g) < 0 && strstr(vkg_error(), "dropout"), "p = 1 accepted");
}

/* --bias: bias terms exactly where no batch norm follows (G's output conv, D's first and last
 * convs), so the paper's 64x64 models gain 3 (G) and 64 + 1 (D) parameters, and none elsewhere. */
TEST(dcgan_bias_only_where_no_batch_norm_follows) {
    for (int pool = 0; pool <= 1; pool++) {
        vkg_dcgan_shape shape = {.image_size = 64,
                                 .channels = 3,
                                 .latent = 100,
                                 .g_width = 64,
                                 .d_width = 64,
                                 .d_avg_pool = pool,
                                 .bias = 1};
        vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
        vkg_layer_info gi[VKG_MAX_LAYERS], di[VKG_MAX_LAYERS];
        int ng = vkg_dcgan_generator(&shape, g), nd = vkg_dcgan_discriminator(&shape, d);
        CHECK(ng > 0 && nd > 0, "%s", vkg_error());
        for (int i = 0; i < ng; i++) {
            int conv = g[i].kind == VKG_LAYER_CONV_T;
            int bn_next = i + 1 < ng && g[i + 1].kind == VKG_LAYER_BATCHNORM;
            CHECK(g[i].bias == (conv && !bn_next), "G layer %d: bias %d", i, g[i].bias);
        }
        int first_conv = -1;
        for (int i = 0; i < nd; i++) {
            if (d[i].kind != VKG_LAYER_CONV) {
                CHECK(!d[i].bias, "D layer %d (not a conv) has a bias", i);
                continue;
            }
            if (first_conv < 0) first_conv = i;
            int want = i == first_conv || i == nd - 1;
            CHECK(d[i].bias == want, "D layer %d: bias %d, want %d", i, d[i].bias, want);
        }
        if (!pool) {
            size_t pg = total_params(g, ng, 100, 1, 1, gi), pd = total_params(d, nd, 3, 64, 64, di);
            CHECK(pg == 3576704 + 3, "G with biases has %zu parameters", pg);
            CHECK(pd == 2765568 + 64 + 1, "D with biases has %zu parameters", pd);
        }
    }
    vkg_dcgan_shape plain = {
        .image_size = 28, .channels = 1, .latent = 10, .g_width = 4, .d_width = 4};
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    int ng = vkg_dcgan_generator(&plain, g), nd = vkg_dcgan_discriminator(&plain, d);
    for (int i = 0; i < ng; i++) CHECK(!g[i].bias, "default G layer %d has a bias", i);
    for (int i = 0; i < nd; i++) CHECK(!d[i].bias, "default D layer %d has a bias", i);
}
