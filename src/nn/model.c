/* Sequential models over the kernel library: layout, initialisation, forward, backward, Adam. */
#include <string.h>

#include "nn/kernel.h"
#include "vkgan/model.h"

const char *vkg_layer_kind_name(vkg_layer_kind kind) {
    static const char *names[] = {"dense",      "conv",    "conv_transpose", "batchnorm",
                                  "activation", "dropout", "avg_pool",       "minibatch_stddev"};
    return names[kind];
}

/* Output shape of a layer for an input of c x h x w; -1 when the layer cannot take it. */
static int out_shape(const vkg_layer_spec *s, int c, int h, int w, int *oc, int *oh, int *ow) {
    *oc = c, *oh = h, *ow = w;
    switch (s->kind) {
    case VKG_LAYER_DENSE:
        *oc = s->out, *oh = *ow = 1;
        break;
    case VKG_LAYER_CONV:
        *oc = s->out, *oh = vkg_conv_out_size(h, &s->conv), *ow = vkg_conv_out_size(w, &s->conv);
        break;
    case VKG_LAYER_CONV_T:
        *oc = s->out;
        *oh = vkg_conv_transpose_out_size(h, &s->conv);
        *ow = vkg_conv_transpose_out_size(w, &s->conv);
        break;
    case VKG_LAYER_AVG_POOL:
        if (s->conv.kernel < 1 || s->conv.stride < 1 || h < s->conv.kernel || w < s->conv.kernel)
            return -1;
        *oh = (h - s->conv.kernel) / s->conv.stride + 1;
        *ow = (w - s->conv.kernel) / s->conv.stride + 1;
        break;
    case VKG_LAYER_DROPOUT:
        if (!(s->p >= 0.0f && s->p < 1.0f)) return -1;
        break;
    case VKG_LAYER_MBSTD:
        *oc = c + 1;
        break;
    default:
        break;
    }
    return *oc > 0 && *oh > 0 && *ow > 0 ? 0 : -1;
}

int vkg_layers_describe(const vkg_layer_spec *specs, int count, int c, int h, int w,
                        vkg_layer_info *info) {
    if (count < 1 || count > VKG_MAX_LAYERS)
        return vkg_set_error("a model has 1 to %d layers, not %d", VKG_MAX_LAYERS, count);
    if (specs[0].kind == VKG_LAYER_BATCHNORM)
        return vkg_set_error("layer 0: a model cannot start with batch norm");
    for (int i = 0; i < count; i++) {
        const vkg_layer_spec *s = &specs[i];
        vkg_layer_info *o = &info[i];
        if (s->kind == VKG_LAYER_DROPOUT && !(s->p >= 0.0f && s->p < 1.0f))
            return vkg_set_error("layer %d (dropout): p = %g is not in [0, 1)", i, s->p);
        if (out_shape(s, c, h, w, &o->c, &o->h, &o->w) < 0)
            return vkg_set_error("layer %d (%s): input %dx%dx%d gives an empty output", i,
                                 vkg_layer_kind_name(s->kind), c, h, w);
        size_t in = (size_t)c * h * w, out = (size_t)o->c * o->h * o->w;
        size_t kk = (size_t)s->conv.kernel * s->conv.kernel;
        o->params = 0, o->macs = 0;
        if (s->kind == VKG_LAYER_DENSE)
            o->params = in * (size_t)s->out, o->macs = (double)in * s->out;
        if (s->kind == VKG_LAYER_CONV)
            o->params = (size_t)c * s->out * kk, o->macs = (double)out * c * kk;
        if (s->kind == VKG_LAYER_CONV_T)
            o->params = (size_t)c * s->out * kk, o->macs = (double)in * s->out * kk;
        if (o->params && s->bias) o->params += (size_t)s->out;
        if (s->kind == VKG_LAYER_BATCHNORM) o->params = 2 * (size_t)c;
        c = o->c, h = o->h, w = o->w;
    }
    return 0;
}

/* Rounds n up to a multiple of align (parameter views start at aligned offsets). */
static size_t align_up(size_t n, size_t align) {
    return (n + align - 1) / align * align;
}

