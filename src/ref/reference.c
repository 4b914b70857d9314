/* Plain-C references, written from the definitions (loops over outputs or scatters over inputs),
 * not from the kernels' GEMM formulation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

void ref_dense_forward(int n, int in, int out, const double *x, const double *w, const double *b,
                       double *y) {
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++) s += x[r * in + i] * w[i * out + o];
            y[r * out + o] = s;
        }
}

void ref_dense_backward(int n, int in, int out, const double *x, const double *w, const double *dy,
                        double *dx, double *dw, double *db) {
    if (dx)
        for (int r = 0; r < n; r++)
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int o = 0; o < out; o++) s += dy[r * out + o] * w[i * out + o];
                dx[r * in + i] = s;
            }
    if (dw)
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int r = 0; r < n; r++) s += x[r * in + i] * dy[r * out + o];
                dw[i * out + o] = s;
            }
    if (db) ref_channel_sum(n, out, 1, dy, db);
}

void ref_conv_shape(ref_conv *g) {
    g->h_out = (g->h_in + 2 * g->pad - g->kernel) / g->stride + 1;
    g->w_out = (g->w_in + 2 * g->pad - g->kernel) / g->stride + 1;
}

void ref_conv_transpose_shape(ref_conv *g) {
    g->h_out = (g->h_in - 1) * g->stride - 2 * g->pad + g->kernel;
    g->w_out = (g->w_in - 1) * g->stride - 2 * g->pad + g->kernel;
}

#define AT(t, b, c, C, y, H, x, W) (t)[(((size_t)(b) * (C) + (c)) * (H) + (y)) * (W) + (x)]

/* Visits every (output pixel, input pixel, tap) triple of a convolution with input grid (H, W)
 * and output grid (OH, OW); transposed convolutions visit the same triples with roles swapped. */
#define FOR_EACH_TAP(g, OH, OW, H, W)                                                              \
    for (int b = 0; b < (g)->batch; b++)                                                           \
        for (int oy = 0; oy < (OH); oy++)                                                          \
            for (int ox = 0; ox < (OW); ox++)                                                      \
                for (int ky = 0; ky < (g)->kernel; ky++)                                           \
                    for (int kx = 0; kx < (g)->kernel; kx++)                                       \
                        for (int iy = oy * (g)->stride - (g)->pad + ky,                            \
                                 ix = ox * (g)->stride - (g)->pad + kx, once = 1;                  \
                             once && iy >= 0 && ix >= 0 && iy < (H) && ix < (W); once = 0)

void ref_conv2d_forward(const ref_conv *g, const double *x, const double *w, const double *b,
                        double *y) {
    int K = g->kernel;
    for (int bb = 0; bb < g->batch; bb++)
        for (int co = 0; co < g->c_out; co++)
            for (int oy = 0; oy < g->h_out; oy++)
                for (int ox = 0; ox < g->w_out; ox++)
                    AT(y, bb, co, g->c_out, oy, g->h_out, ox, g->w_out) = b ? b[co] : 0.0;
    FOR_EACH_TAP(g, g->h_out, g->w_out, g->h_in, g->w_in)
    for (int co = 0; co < g->c_out; co++)
        for (int ci = 0; ci < g->c_in; ci++)
            AT(y, b, co, g->c_out, oy, g->h_out, ox, g->w_out) +=
                w[((co * g->c_in + ci) * K + ky) * K + kx] *
                AT(x, b, ci, g->c_in, iy, g->h_in, ix, g->w_in);
}

void ref_conv2d_backward(const ref_conv *g, const double *x, const double *w, const double *dy,
                         double *dx, double *dw) {
    int K = g->kernel;
    size_t nx = (size_t)g->batch * g->c_in * g->h_in * g->w_in;
    size_t nw = (size_t)g->c_out * g->c_in * K * K;
    if (dx) memset(dx, 0, nx * sizeof *dx);
    if (dw) memset(dw, 0, nw * sizeof *dw);
    FOR_EACH_TAP(g, g->h_out, g->w_out, g->h_in, g->w_in)
    for (int co = 0; co < g->c_out; co++)
        for (int ci = 0; ci < g->c_in; ci++) {
            double d = AT(dy, b, co, g->c_out, oy, g->h_out, ox, g->w_out);
            size_t wi = ((size_t)(co * g->c_in + ci) * K + ky) * K + kx;
            if (dx) AT(dx, b, ci, g->c_in, iy, g->h_in, ix, g->w_in) += w[wi] * d;
            if (dw) dw[wi] += AT(x, b, ci, g->c_in, iy, g->h_in, ix, g->w_in) * d;
        }
}

/* A transposed convolution scatters each input pixel through the kernel into the output:
 * y[b,co,iy*s-p+ky,ix*s-p+kx] += x[b,ci,iy,ix] * w[ci,co,ky,kx]. In FOR_EACH_TAP's names the
 * "output pixel" (oy, ox) is the input pixel here and (iy, ix) the output pixel. */
