/* The DCGAN architectures (Radford et al. 2015) as layer lists: strided transposed convolutions
 * up in G, strided convolutions down in D, no pooling, z projected and reshaped into the first
 * feature map by a transposed convolution from 1x1, D's last feature map straight into one
 * logit, batch norm everywhere except G's output and D's input, ReLU in G, LeakyReLU(0.2) in D,
 * tanh at G's output. No bias terms unless shape->bias (then only where no batch norm follows:
 * batch norm's beta would cancel them). */
#ifndef VKGAN_DCGAN_H
#define VKGAN_DCGAN_H

#include "vkgan/model.h"

typedef struct vkg_dcgan_shape {
    int image_size; /* 28, 32 or 64 */
    int channels;   /* 1 or 3 */
    int latent;     /* z size (100 in the paper) */
    int g_width;    /* channels of G's last hidden map (ngf: 64 in the paper) */
    int d_width;    /* channels of D's first map (ndf) */
    /* variations (0: the paper's recipe) */
    float g_dropout;  /* dropout with this p after each of G's hidden activations */
    int g_leaky;      /* LeakyReLU(0.2) in G instead of ReLU */
    int d_avg_pool;   /* D downsamples with a 3x3 stride-1 conv and a 2x2 average pool */
    int g_virtual_bn; /* virtual batch norm in G (a reference batch's statistics) */
    int bias;         /* bias terms in the layers not followed by batch norm: G's output layer,
                         D's first and last convolutions (PyTorch's bias=True there) */
} vkg_dcgan_shape;

/* Fills layers (at most VKG_MAX_LAYERS) and returns how many, or -1 with an error naming the
 * invalid field. G's input is latent x 1 x 1; D's input is channels x size x size. */
int vkg_dcgan_generator(const vkg_dcgan_shape *shape, vkg_layer_spec *layers);
int vkg_dcgan_discriminator(const vkg_dcgan_shape *shape, vkg_layer_spec *layers);

/* Small MLPs for 2D point data (ring8, grid25) from the same dense kernels: `depth` hidden
 * layers of `hidden` units with biases, ReLU in G and LeakyReLU(0.2) in D, linear outputs
 * (`out` values for G, one logit for D). Return the layer count or -1 with an error. */
int vkg_mlp_generator(int hidden, int depth, int out, vkg_layer_spec *layers);
int vkg_mlp_discriminator(int hidden, int depth, vkg_layer_spec *layers);

#endif