int vkg_model_create(vkg_arena *arena, const vkg_layer_spec *specs, int count, int batch, int c,
                     int h, int w, vkg_model *m) {
    memset(m, 0, sizeof *m);
    vkg_layer_info info[VKG_MAX_LAYERS];
    if (vkg_layers_describe(specs, count, c, h, w, info) < 0) return -1;
    const vkg_device_info *d = vkg_ctx_device(vkg_arena_ctx(arena));
    size_t align = d->storage_offset_alignment > 16 ? d->storage_offset_alignment / 4 : 4;
    m->batch = batch, m->channels = c, m->height = h, m->width = w, m->count = count;
    /* first pass: shapes and the parameter layout (offsets kept in the views' buf.offset) */
    size_t weight_at[VKG_MAX_LAYERS] = {0}, bias_at[VKG_MAX_LAYERS] = {0}, total = 0;
    int shape[VKG_MAX_LAYERS + 1][3] = {{c, h, w}};
    for (int i = 0; i < count; i++) {
        const vkg_layer_spec *s = &specs[i];
        int *in = shape[i], *o = shape[i + 1];
        o[0] = info[i].c, o[1] = info[i].h, o[2] = info[i].w;
        /* bias (or beta) last; weights (or gamma) are the rest of the layer's parameters */
        size_t biases = s->kind == VKG_LAYER_BATCHNORM ? (size_t)in[0]
                        : info[i].params && s->bias    ? (size_t)s->out
                                                       : 0;
        size_t weights = info[i].params - biases;
        if (weights) weight_at[i] = total, total = align_up(total + weights, align);
        if (biases) bias_at[i] = total, total = align_up(total + biases, align);
        m->layers[i].spec = *s;
    }
    m->param_count = total ? total : align;
    int n = (int)m->param_count;
    if (vkg_tensor_alloc(arena, 1, n, 1, 1, &m->params) < 0 ||
        vkg_tensor_alloc(arena, 1, n, 1, 1, &m->grads) < 0 ||
        vkg_tensor_alloc(arena, 1, n, 1, 1, &m->adam_m) < 0 ||
        vkg_tensor_alloc(arena, 1, n, 1, 1, &m->adam_v) < 0 ||
        vkg_arena_alloc(arena, sizeof(vkg_adam_hyper), &m->hyper) < 0)
        return -1;
    /* second pass: views, batch-norm state and activations */
    for (int i = 0; i < count; i++) {
        vkg_layer *L = &m->layers[i];
        const vkg_layer_spec *s = &L->spec;
        int *in = shape[i], *o = shape[i + 1];
        int w_shape[4] = {0};
        if (s->kind == VKG_LAYER_DENSE)
            memcpy(w_shape, (int[4]){in[0] * in[1] * in[2], s->out, 1, 1}, sizeof w_shape);
        if (s->kind == VKG_LAYER_CONV)
            memcpy(w_shape, (int[4]){s->out, in[0], s->conv.kernel, s->conv.kernel},
                   sizeof w_shape);
        if (s->kind == VKG_LAYER_CONV_T)
            memcpy(w_shape, (int[4]){in[0], s->out, s->conv.kernel, s->conv.kernel},
                   sizeof w_shape);
        if (s->kind == VKG_LAYER_BATCHNORM)
            memcpy(w_shape, (int[4]){1, in[0], 1, 1}, sizeof w_shape);
        if (w_shape[0]) {
            L->w = vkg_tensor_view(&m->params, weight_at[i], w_shape[0], w_shape[1], w_shape[2],
                                   w_shape[3]);
            L->dw = vkg_tensor_view(&m->grads, weight_at[i], w_shape[0], w_shape[1], w_shape[2],
                                    w_shape[3]);
        }
        if ((s->bias && w_shape[0]) || s->kind == VKG_LAYER_BATCHNORM) {
            int bc = s->kind == VKG_LAYER_BATCHNORM ? in[0] : s->out;
            L->b = vkg_tensor_view(&m->params, bias_at[i], 1, bc, 1, 1);
            L->db = vkg_tensor_view(&m->grads, bias_at[i], 1, bc, 1, 1);
        }
        if (s->kind == VKG_LAYER_BATCHNORM) {
            L->bn.gamma = L->w, L->bn.beta = L->b;
            L->bn.eps = 1e-5f, L->bn.momentum = 0.1f;
            if (vkg_tensor_alloc(arena, 1, in[0], 1, 1, &L->bn.running_mean) < 0 ||
                vkg_tensor_alloc(arena, 1, in[0], 1, 1, &L->bn.running_var) < 0 ||
                vkg_tensor_alloc(arena, 2, in[0], 1, 1, &L->bn.saved) < 0 ||
                vkg_tensor_alloc(arena, 2, in[0], 1, 1, &L->bn.sums) < 0)
                return -1;
        }
        if (s->kind == VKG_LAYER_MBSTD &&
            vkg_tensor_alloc(arena, 1, 2 * in[0] * in[1] * in[2] + 2, 1, 1, &L->saved) < 0)
            return -1;
        if (s->kind == VKG_LAYER_BATCHNORM && s->virtual_bn &&
            vkg_tensor_alloc(arena, 2 * batch, in[0], 1, 1, &L->saved) < 0)
            return -1;
        if (vkg_tensor_alloc(arena, batch, o[0], o[1], o[2], &L->out) < 0 ||
            vkg_tensor_alloc(arena, batch, o[0], o[1], o[2], &L->dout) < 0)
            return -1;
    }
    return 0;
}

