/* vkgan kernel library: each function records one kernel (forward or backward) into a recording.
 * Shapes are NCHW fp32; a dense [N, F] tensor is n = N, c = F, h = w = 1. Every function
 * returns 0, or -1 with vkg_error() naming the shape or argument that is wrong. */
#ifndef VKGAN_NN_H
#define VKGAN_NN_H

#include "vkgan/gpu.h"

/* The activations (vkg_activation_forward below). */
typedef enum vkg_activation { VKG_RELU, VKG_LEAKY_RELU, VKG_TANH, VKG_SIGMOID } vkg_activation;

/* ---- dense: y[N, out] = x[N, in] w[in, out] + b[out] ---- */
int vkg_dense_forward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *w, const vkg_tensor *b,
                      const vkg_tensor *y);
/* y = act(x w + b) with the activation `kind` (slope: the leaky ReLU's) applied as the layer
 * writes its output where the device's kernel can (the packed GEMMs of CPU devices: one pass
 * instead of two); elsewhere the layer writes `pre` (its output tensor, y's shape) and an
 * activation pass reads it. y holds the same floats either way: those of vkg_dense_forward into
 * pre then vkg_activation_forward(pre -> y). `pre` is left unwritten when fused. The conv
 * versions below do the same for conv2d and conv_transpose2d. */
int vkg_dense_act_forward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *w,
                          const vkg_tensor *b, vkg_activation kind, float slope,
                          const vkg_tensor *pre, const vkg_tensor *y);
/* dx = dy w^T */
int vkg_dense_backward_input(vkg_rec *rec, const vkg_tensor *dy, const vkg_tensor *w,
                             const vkg_tensor *dx);
/* dw (+)= x^T dy */
int vkg_dense_backward_weight(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *dy,
                              const vkg_tensor *dw, int accumulate);
/* db[c] (+)= sum over batch and space of dy[:, c] (bias gradient of dense and conv layers) */
int vkg_bias_backward(vkg_rec *rec, const vkg_tensor *dy, const vkg_tensor *db, int accumulate);
/* out[c] (+)= scale * sum over batch and space of x[:, c] (scale 1/(N*H*W) gives the mean) */
int vkg_channel_sum(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *out, float scale,
                    int accumulate);

/* ---- convolutions: square kernel, stride, zero padding ---- */
typedef struct vkg_conv {
    int kernel, stride, pad;
} vkg_conv;
/* Output size of a convolution / a transposed convolution along one axis. */
int vkg_conv_out_size(int in, const vkg_conv *p);
int vkg_conv_transpose_out_size(int in, const vkg_conv *p);

/* y = conv2d(x, w) + b; w is [out_channels, in_channels, k, k]; b may be NULL */
int vkg_conv2d_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x, const vkg_tensor *w,
                       const vkg_tensor *b, const vkg_tensor *y);
int vkg_conv2d_act_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                           const vkg_tensor *w, const vkg_tensor *b, vkg_activation kind,
                           float slope, const vkg_tensor *pre, const vkg_tensor *y);
int vkg_conv2d_backward_input(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *dy,
                              const vkg_tensor *w, const vkg_tensor *dx);
int vkg_conv2d_backward_weight(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                               const vkg_tensor *dy, const vkg_tensor *dw, int accumulate);
/* y = conv_transpose2d(x, w) + b; w is [in_channels, out_channels, k, k] (PyTorch's layout) */
int vkg_conv_transpose2d_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                                 const vkg_tensor *w, const vkg_tensor *b, const vkg_tensor *y);
int vkg_conv_transpose2d_act_forward(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                                     const vkg_tensor *w, const vkg_tensor *b, vkg_activation kind,
                                     float slope, const vkg_tensor *pre, const vkg_tensor *y);
int vkg_conv_transpose2d_backward_input(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *dy,
                                        const vkg_tensor *w, const vkg_tensor *dx);
int vkg_conv_transpose2d_backward_weight(vkg_rec *rec, const vkg_conv *p, const vkg_tensor *x,
                                         const vkg_tensor *dy, const vkg_tensor *dw,
                                         int accumulate);

/* ---- sums across processes (data-parallel training) ----
 * A point of a recording where ranges are summed across the processes of a data-parallel run:
 * the ranges are copied to host-visible staging, `sum` adds them across the processes on the
 * host (vkg_rec_host_call), the result is scaled by `scale` and copied back. Each point keeps
 * its staging for the lifetime of the vkg_allsum. */