void ref_conv_transpose2d_forward(const ref_conv *g, const double *x, const double *w,
                                  const double *b, double *y) {
    int K = g->kernel;
    for (int bb = 0; bb < g->batch; bb++)
        for (int co = 0; co < g->c_out; co++)
            for (int yy = 0; yy < g->h_out; yy++)
                for (int xx = 0; xx < g->w_out; xx++)
                    AT(y, bb, co, g->c_out, yy, g->h_out, xx, g->w_out) = b ? b[co] : 0.0;
    FOR_EACH_TAP(g, g->h_in, g->w_in, g->h_out, g->w_out)
    for (int ci = 0; ci < g->c_in; ci++)
        for (int co = 0; co < g->c_out; co++)
            AT(y, b, co, g->c_out, iy, g->h_out, ix, g->w_out) +=
                AT(x, b, ci, g->c_in, oy, g->h_in, ox, g->w_in) *
                w[((ci * g->c_out + co) * K + ky) * K + kx];
}

void ref_conv_transpose2d_backward(const ref_conv *g, const double *x, const double *w,
                                   const double *dy, double *dx, double *dw) {
    int K = g->kernel;
    size_t nx = (size_t)g->batch * g->c_in * g->h_in * g->w_in;
    size_t nw = (size_t)g->c_in * g->c_out * K * K;
    if (dx) memset(dx, 0, nx * sizeof *dx);
    if (dw) memset(dw, 0, nw * sizeof *dw);
    FOR_EACH_TAP(g, g->h_in, g->w_in, g->h_out, g->w_out)
    for (int ci = 0; ci < g->c_in; ci++)
        for (int co = 0; co < g->c_out; co++) {
            double d = AT(dy, b, co, g->c_out, iy, g->h_out, ix, g->w_out);
            size_t wi = ((size_t)(ci * g->c_out + co) * K + ky) * K + kx;
            if (dx) AT(dx, b, ci, g->c_in, oy, g->h_in, ox, g->w_in) += w[wi] * d;
            if (dw) dw[wi] += AT(x, b, ci, g->c_in, oy, g->h_in, ox, g->w_in) * d;
        }
}

void ref_channel_sum(int n, int c, int hw, const double *x, double *out) {
    for (int ch = 0; ch < c; ch++) {
        double s = 0;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) s += x[((size_t)b * c + ch) * hw + i];
        out[ch] = s;
    }
}

void ref_batchnorm_forward(int n, int c, int hw, const double *x, const double *gamma,
                           const double *beta, double eps, int training, double momentum,
                           double *running_mean, double *running_var, double *y, double *mean_out,
                           double *invstd_out) {
    size_t count = (size_t)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double mean, var;
        if (training) {
            double s = 0, q = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) s += x[((size_t)b * c + ch) * hw + i];
            mean = s / count;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++) {
                    double d = x[((size_t)b * c + ch) * hw + i] - mean;
                    q += d * d;
                }
            var = q / count;
            double unbiased = count > 1 ? var * count / (count - 1) : var;
            running_mean[ch] = (1 - momentum) * running_mean[ch] + momentum * mean;
            running_var[ch] = (1 - momentum) * running_var[ch] + momentum * unbiased;
        } else {
            mean = running_mean[ch];
            var = running_var[ch];
        }
        double invstd = 1.0 / sqrt(var + eps);
        if (mean_out) mean_out[ch] = mean;
        if (invstd_out) invstd_out[ch] = invstd;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t j = ((size_t)b * c + ch) * hw + i;
                y[j] = gamma[ch] * (x[j] - mean) * invstd + beta[ch];
            }
    }
}

void ref_batchnorm_backward(int n, int c, int hw, const double *x, const double *dy,
                            const double *gamma, const double *mean, const double *invstd,
                            int training, double *dx, double *dgamma, double *dbeta) {
    size_t count = (size_t)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double sdy = 0, sdyx = 0;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t j = ((size_t)b * c + ch) * hw + i;
                sdy += dy[j];
                sdyx += dy[j] * (x[j] - mean[ch]) * invstd[ch];
            }
        dgamma[ch] = sdyx;
        dbeta[ch] = sdy;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < hw; i++) {
                size_t j = ((size_t)b * c + ch) * hw + i;
                double xhat = (x[j] - mean[ch]) * invstd[ch];
                double g = dy[j];
                if (training) g -= sdy / count + xhat * sdyx / count;
                dx[j] = gamma[ch] * invstd[ch] * g;
            }
    }
}

double ref_activation(int kind, double slope, double x) {
    switch (kind) {
    case 0:
        return x > 0 ? x : 0;
    case 1:
        return x > 0 ? x : slope * x;
    case 2:
        return tanh(x);
    default:
        return 1.0 / (1.0 + exp(-x));
    }
}