int vkg_model_has_virtual_bn(const vkg_model *m) {
    for (int i = 0; i < m->count; i++)
        if (m->layers[i].spec.kind == VKG_LAYER_BATCHNORM && m->layers[i].spec.virtual_bn) return 1;
    return 0;
}

const vkg_tensor *vkg_model_output(const vkg_model *m) {
    return &m->layers[m->count - 1].out;
}

int vkg_model_init(vkg_rec *rec, const vkg_model *m, uint32_t seed) {
    const uint32_t one = 0x3f800000u; /* 1.0f */
    vkg_rec_fill(rec, &m->params.buf, 0);
    vkg_rec_fill(rec, &m->grads.buf, 0);
    vkg_rec_fill(rec, &m->adam_m.buf, 0);
    vkg_rec_fill(rec, &m->adam_v.buf, 0);
    for (int i = 0; i < m->count; i++) {
        const vkg_layer *L = &m->layers[i];
        vkg_rng rng = {.seed = seed, .stream = (uint32_t)i + 1};
        if (L->spec.kind == VKG_LAYER_BATCHNORM) {
            if (vkg_fill_normal(rec, &rng, 1.0f, 0.02f, &L->bn.gamma) < 0) return -1;
            vkg_rec_fill(rec, &L->bn.running_mean.buf, 0);
            vkg_rec_fill(rec, &L->bn.running_var.buf, one);
        } else if (L->w.buf.buffer && vkg_fill_normal(rec, &rng, 0.0f, 0.02f, &L->w) < 0) {
            return -1;
        }
    }
    return 0;
}

int vkg_model_set_adam(vkg_ctx *ctx, const vkg_model *m, const vkg_adam_hyper *hyper) {
    vkg_adam_hyper h = *hyper;
    h.step = 0;
    return vkg_upload(ctx, &m->hyper, &h, sizeof h);
}

int vkg_model_set_lr(vkg_ctx *ctx, const vkg_model *m, float lr) {
    vkg_buf first = m->hyper;
    first.size = sizeof(float); /* lr is the first field of vkg_adam_hyper */
    return vkg_upload(ctx, &first, &lr, sizeof lr);
}

/* A dense layer sees its input flattened to [batch, features]. */
static vkg_tensor flat(const vkg_tensor *t) {
    vkg_tensor f = *t;
    f.c = t->c * t->h * t->w, f.h = f.w = 1;
    return f;
}

/* The activation that layer i, a batch norm, folds in (vkg_batchnorm_act_forward): that of
 * layer i + 1 when it is a ReLU or leaky ReLU and the batch norm is an unsynchronised,
 * non-virtual one; else -1. One pass instead of two each way; the BN output and the activation's
 * input gradient, never read elsewhere, are then not written. */
static int folded_activation(const vkg_model *m, int i) {
    if (i < 0 || i + 1 >= m->count) return -1;
    const vkg_layer *L = &m->layers[i], *next = &m->layers[i + 1];
    if (L->spec.kind != VKG_LAYER_BATCHNORM || L->spec.virtual_bn || L->bn.sync ||
        next->spec.kind != VKG_LAYER_ACTIVATION || next->spec.slope < 0)
        return -1;
    return next->spec.act == VKG_RELU || next->spec.act == VKG_LEAKY_RELU ? (int)next->spec.act
                                                                          : -1;
}

/* The activation that layer i, a dense layer or a convolution, applies as it writes its output
 * (vkg_dense_act_forward, ...): that of layer i + 1 when it is an activation; else -1. Layer i's
 * own output is then written only where its kernel cannot apply the activation; nothing reads
 * it (the activation's backward pass uses the activation's output). */