typedef struct vkg_allsum_point vkg_allsum_point;
typedef struct vkg_allsum {
    int ranks; /* processes (> 1) */
    /* sums `count` floats across the processes in place, in a fixed order (the same result in
     * every process); 0, or -1 with vkg_error() */
    int (*sum)(void *user, float *values, size_t count);
    void *user;
    vkg_arena *host; /* a mapped arena (vkg_arena_create_mapped) for the staging */
    vkg_allsum_point **points;
    int count;
    double seconds, bytes; /* host time in the sums so far, bytes summed per replay of all */
} vkg_allsum;
int vkg_allsum_record(vkg_rec *rec, vkg_allsum *s, const vkg_buf *const *ranges, int n,
                      float scale);
/* Frees the points (not the arena). */
void vkg_allsum_free(vkg_allsum *s);

/* ---- batch normalisation over (N, H, W) per channel; dense features use h = w = 1 ---- */
typedef struct vkg_batchnorm {
    vkg_tensor gamma, beta;               /* [C] */
    vkg_tensor running_mean, running_var; /* [C] */
    vkg_tensor saved;                     /* [2C]: batch mean, 1/sqrt(var + eps) */
    float eps, momentum;
    /* Synchronised batch norm (data-parallel training; NULL: this process's batch alone): in
     * VKG_BN_TRAIN the statistics are those of the global batch, its per-channel sums added
     * across the processes (and in the backward pass the sums of dy and dy * xhat); `sums`
     * [2C] carries them. The parameters' gradients stay this process's. */
    vkg_allsum *sync;
    vkg_tensor sums;
} vkg_batchnorm;
/* training: VKG_BN_TRAIN normalises with the batch statistics and updates the running ones,
 * VKG_BN_BATCH_STATS uses the batch statistics and leaves the running ones alone (generating
 * samples during training), VKG_BN_EVAL uses the running ones. VKG_BN_REFERENCE is a model's
 * reference pass for virtual batch norm (see vkg_model_forward); to this kernel it is
 * VKG_BN_BATCH_STATS. */
enum { VKG_BN_EVAL, VKG_BN_TRAIN, VKG_BN_BATCH_STATS, VKG_BN_REFERENCE };
int vkg_batchnorm_forward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                          const vkg_tensor *y, int training);
/* dx, and dgamma and dbeta (added to what they hold with accumulate); dgamma and dbeta may both
 * be NULL: only dx is written (a pass that carries the gradient through a model whose parameters
 * are not trained by it, e.g. D in G's step). */
int vkg_batchnorm_backward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                           const vkg_tensor *dy, const vkg_tensor *dx, const vkg_tensor *dgamma,
                           const vkg_tensor *dbeta, int training, int accumulate);
/* Batch norm and the ReLU or leaky ReLU after it (act: VKG_RELU, or VKG_LEAKY_RELU with slope
 * >= 0; -1: none) in one pass each way, for a model's BN -> activation pair: the forward pass
 * writes y = act(bn(x)) and not the BN output; the backward pass takes that y and its gradient
 * dy and writes what vkg_activation_backward then vkg_batchnorm_backward would, the same floats,
 * without the gradient in between. Not with bn->sync (an error). */
int vkg_batchnorm_act_forward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                              const vkg_tensor *y, int training, int act, float slope);
int vkg_batchnorm_act_backward(vkg_rec *rec, const vkg_batchnorm *bn, const vkg_tensor *x,
                               const vkg_tensor *y, const vkg_tensor *dy, const vkg_tensor *dx,
                               const vkg_tensor *dgamma, const vkg_tensor *dbeta, int training,
                               int accumulate, int act, float slope);

/* ---- virtual batch normalisation (Salimans et al. 2016) ----
 * Example n of x is normalised with the statistics of a reference batch of ref_count examples
 * together with its own values, per channel: bn->saved must hold the reference batch's
 * [mean[C], 1/sqrt(var + eps)[C]] (a VKG_BN_BATCH_STATS forward pass over it writes them); stats
 * ([2 N C]) receives each example's mean and 1/sqrt(var + eps) for the backward pass, which
 * holds the reference statistics constant. dx or dgamma (with dbeta) may be NULL. */
int vkg_vbn_forward(vkg_rec *rec, const vkg_batchnorm *bn, int ref_count, const vkg_tensor *x,
                    const vkg_tensor *stats, const vkg_tensor *y);
int vkg_vbn_backward(vkg_rec *rec, const vkg_batchnorm *bn, int ref_count, const vkg_tensor *x,
                     const vkg_tensor *stats, const vkg_tensor *dy, const vkg_tensor *dx,
                     const vkg_tensor *dgamma, const vkg_tensor *dbeta, int accumulate);

/* ---- activations (the enum is at the top); backward uses the forward output y ---- */
int vkg_activation_forward(vkg_rec *rec, vkg_activation kind, float slope, const vkg_tensor *x,
                           const vkg_tensor *y);
int vkg_activation_backward(vkg_rec *rec, vkg_activation kind, float slope, const vkg_tensor *y,
                            const vkg_tensor *dy, const vkg_tensor *dx);