double ref_activation_grad(int kind, double slope, double x) {
    switch (kind) {
    case 0:
        return x > 0 ? 1 : 0;
    case 1:
        return x > 0 ? 1 : slope;
    case 2:
        return 1 - tanh(x) * tanh(x);
    default: {
        double s = 1.0 / (1.0 + exp(-x));
        return s * (1 - s);
    }
    }
}

void ref_avg_pool_forward(int planes, int h, int w, int k, int s, const double *x, double *y) {
    int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
    for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double sum = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        sum += x[((size_t)p * h + oy * s + ky) * w + ox * s + kx];
                y[((size_t)p * oh + oy) * ow + ox] = sum / (k * k);
            }
}

void ref_avg_pool_backward(int planes, int h, int w, int k, int s, const double *dy, double *dx) {
    int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
    memset(dx, 0, (size_t)planes * h * w * sizeof *dx);
    for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        dx[((size_t)p * h + oy * s + ky) * w + ox * s + kx] +=
                            dy[((size_t)p * oh + oy) * ow + ox] / (k * k);
}

double ref_bce_logits(int n, const double *x, const double *t, double grad_scale, double *dx,
                      double *mean_prob) {
    double loss = 0, prob = 0;
    for (int i = 0; i < n; i++) {
        double s = 1.0 / (1.0 + exp(-x[i]));
        /* the textbook form, -t log s - (1 - t) log(1 - s), via log1p for the small terms */
        loss += -t[i] * -log1p(exp(-x[i])) - (1 - t[i]) * (-x[i] - log1p(exp(-x[i])));
        prob += s;
        if (dx) dx[i] = grad_scale * (s - t[i]) / n;
    }
    if (mean_prob) *mean_prob = prob / n;
    return loss / n;
}

double ref_softmax_xent(int n, int k, const double *x, const int *label, double grad_scale,
                        double *dx, int *argmax) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
        const double *row = x + (size_t)i * k;
        double sum = 0;
        int best = 0;
        for (int j = 0; j < k; j++) {
            sum += exp(row[j]);
            if (row[j] > row[best]) best = j;
        }
        loss -= log(exp(row[label[i]]) / sum);
        if (argmax) argmax[i] = best;
        for (int j = 0; dx && j < k; j++)
            dx[(size_t)i * k + j] = grad_scale * (exp(row[j]) / sum - (j == label[i])) / n;
    }
    return loss;
}

void ref_adam_step(size_t n, double *p, const double *g, double *m, double *v, double lr,
                   double beta1, double beta2, double eps, double weight_decay, int decoupled,
                   int t) {
    double bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t);
    for (size_t i = 0; i < n; i++) {
        double grad = g[i], w = p[i];
        if (!decoupled)
            grad += weight_decay * w;
        else
            w -= lr * weight_decay * w;
        m[i] = beta1 * m[i] + (1 - beta1) * grad;
        v[i] = beta2 * v[i] + (1 - beta2) * grad * grad;
        p[i] = w - lr * (m[i] / bc1) / (sqrt(v[i] / bc2) + eps);
    }
}

/* s_f = sqrt(biased var_n x[n, f] + 1e-8), m = mean_f s_f */
static void mbstd_stats(int n, int features, const double *x, double *mean, double *s) {
    for (int f = 0; f < features; f++) {
        double mu = 0, v = 0;
        for (int i = 0; i < n; i++) mu += x[(size_t)i * features + f] / n;
        for (int i = 0; i < n; i++) {
            double d = x[(size_t)i * features + f] - mu;
            v += d * d / n;
        }
        mean[f] = mu, s[f] = sqrt(v + 1e-8);
    }
}

void ref_mbstd_forward(int n, int features, int hw, const double *x, double *y) {
    double *mean = malloc(sizeof(double) * (size_t)features),
           *s = malloc(sizeof(double) * (size_t)features);
    mbstd_stats(n, features, x, mean, s);
    double m = 0;
    for (int f = 0; f < features; f++) m += s[f] / features;
    for (int i = 0; i < n; i++) {
        double *row = y + (size_t)i * (features + hw);
        for (int f = 0; f < features; f++) row[f] = x[(size_t)i * features + f];
        for (int j = 0; j < hw; j++) row[features + j] = m;
    }
    free(mean), free(s);
}

/* dm = sum of dy over the extra channel; ds_f/dx[n, f] = (x[n, f] - mean_f) / (n s_f) */
void ref_mbstd_backward(int n, int features, int hw, const double *x, const double *dy,
                        double *dx) {
    double *mean = malloc(sizeof(double) * (size_t)features),
           *s = malloc(sizeof(double) * (size_t)features);
    mbstd_stats(n, features, x, mean, s);
    double dm = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++) dm += dy[(size_t)i * (features + hw) + features + j];
    for (int i = 0; i < n; i++)
        for (int f = 0; f < features; f++)
            dx[(size_t)i * features + f] =
                dy[(size_t)i * (features + hw) + f] +
                dm / features * (x[(size_t)i * features + f] - mean[f]) / (n * s[f]);
    free(mean), free(s);
}