static int fused_activation(const vkg_model *m, int i) {
    if (i + 1 >= m->count) return -1;
    vkg_layer_kind kind = m->layers[i].spec.kind;
    const vkg_layer *next = &m->layers[i + 1];
    if ((kind != VKG_LAYER_DENSE && kind != VKG_LAYER_CONV && kind != VKG_LAYER_CONV_T) ||
        next->spec.kind != VKG_LAYER_ACTIVATION)
        return -1;
    return (int)next->spec.act;
}

int vkg_model_forward(vkg_rec *rec, vkg_model *m, const vkg_tensor *input, int training) {
    const vkg_tensor *x = input;
    for (int i = 0; i < m->count; i++) {
        vkg_layer *L = &m->layers[i];
        const vkg_layer_spec *s = &L->spec;
        const vkg_tensor *b = s->bias ? &L->b : NULL;
        int r = 0, fuse = fused_activation(m, i);
        vkg_tensor xf = flat(x), of = flat(&L->out);
        const vkg_layer *fused = fuse >= 0 ? &m->layers[i + 1] : NULL;
        switch (s->kind) {
        case VKG_LAYER_DENSE:
            if (fused) {
                vkg_tensor ff = flat(&fused->out);
                r = vkg_dense_act_forward(rec, &xf, &L->w, b, (vkg_activation)fuse,
                                          fused->spec.slope, &of, &ff);
            } else {
                r = vkg_dense_forward(rec, &xf, &L->w, b, &of);
            }
            break;
        case VKG_LAYER_CONV:
            r = fused ? vkg_conv2d_act_forward(rec, &s->conv, x, &L->w, b, (vkg_activation)fuse,
                                               fused->spec.slope, &L->out, &fused->out)
                      : vkg_conv2d_forward(rec, &s->conv, x, &L->w, b, &L->out);
            break;
        case VKG_LAYER_CONV_T:
            r = fused ? vkg_conv_transpose2d_act_forward(rec, &s->conv, x, &L->w, b,
                                                         (vkg_activation)fuse, fused->spec.slope,
                                                         &L->out, &fused->out)
                      : vkg_conv_transpose2d_forward(rec, &s->conv, x, &L->w, b, &L->out);
            break;
        case VKG_LAYER_BATCHNORM: {
            int act = folded_activation(m, i);
            int mode = training == VKG_BN_REFERENCE ? VKG_BN_BATCH_STATS : training;
            if (act >= 0) { /* writes the activation's output; that layer is done too */
                const vkg_layer *next = &m->layers[++i];
                r = vkg_batchnorm_act_forward(rec, &L->bn, x, &next->out, mode, act,
                                              next->spec.slope);
                L = &m->layers[i];
            } else if (s->virtual_bn && training != VKG_BN_REFERENCE) {
                r = vkg_vbn_forward(rec, &L->bn, m->batch, x, &L->saved, &L->out);
            } else {
                r = vkg_batchnorm_forward(rec, &L->bn, x, &L->out, mode);
            }
            break;
        }
        case VKG_LAYER_ACTIVATION:
            r = vkg_activation_forward(rec, s->act, s->slope, x, &L->out);
            break;
        case VKG_LAYER_DROPOUT: {
            vkg_rng rng = m->rng;
            rng.stream += (uint32_t)i;
            r = vkg_dropout(rec, &rng, s->p, x, &L->out);
            break;
        }
        case VKG_LAYER_AVG_POOL:
            r = vkg_avg_pool2d_forward(rec, s->conv.kernel, s->conv.stride, x, &L->out);
            break;
        case VKG_LAYER_MBSTD:
            r = vkg_mbstd_forward(rec, x, &L->out, &L->saved);
            break;
        }
        if (r < 0) return -1;
        if (fused) L = &m->layers[++i]; /* the activation is done too */
        x = &L->out;
    }
    return 0;
}

int vkg_model_backward(vkg_rec *rec, vkg_model *m, const vkg_tensor *input, const vkg_tensor *dout,
                       const vkg_tensor *din, int weight_grads, int accumulate, int training) {
    return vkg_model_backward_from(rec, m, m->count - 1, input, dout, din, weight_grads, accumulate,
                                   training);
}