/* ---- average pooling, k x k windows, stride, no padding ---- */
int vkg_avg_pool2d_forward(vkg_rec *rec, int kernel, int stride, const vkg_tensor *x,
                           const vkg_tensor *y);
int vkg_avg_pool2d_backward(vkg_rec *rec, int kernel, int stride, const vkg_tensor *dy,
                            const vkg_tensor *dx);

/* ---- minibatch standard deviation (Karras et al. 2018) ----
 * y = [x, m]: one more channel holding m = mean over features f = (c, h, w) of
 * sqrt(var over the batch of x[:, f] + 1e-8), so D sees how diverse the batch is. saved holds
 * 2 * C*H*W + 2 floats (the forward's statistics, read by the backward pass). */
int vkg_mbstd_forward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *y,
                      const vkg_tensor *saved);
int vkg_mbstd_backward(vkg_rec *rec, const vkg_tensor *x, const vkg_tensor *dy,
                       const vkg_tensor *saved, const vkg_tensor *dx);

/* ---- class conditioning ----
 * y = [x, one_hot(label)]: `classes` more channels, 1 in channel C + label[n] over the whole
 * map (labels are floats: floor, clamped to 0 .. classes-1). The backward pass keeps dy's
 * first C channels. */
int vkg_onehot_concat(vkg_rec *rec, const vkg_tensor *x, const vkg_buf *labels, int classes,
                      const vkg_tensor *y);
int vkg_onehot_backward(vkg_rec *rec, const vkg_tensor *dy, const vkg_buf *labels, int classes,
                        const vkg_tensor *dx);

/* ---- counter-based randomness (Philox4x32-10) ----
 * Element i draws philox(counter = (i, step, 0, 0), key = (seed, stream)), where
 * step = step_base + counters[step_index] when `counters` is set (a GPU-side step counter). */
typedef struct vkg_rng {
    uint32_t seed, stream, step_base;
    const vkg_buf *counters; /* NULL: step = step_base */
    uint32_t step_index;
    /* Data-parallel ranks: this process's batch is examples first .. first + n - 1 of a global
     * batch of `total` examples (total 0: its batch is the whole one). Element i of a draw into
     * an [n, ...] tensor is keyed as element first * (count / n) + i, so the global batch's
     * numbers do not depend on how it is split. */
    uint32_t first, total;
} vkg_rng;
/* y = dropout(x): kept elements scaled by 1/(1-p); the backward pass is the same call on dy */
int vkg_dropout(vkg_rec *rec, const vkg_rng *rng, float p, const vkg_tensor *x,
                const vkg_tensor *y);
int vkg_fill_normal(vkg_rec *rec, const vkg_rng *rng, float mean, float std, const vkg_tensor *y);
int vkg_fill_uniform(vkg_rec *rec, const vkg_rng *rng, float lo, float hi, const vkg_tensor *y);
/* D's targets for one class: each is uniform in [lo, hi] (lo = hi: a constant, e.g. 0.9 for
 * one-sided label smoothing), and with probability `flip` drawn from the other class's range
 * [other_lo, other_hi] instead (noisy labels). */
typedef struct vkg_label_noise {
    float lo, hi, other_lo, other_hi, flip;
} vkg_label_noise;
int vkg_fill_labels(vkg_rec *rec, const vkg_rng *rng, const vkg_label_noise *labels,
                    const vkg_tensor *y);
/* y = x + std * sigma * N(0, 1), sigma read from the first float of `sigma` (e.g. a decaying
 * instance-noise level kept on the GPU); x and y may be the same tensor */
int vkg_add_normal(vkg_rec *rec, const vkg_rng *rng, float std, const vkg_buf *sigma,
                   const vkg_tensor *x, const vkg_tensor *y);

/* The batch of the current step in shuffled-epoch order: example b of step s is sample
 * g = s * batch + b (with rng->total set: s * total + rng->first + b), from epoch g / rows, at row
 * permute(g % rows, seed, epoch) (a keyed Feistel permutation, so each epoch visits every row once
 * and the order needs no storage). The step is rng->step_base + counters[step_index] (step_base may
 * be (uint32_t)-1 for a counter advanced at the top of the step); rng->stream is unused. data holds
 * `rows` rows of out's row length, as bytes (u8: 0..255 scaled to [-1, 1]) or floats. Valid while
 * steps * batch < 2^32. */
int vkg_gather_epoch_batch(vkg_rec *rec, const vkg_rng *rng, const vkg_buf *data, int u8, int rows,
                           const vkg_tensor *out);
/* The same for data in two ranges (a dataset larger than one binding): rows 0 .. split-1 in
 * data, rows split .. rows-1 in rest. */
