/* vkgan models: a sequence of layers whose parameters live in one GPU range (so one Adam
 * dispatch updates them all), with gradients, Adam moments and activations beside them. Forward
 * and backward passes are recorded into a recording, to be replayed step after step. */
#ifndef VKGAN_MODEL_H
#define VKGAN_MODEL_H

#include "vkgan/nn.h"

typedef enum vkg_layer_kind {
    VKG_LAYER_DENSE,     /* flattens its input; out = units */
    VKG_LAYER_CONV,      /* conv2d, weights [out][in][k][k] */
    VKG_LAYER_CONV_T,    /* conv_transpose2d, weights [in][out][k][k] */
    VKG_LAYER_BATCHNORM, /* per channel (or per feature after a dense layer) */
    VKG_LAYER_ACTIVATION,
    VKG_LAYER_DROPOUT,  /* p; active whenever the model runs (training and generation), the
                         * mask keyed by the model's step counter, so backward reuses it */
    VKG_LAYER_AVG_POOL, /* conv.kernel x conv.kernel windows, conv.stride, no padding */
    VKG_LAYER_MBSTD,    /* appends the minibatch standard deviation as one more channel */
} vkg_layer_kind;

typedef struct vkg_layer_spec {
    vkg_layer_kind kind;
    int out;       /* dense units or conv output channels */
    vkg_conv conv; /* conv and conv_t */
    int bias;      /* dense, conv, conv_t: with a bias */
    vkg_activation act;
    float slope;    /* leaky relu */
    float p;        /* dropout probability */
    int virtual_bn; /* batch norm: virtual (the reference batch's statistics with the example's) */
} vkg_layer_spec;

#define VKG_MAX_LAYERS 32

typedef struct vkg_layer {
    vkg_layer_spec spec;
    vkg_tensor w, b, dw, db; /* views into the parameter and gradient ranges (b: bias or beta) */
    vkg_batchnorm bn;        /* batch norm: gamma = w, beta = b, plus running stats */
    vkg_tensor out, dout;    /* this layer's output and the gradient with respect to it */
    vkg_tensor saved; /* minibatch stddev, virtual batch norm: statistics of the forward pass */
} vkg_layer;

typedef struct vkg_model {
    int batch, channels, height, width; /* input shape */
    vkg_layer layers[VKG_MAX_LAYERS];
    int count;
    size_t param_count;                       /* floats in the parameter range (with padding) */
    vkg_tensor params, grads, adam_m, adam_v; /* flat [1, param_count, 1, 1] */
    vkg_buf hyper;                            /* vkg_adam_hyper */
    vkg_rng rng; /* dropout masks: layer i draws stream rng.stream + i */
} vkg_model;

/* What a layer makes of its input: output shape, parameters (without alignment padding) and
 * forward multiply-adds per example. */
typedef struct vkg_layer_info {
    int c, h, w;
    size_t params;
    double macs;
} vkg_layer_info;
/* Fills info[i] for each layer given the input shape; -1 with an error naming the first layer
 * whose output would be empty (or a model that starts with batch norm). */
int vkg_layers_describe(const vkg_layer_spec *layers, int count, int c, int h, int w,
                        vkg_layer_info *info);
/* A short name of the layer kind ("conv", "batchnorm", ...). */
const char *vkg_layer_kind_name(vkg_layer_kind kind);

/* Lays out and allocates a model for inputs of shape batch x c x h x w. 0, or -1 with an error
 * naming the layer whose shape does not work. */
int vkg_model_create(vkg_arena *arena, const vkg_layer_spec *layers, int count, int batch, int c,
                     int h, int w, vkg_model *out);
/* Records the DCGAN initialisation: weights N(0, 0.02), batch-norm gamma N(1, 0.02), biases
 * and beta 0, running statistics (0, 1), Adam moments 0. */
int vkg_model_init(vkg_rec *rec, const vkg_model *m, uint32_t seed);
/* Writes Adam's hyperparameters (and resets its step) for this model. */
int vkg_model_set_adam(vkg_ctx *ctx, const vkg_model *m, const vkg_adam_hyper *hyper);
/* Changes only the learning rate (Adam's step and moments go on). Between steps: the host writes
 * the value a recorded step reads. */
int vkg_model_set_lr(vkg_ctx *ctx, const vkg_model *m, float lr);
const vkg_tensor *vkg_model_output(const vkg_model *m);
/* Whether some batch-norm layer is virtual (the model then needs a VKG_BN_REFERENCE pass). */
int vkg_model_has_virtual_bn(const vkg_model *m);

/* Records the forward pass of `input`; `training` is batch norm's mode (VKG_BN_TRAIN: batch
 * statistics, which the running ones follow). Virtual batch-norm layers normalise with the
 * statistics of the last VKG_BN_REFERENCE pass (the reference batch, which that pass normalises
 * with its own) pooled with each example's own values, in every other mode. */
int vkg_model_forward(vkg_rec *rec, vkg_model *m, const vkg_tensor *input, int training);
/* Records the backward pass of the last forward pass: dout is dL/d(output); din (may be NULL)
 * receives dL/d(input). With weight_grads the parameter gradients are written (accumulate: added
 * to what they hold), without them only the input gradient flows (e.g. through D into G). */
int vkg_model_backward(vkg_rec *rec, vkg_model *m, const vkg_tensor *input, const vkg_tensor *dout,
                       const vkg_tensor *din, int weight_grads, int accumulate, int training);
/* The same from layer `top` down: dout is dL/d(output of layer top), e.g. a loss on D's
 * features (feature matching); the layers above it are left out. */
int vkg_model_backward_from(vkg_rec *rec, vkg_model *m, int top, const vkg_tensor *input,
                            const vkg_tensor *dout, const vkg_tensor *din, int weight_grads,
                            int accumulate, int training);
/* Records one Adam step over all parameters (the step counter advances on the GPU first). */
int vkg_model_adam(vkg_rec *rec, vkg_model *m);

#endif
