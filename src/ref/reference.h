/* Plain-C reference implementations in double precision: the definitions the GPU kernels are
 * checked against. Layouts match the kernels: NCHW, dense weights [in][out], conv weights
 * [out][in][k][k], transposed-conv weights [in][out][k][k]. */
#ifndef VKGAN_REFERENCE_H
#define VKGAN_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* y[n,out] = x[n,in] w[in,out] + b (b may be NULL) */
void ref_dense_forward(int n, int in, int out, const double *x, const double *w, const double *b,
                       double *y);
/* dx = dy w^T, dw = x^T dy, db = column sums of dy (any output may be NULL) */
void ref_dense_backward(int n, int in, int out, const double *x, const double *w, const double *dy,
                        double *dx, double *dw, double *db);

/* A convolution's shapes: input [batch, c_in, h_in, w_in] -> output [batch, c_out, h_out, w_out].
 */
typedef struct ref_conv {
    int batch, c_in, h_in, w_in, c_out, h_out, w_out, kernel, stride, pad;
} ref_conv;
/* Fills h_out and w_out for a convolution / a transposed convolution of the given input. */
void ref_conv_shape(ref_conv *g);
void ref_conv_transpose_shape(ref_conv *g);

void ref_conv2d_forward(const ref_conv *g, const double *x, const double *w, const double *b,
                        double *y);
void ref_conv2d_backward(const ref_conv *g, const double *x, const double *w, const double *dy,
                         double *dx, double *dw);
void ref_conv_transpose2d_forward(const ref_conv *g, const double *x, const double *w,
                                  const double *b, double *y);
void ref_conv_transpose2d_backward(const ref_conv *g, const double *x, const double *w,
                                   const double *dy, double *dx, double *dw);
/* db[c] = sum over batch and space of dy[:, c] */
void ref_channel_sum(int n, int c, int hw, const double *x, double *out);

/* Training: batch statistics (biased variance), running stats updated with the unbiased one.
 * Eval: running statistics. mean/invstd (may be NULL) receive what the forward pass used. */
void ref_batchnorm_forward(int n, int c, int hw, const double *x, const double *gamma,
                           const double *beta, double eps, int training, double momentum,
                           double *running_mean, double *running_var, double *y, double *mean,
                           double *invstd);
void ref_batchnorm_backward(int n, int c, int hw, const double *x, const double *dy,
                            const double *gamma, const double *mean, const double *invstd,
                            int training, double *dx, double *dgamma, double *dbeta);

/* kind: 0 relu, 1 leaky relu, 2 tanh, 3 sigmoid */
double ref_activation(int kind, double slope, double x);
/* f'(x) (the derivative at the input; the kernels compute it from the output) */
double ref_activation_grad(int kind, double slope, double x);

void ref_avg_pool_forward(int planes, int h, int w, int k, int s, const double *x, double *y);
void ref_avg_pool_backward(int planes, int h, int w, int k, int s, const double *dy, double *dx);

/* Minibatch stddev over x[n, f] (f < F features): y[n] = [x[n], m repeated hw times]. */
void ref_mbstd_forward(int n, int features, int hw, const double *x, double *y);
void ref_mbstd_backward(int n, int features, int hw, const double *x, const double *dy, double *dx);

/* Mean BCE with logits; dx (may be NULL) = grad_scale * (sigmoid(x) - t) / n.
 * mean_prob (may be NULL) = mean sigmoid(x). */
double ref_bce_logits(int n, const double *x, const double *t, double grad_scale, double *dx,
                      double *mean_prob);

/* Softmax cross-entropy over n rows of k logits (the textbook form): returns the summed
 * -log p(label); dx (may be NULL) = grad_scale * (p - one_hot) / n; argmax (may be NULL) gets
 * each row's predicted class. */
double ref_softmax_xent(int n, int k, const double *x, const int *label, double grad_scale,
                        double *dx, int *argmax);

/* One Adam step (t counted from 1) over n parameters, as shaders/adam.comp defines it. */
void ref_adam_step(size_t n, double *p, const double *g, double *m, double *v, double lr,
                   double beta1, double beta2, double eps, double weight_decay, int decoupled,
                   int t);

/* Philox4x32-10 and the draws the kernels make from it. */
void ref_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
void ref_rng_bits(uint32_t seed, uint32_t stream, uint32_t step, uint32_t element, uint32_t out[4]);
/* Whether dropout keeps the element: (bits >> 8) >= p * 2^24 */
int ref_dropout_keep(uint32_t seed, uint32_t stream, uint32_t step, uint32_t element, float p);
double ref_rng_uniform(uint32_t bits);
/* The keyed permutation of [0, n) of shaders/permute.glsl. */
uint32_t ref_permute_index(uint32_t x, uint32_t n, uint32_t seed, uint32_t epoch);
double ref_rng_normal(uint32_t a, uint32_t b);

#endif
