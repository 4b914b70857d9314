/* DCGAN generator and discriminator layer lists (see include/vkgan/dcgan.h). The feature maps
 * double in channels as they halve in size: 28x28 runs 7 -> 14 -> 28, 32x32 runs
 * 4 -> 8 -> 16 -> 32, 64x64 runs 4 -> 8 -> 16 -> 32 -> 64; every step is a 4x4 kernel with
 * stride 2 and padding 1, and the ends are full-window 7x7 (28) or 4x4 kernels. */
#include "vkgan/dcgan.h"
#include "vkgan/error.h"

static int check(const vkg_dcgan_shape *s) {
    if (s->image_size != 28 && s->image_size != 32 && s->image_size != 64)
        return vkg_set_error("image size %d: DCGAN models are 28, 32 or 64 pixels", s->image_size);
    if (s->channels != 1 && s->channels != 3)
        return vkg_set_error("%d channels: images have 1 or 3", s->channels);
    if (s->latent < 1 || s->g_width < 1 || s->d_width < 1)
        return vkg_set_error("latent size and widths must be positive");
    if (!(s->g_dropout >= 0.0f && s->g_dropout < 1.0f))
        return vkg_set_error("G dropout %g is not in [0, 1)", s->g_dropout);
    return 0;
}

/* Stride-2 steps between the first (or last) feature map and the image. */
static int doublings(int size) {
    return size == 28 ? 2 : size == 32 ? 3 : 4;
}

static int first_kernel(int size) {
    return size == 28 ? 7 : 4;
}

int vkg_dcgan_generator(const vkg_dcgan_shape *s, vkg_layer_spec *L) {
    if (check(s) < 0) return -1;
    int steps = doublings(s->image_size), n = 0;
    int width = s->g_width << (steps - 1); /* channels of the first map */
    L[n++] = (vkg_layer_spec){
        .kind = VKG_LAYER_CONV_T, .out = width, .conv = {first_kernel(s->image_size), 1, 0}};
    for (int i = 0; i < steps; i++) {
        L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_BATCHNORM, .virtual_bn = s->g_virtual_bn};
        L[n++] = s->g_leaky ? (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION,
                                               .act = VKG_LEAKY_RELU,
                                               .slope = 0.2f}
                            : (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION, .act = VKG_RELU};
        if (s->g_dropout > 0)
            L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_DROPOUT, .p = s->g_dropout};
        int last = i == steps - 1;
        L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_CONV_T,
                                  .out = last ? s->channels : width / 2,
                                  .conv = {4, 2, 1},
                                  .bias = last && s->bias};
        width /= 2;
    }
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION, .act = VKG_TANH};
    return n;
}

int vkg_dcgan_discriminator(const vkg_dcgan_shape *s, vkg_layer_spec *L) {
    if (check(s) < 0) return -1;
    int steps = doublings(s->image_size), n = 0, width = s->d_width;
    for (int i = 0; i < steps; i++) {
        int first = i == 0 && s->bias; /* no batch norm after D's first conv */
        if (s->d_avg_pool) {
            L[n++] = (vkg_layer_spec){
                .kind = VKG_LAYER_CONV, .out = width << i, .conv = {3, 1, 1}, .bias = first};
            L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_AVG_POOL, .conv = {2, 2, 0}};
        } else {
            L[n++] = (vkg_layer_spec){
                .kind = VKG_LAYER_CONV, .out = width << i, .conv = {4, 2, 1}, .bias = first};
        }
        if (i > 0) L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_BATCHNORM};
        L[n++] =
            (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f};
    }
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_CONV,
                              .out = 1,
                              .conv = {first_kernel(s->image_size), 1, 0},
                              .bias = s->bias};
    return n;
}