int vkg_model_backward_from(vkg_rec *rec, vkg_model *m, int top, const vkg_tensor *input,
                            const vkg_tensor *dout, const vkg_tensor *din, int weight_grads,
                            int accumulate, int training) {
    if (top < 0 || top >= m->count)
        return vkg_set_error("backward from layer %d of a %d-layer model", top, m->count);
    for (int i = top; i >= 0; i--) {
        vkg_layer *L = &m->layers[i];
        const vkg_layer_spec *s = &L->spec;
        const vkg_tensor *x = i ? &m->layers[i - 1].out : input;
        const vkg_tensor *dy = i == top ? dout : &L->dout;
        const vkg_tensor *dx = i ? &m->layers[i - 1].dout : din;
        vkg_tensor xf = flat(x), dyf = flat(dy), dxf = dx ? flat(dx) : xf;
        int r = 0;
        switch (s->kind) {
        case VKG_LAYER_DENSE:
            if (weight_grads) r |= vkg_dense_backward_weight(rec, &xf, &dyf, &L->dw, accumulate);
            if (weight_grads && s->bias) r |= vkg_bias_backward(rec, dy, &L->db, accumulate);
            if (dx) r |= vkg_dense_backward_input(rec, &dyf, &L->w, &dxf);
            break;
        case VKG_LAYER_CONV:
        case VKG_LAYER_CONV_T: {
            int t = s->kind == VKG_LAYER_CONV_T;
            if (weight_grads)
                r |= t ? vkg_conv_transpose2d_backward_weight(rec, &s->conv, x, dy, &L->dw,
                                                              accumulate)
                       : vkg_conv2d_backward_weight(rec, &s->conv, x, dy, &L->dw, accumulate);
            if (weight_grads && s->bias) r |= vkg_bias_backward(rec, dy, &L->db, accumulate);
            if (dx)
                r |= t ? vkg_conv_transpose2d_backward_input(rec, &s->conv, dy, &L->w, dx)
                       : vkg_conv2d_backward_input(rec, &s->conv, dy, &L->w, dx);
            break;
        }
        case VKG_LAYER_BATCHNORM: {
            /* without weight_grads gamma's and beta's gradients are left as they are */
            int act = i + 1 <= top ? folded_activation(m, i) : -1;
            if (act >= 0) { /* from the activation's output gradient (its pass was skipped) */
                const vkg_layer *next = &m->layers[i + 1];
                r = vkg_batchnorm_act_backward(
                    rec, &L->bn, x, &next->out, i + 1 == top ? dout : &next->dout, dx,
                    weight_grads ? &L->dw : NULL, weight_grads ? &L->db : NULL, training,
                    weight_grads && accumulate, act, next->spec.slope);
            } else if (s->virtual_bn)
                r = vkg_vbn_backward(rec, &L->bn, m->batch, x, &L->saved, dy, dx,
                                     weight_grads ? &L->dw : NULL, &L->db, accumulate);
            else
                r = vkg_batchnorm_backward(rec, &L->bn, x, dy, dx, weight_grads ? &L->dw : NULL,
                                           weight_grads ? &L->db : NULL, training,
                                           weight_grads && accumulate);
            break;
        }
        case VKG_LAYER_ACTIVATION:
            /* folded into the batch norm before it, which takes dy from here */
            if (dx && folded_activation(m, i - 1) < 0)
                r = vkg_activation_backward(rec, s->act, s->slope, &L->out, dy, dx);
            break;
        case VKG_LAYER_DROPOUT:
            if (dx) {
                vkg_rng rng = m->rng;
                rng.stream += (uint32_t)i;
                r = vkg_dropout(rec, &rng, s->p, dy, dx); /* the forward mask, drawn again */
            }
            break;
        case VKG_LAYER_AVG_POOL:
            if (dx) r = vkg_avg_pool2d_backward(rec, s->conv.kernel, s->conv.stride, dy, dx);
            break;
        case VKG_LAYER_MBSTD:
            if (dx) r = vkg_mbstd_backward(rec, x, dy, &L->saved, dx);
            break;
        }
        if (r < 0) return -1;
        if (!dx) break; /* nothing flows further back */
    }
    return 0;
}

int vkg_model_adam(vkg_rec *rec, vkg_model *m) {
    if (vkg_counter_add(rec, &m->hyper, VKG_ADAM_STEP_INDEX, 1) < 0) return -1;
    return vkg_adam_step(rec, &m->params.buf, &m->grads.buf, &m->adam_m.buf, &m->adam_v.buf,
                         &m->hyper);
}
