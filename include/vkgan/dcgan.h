/* The DCGAN architectures (Radford et al. 2015) as layer lists: strided transposed convolutions
 * up in G, strided convolutions down in D, no pooling, z projected and reshaped into the first
 * feature map by a transposed convolution from 1x1, D's last feature map straight into one
 * logit, batch norm everywhere except G's output and D's input, ReLU in G, LeakyReLU(0.2) in D,
 * tanh at G's output. */
#ifndef VKGAN_DCGAN_H
#define VKGAN_DCGAN_H

#include "vkgan/model.h"

typedef struct vkg_dcgan_shape {
    int image_size; /* 28, 32 or 64 */
    int channels;   /* 1 or 3 */
    int latent;     /* z size (100 in the paper) */
    int g_width;    /* channels of G's last hidden map (ngf: 64 in the paper) */
    int d_width;    /* channels of D's first map (ndf) */
} vkg_dcgan_shape;

/* Fills layers (at most VKG_MAX_LAYERS) and returns how many, or -1 with an error naming the
 * invalid field. G's input is latent x 1 x 1; D's input is channels x size x size. */
int vkg_dcgan_generator(const vkg_dcgan_shape *shape, vkg_layer_spec *layers);
int vkg_dcgan_discriminator(const vkg_dcgan_shape *shape, vkg_layer_spec *layers);

#endif