int vkg_gather_epoch_batch_split(vkg_rec *rec, const vkg_rng *rng, const vkg_buf *data,
                                 const vkg_buf *rest, int split, int u8, int rows,
                                 const vkg_tensor *out);

/* ---- loss ----
 * Binary cross-entropy with logits against targets in [0, 1], mean over the N logits.
 * out (2 floats): [loss, mean sigmoid(logit)]; dlogits = grad_scale * (sigmoid - t) / N. */
int vkg_bce_with_logits(vkg_rec *rec, const vkg_tensor *logits, const vkg_tensor *targets,
                        const vkg_buf *out, const vkg_tensor *dlogits, float grad_scale);

/* Softmax cross-entropy over N rows of K logits (logits [N, K], K <= 64), one workgroup.
 * out (2 + K floats), summed over the rows (added to what it holds with accumulate):
 * [sum of -log p(label), rows whose argmax is their label, rows predicted as class k for each k].
 * dlogits = grad_scale * (softmax - one_hot(label)) / N. labels (N floats, floor taken) may be
 * NULL: only the histogram is written; dlogits may be NULL: no gradient. */
#define VKG_SOFTMAX_MAX_CLASSES 64
int vkg_softmax_xent(vkg_rec *rec, const vkg_tensor *logits, const vkg_buf *labels,
                     const vkg_buf *out, const vkg_tensor *dlogits, float grad_scale,
                     int accumulate);

/* Feature matching (Salimans et al. 2016): loss[0] = sum_j (real_mean_j - fake_mean_j)^2 and
 * grad[n, j] = 2 (fake_mean_j - real_mean_j) / N, the loss's gradient with respect to each
 * generated example's features (grad is [N, features]; the means are over the batch). */
int vkg_feature_match(vkg_rec *rec, const vkg_tensor *real_mean, const vkg_tensor *fake_mean,
                      const vkg_buf *loss, const vkg_tensor *grad);

/* ---- Adam over a whole parameter arena ---- */
typedef struct vkg_adam_hyper { /* the layout of the hyperparameter buffer the kernel reads */
    float lr, beta1, beta2, eps, weight_decay;
    uint32_t decoupled; /* 0: L2 added to the gradient (Adam); 1: decoupled decay (AdamW) */
    uint32_t step;      /* t, counted from 1; advance it with vkg_counter_add */
} vkg_adam_hyper;
#define VKG_ADAM_STEP_INDEX 6 /* the index of `step` in the buffer, in 32-bit words */
int vkg_adam_step(vkg_rec *rec, const vkg_buf *params, const vkg_buf *grads, const vkg_buf *m,
                  const vkg_buf *v, const vkg_buf *hyper);
/* ---- parameter averages ----
 * avg += w (params - avg) over a range: w = 1 - decay (an exponential moving average, e.g. of
 * G's weights), or with decay < 0, w = 1 / counters[index] (the mean of every value so far when
 * the counter counts the updates from 1: the historical average of Salimans et al. 2016). */
int vkg_param_average(vkg_rec *rec, const vkg_buf *params, const vkg_buf *avg, float decay,
                      const vkg_buf *counters, uint32_t index);
/* grads += 2 lambda (params - avg): the gradient of the penalty lambda ||params - avg||^2 */
int vkg_average_penalty(vkg_rec *rec, const vkg_buf *params, const vkg_buf *avg, float lambda,
                        const vkg_buf *grads);
/* out[0] = start * max(0, 1 - counters[index] / steps): a level that decays linearly to 0 over
 * `steps` counts of a GPU counter (e.g. the instance-noise sigma) */
int vkg_linear_decay(vkg_rec *rec, const vkg_buf *counters, uint32_t index, float start,
                     float steps, const vkg_buf *out);
/* A step's scalars into a host-visible ring of `slots` slots of 8 floats: slot counters[index] %
 * slots gets (a[0], a[1], b[0], b[1], c[0], c[1], the counter's value as uint bits, 0). */
int vkg_loss_ring(vkg_rec *rec, const vkg_buf *counters, uint32_t index, const vkg_buf *a,
                  const vkg_buf *b, const vkg_buf *c, const vkg_buf *ring, uint32_t slots);
/* counters[index] += delta on the GPU (a step counter that needs no host write per step) */
int vkg_counter_add(vkg_rec *rec, const vkg_buf *counters, uint32_t index, uint32_t delta);

/* ---- microbenchmark ---- */
/* FMAs per thread per iteration of the FMA microbenchmark (16 independent chains, unrolled 4x). */
#define VKG_FMA_PEAK_FMAS 64
/* Records `groups` workgroups of 256 threads each running iterations * VKG_FMA_PEAK_FMAS FMAs
 * into out. */
int vkg_fma_peak(vkg_rec *rec, const vkg_buf *out, uint32_t groups, uint32_t iterations);

#endif
