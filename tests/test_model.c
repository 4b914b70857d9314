/* Sequential models: initialisation, and forward / backward / Adam through a whole model against
 * the same chain of plain-C references. Tolerance: atol 1e-4, rtol 1e-3 (fp32 through 4-5
 * layers, batch norm dividing by small standard deviations). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "vkgan/model.h"

/* Shapes a layer sees: input c x h x w, output oc x oh x ow. */
typedef struct ref_layer {
    int c, h, w, oc, oh, ow;
    double *x, *mean, *invstd; /* saved by the forward pass */
} ref_layer;

static double *params_of(const vkg_tensor *view, const vkg_model *m, const double *all) {
    return (double *)all + (view->buf.offset - m->params.buf.offset) / sizeof(float);
}

static ref_conv geometry(const vkg_layer_spec *s, int batch, const ref_layer *r) {
    return (ref_conv){batch, r->c,  r->h,           r->w,           r->oc,
                      r->oh, r->ow, s->conv.kernel, s->conv.stride, s->conv.pad};
}

/* What dropout layer i does to element k: 0 or 1 / (1 - p), from the model's key (no counter). */
static double dropout_scale(const vkg_model *m, int i, size_t k) {
    float p = m->layers[i].spec.p;
    return ref_dropout_keep(m->rng.seed, m->rng.stream + (uint32_t)i, m->rng.step_base, (uint32_t)k,
                            p)
               ? 1.0 / (1.0 - p)
               : 0.0;
}

/* The reference forward pass; returns the output (test memory). */
static double *ref_forward(const vkg_model *m, ref_layer *r, const double *params,
                           const double *input) {
    const double *x = input;
    int n = m->batch, c = m->channels, h = m->height, w = m->width;
    for (int i = 0; i < m->count; i++) {
        const vkg_layer *L = &m->layers[i];
        const vkg_layer_spec *s = &L->spec;
        r[i] = (ref_layer){c, h, w, L->out.c, L->out.h, L->out.w, (double *)x, NULL, NULL};
        size_t out_count = (size_t)n * L->out.c * L->out.h * L->out.w;
        double *y = test_doubles(out_count);
        const double *W = L->w.buf.buffer ? params_of(&L->w, m, params) : NULL;
        const double *B = L->b.buf.buffer ? params_of(&L->b, m, params) : NULL;
        ref_conv g = geometry(s, n, &r[i]);
        switch (s->kind) {
        case VKG_LAYER_DENSE:
            ref_dense_forward(n, c * h * w, s->out, x, W, B, y);
            break;
        case VKG_LAYER_CONV:
            ref_conv2d_forward(&g, x, W, B, y);
            break;
        case VKG_LAYER_CONV_T:
            ref_conv_transpose2d_forward(&g, x, W, B, y);
            break;
        case VKG_LAYER_BATCHNORM: {
            double *rm = test_doubles((size_t)c), *rv = test_doubles((size_t)c);
            r[i].mean = test_doubles((size_t)c), r[i].invstd = test_doubles((size_t)c);
            for (int k = 0; k < c; k++) rv[k] = 1;
            ref_batchnorm_forward(n, c, h * w, x, W, B, 1e-5, 1, 0.1, rm, rv, y, r[i].mean,
                                  r[i].invstd);
            break;
        }
        case VKG_LAYER_ACTIVATION:
            for (size_t k = 0; k < out_count; k++)
                y[k] = ref_activation((int)s->act, s->slope, x[k]);
            break;
        case VKG_LAYER_DROPOUT:
            for (size_t k = 0; k < out_count; k++) y[k] = dropout_scale(m, i, k) * x[k];
            break;
        case VKG_LAYER_AVG_POOL:
            ref_avg_pool_forward(n * c, h, w, s->conv.kernel, s->conv.stride, x, y);
            break;
        case VKG_LAYER_MBSTD:
            ref_mbstd_forward(n, c * h * w, h * w, x, y);
            break;
        }
        x = y, c = L->out.c, h = L->out.h, w = L->out.w;
    }
    return (double *)x;
}

/* The reference backward pass: fills grads (same layout as the parameters) and returns dL/dx. */
static double *ref_backward(const vkg_model *m, const ref_layer *r, const double *params,
                            const double *dout, double *grads) {
    const double *dy = dout;
    int n = m->batch;
    for (int i = m->count - 1; i >= 0; i--) {
        const vkg_layer *L = &m->layers[i];
        const vkg_layer_spec *s = &L->spec;
        size_t in_count = (size_t)n * r[i].c * r[i].h * r[i].w,
               out_count = (size_t)n * r[i].oc * r[i].oh * r[i].ow;
        double *dx = test_doubles(in_count);
        const double *W = L->w.buf.buffer ? params_of(&L->w, m, params) : NULL;
        double *dW = L->w.buf.buffer ? params_of(&L->w, m, grads) : NULL;
        double *dB = L->b.buf.buffer ? params_of(&L->b, m, grads) : NULL;
        ref_conv g = geometry(s, n, &r[i]);
        switch (s->kind) {
        case VKG_LAYER_DENSE:
            ref_dense_backward(n, r[i].c * r[i].h * r[i].w, s->out, r[i].x, W, dy, dx, dW, dB);
            break;
        case VKG_LAYER_CONV:
        case VKG_LAYER_CONV_T:
            if (s->kind == VKG_LAYER_CONV)
                ref_conv2d_backward(&g, r[i].x, W, dy, dx, dW);
            else
                ref_conv_transpose2d_backward(&g, r[i].x, W, dy, dx, dW);
            if (dB) ref_channel_sum(n, r[i].oc, r[i].oh * r[i].ow, dy, dB);
            break;
        case VKG_LAYER_BATCHNORM:
            ref_batchnorm_backward(n, r[i].c, r[i].h * r[i].w, r[i].x, dy, W, r[i].mean,
                                   r[i].invstd, 1, dx, dW, dB);
            break;
        case VKG_LAYER_ACTIVATION:
            for (size_t k = 0; k < out_count; k++)
                dx[k] = dy[k] * ref_activation_grad((int)s->act, s->slope, r[i].x[k]);
            break;
        case VKG_LAYER_DROPOUT: /* the same mask as the forward pass */
            for (size_t k = 0; k < out_count; k++) dx[k] = dropout_scale(m, i, k) * dy[k];
            break;
        case VKG_LAYER_AVG_POOL:
            ref_avg_pool_backward(n * r[i].c, r[i].h, r[i].w, s->conv.kernel, s->conv.stride, dy,
                                  dx);
            break;
        case VKG_LAYER_MBSTD:
            ref_mbstd_backward(n, r[i].c * r[i].h * r[i].w, r[i].h * r[i].w, r[i].x, dy, dx);
            break;
        }
        dy = dx;
    }
    return (double *)dy;
}

static void check_model(const vkg_layer_spec *specs, int count, int n, int c, int h, int w) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    vkg_model m;
    CHECK_OK(vkg_model_create(arena, specs, count, n, c, h, w, &m));
    m.rng = (vkg_rng){.seed = 7, .stream = 300, .step_base = 12}; /* dropout masks */
    vkg_adam_hyper hyper = {1e-3f, 0.5f, 0.999f, 1e-8f, 0, 0, 0};
    CHECK_OK(vkg_model_set_adam(ctx, &m, &hyper));
    vkg_rec *init = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_model_init(init, &m, 2015));
    CHECK_OK(vkg_rec_end(init));
    CHECK_OK(vkg_rec_run(init));

    const vkg_tensor *out = vkg_model_output(&m);
    size_t nin = (size_t)n * c * h * w, nout = vkg_tensor_count(out), np = m.param_count;
    double *x = random_doubles(nin, -1, 1, 77), *dout = random_doubles(nout, -1, 1, 78);
    vkg_tensor tx = upload_tensor(ctx, arena, n, c, h, w, x);
    vkg_tensor tdout = upload_tensor(ctx, arena, out->n, out->c, out->h, out->w, dout);
    vkg_tensor tdin = upload_tensor(ctx, arena, n, c, h, w, NULL);
    double *params = widen(download_tensor(ctx, &m.params), np);
    for (int i = 0; i < count; i++) { /* the DCGAN initialisation */
        const vkg_layer *L = &m.layers[i];
        if (L->b.buf.buffer)
            for (int k = 0; k < L->b.c; k++)
                CHECK(params_of(&L->b, &m, params)[k] == 0, "layer %d: bias or beta not 0", i);
        if (L->spec.kind == VKG_LAYER_BATCHNORM)
            for (int k = 0; k < L->w.c; k++)
                CHECK(fabs(params_of(&L->w, &m, params)[k] - 1) < 0.1, "layer %d: gamma %g", i,
                      params_of(&L->w, &m, params)[k]);
    }
    vkg_rec *rec = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_model_forward(rec, &m, &tx, 1));
    CHECK_OK(vkg_model_backward(rec, &m, &tx, &tdout, &tdin, 1, 0, 1));
    CHECK_OK(vkg_rec_end(rec));
    CHECK_OK(vkg_rec_run(rec));
    float *gpu_out = download_tensor(ctx, out), *gpu_din = download_tensor(ctx, &tdin);
    float *gpu_grads = download_tensor(ctx, &m.grads);

    ref_layer r[VKG_MAX_LAYERS];
    double *want_out = ref_forward(&m, r, params, x);
    double *grads = test_doubles(np);
    double *want_din = ref_backward(&m, r, params, dout, grads);
    CHECK_CLOSE("model output", gpu_out, want_out, nout, 1e-4, 1e-3);
    CHECK_CLOSE("model input gradient", gpu_din, want_din, nin, 1e-4, 1e-3);
    CHECK_CLOSE("model parameter gradients", gpu_grads, grads, np, 1e-4, 1e-3);

    /* one Adam step over the whole parameter range */
    vkg_rec *step = test_rec(ctx);
    CHECK(!test_failed(), "setup");
    CHECK_OK(vkg_model_adam(step, &m));
    CHECK_OK(vkg_rec_end(step));
    CHECK_OK(vkg_rec_run(step));
    double *mom = test_doubles(np), *vel = test_doubles(np);
    double *g = widen(gpu_grads, np);
    ref_adam_step(np, params, g, mom, vel, 1e-3, 0.5, 0.999, 1e-8, 0, 0, 1);
    CHECK_CLOSE("parameters after Adam", download_tensor(ctx, &m.params), params, np, 1e-6, 1e-5);
}

TEST(model_mlp_discriminator) {
    vkg_layer_spec specs[] = {
        {.kind = VKG_LAYER_DENSE, .out = 5, .bias = 1},
        {.kind = VKG_LAYER_BATCHNORM},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f},
        {.kind = VKG_LAYER_DENSE, .out = 1, .bias = 1},
    };
    check_model(specs, 4, 6, 2, 1, 1);
}

TEST(model_conv_generator_shape) {
    vkg_layer_spec specs[] = {
        {.kind = VKG_LAYER_CONV_T, .out = 6, .conv = {4, 1, 0}},
        {.kind = VKG_LAYER_BATCHNORM},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_RELU},
        {.kind = VKG_LAYER_CONV_T, .out = 3, .conv = {4, 2, 1}},
        {.kind = VKG_LAYER_BATCHNORM},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_RELU},
        {.kind = VKG_LAYER_CONV_T, .out = 1, .conv = {4, 2, 1}, .bias = 1},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_TANH},
    };
    check_model(specs, 8, 3, 7, 1, 1); /* z (7) -> 4x4 -> 8x8 -> 16x16 */
}

TEST(model_conv_discriminator_shape) {
    vkg_layer_spec specs[] = {
        {.kind = VKG_LAYER_CONV, .out = 4, .conv = {4, 2, 1}},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f},
        {.kind = VKG_LAYER_CONV, .out = 8, .conv = {4, 2, 1}},
        {.kind = VKG_LAYER_BATCHNORM},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f},
        {.kind = VKG_LAYER_CONV, .out = 1, .conv = {4, 1, 0}, .bias = 1},
    };
    check_model(specs, 6, 4, 1, 16, 16); /* 16x16 -> 8x8 -> 4x4 -> one logit */
}

TEST(model_rejects_impossible_shapes) {
    vkg_arena *arena = test_arena(test_ctx());
    vkg_model m;
    vkg_layer_spec bn_first[] = {{.kind = VKG_LAYER_BATCHNORM}};
    CHECK(vkg_model_create(arena, bn_first, 1, 2, 3, 4, 4, &m) < 0 &&
              strstr(vkg_error(), "batch norm"),
          "%s", vkg_error());
    vkg_layer_spec too_small[] = {{.kind = VKG_LAYER_CONV, .out = 4, .conv = {7, 1, 0}}};
    CHECK(vkg_model_create(arena, too_small, 1, 2, 3, 4, 4, &m) < 0 &&
              strstr(vkg_error(), "layer 0 (conv)"),
          "%s", vkg_error());
}

/* D with average-pool downsampling and G with dropout (the stabilisation variants). */
TEST(model_avg_pool_discriminator) {
    vkg_layer_spec specs[] = {
        {.kind = VKG_LAYER_CONV, .out = 4, .conv = {3, 1, 1}},
        {.kind = VKG_LAYER_AVG_POOL, .conv = {2, 2, 0}},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f},
        {.kind = VKG_LAYER_MBSTD},
        {.kind = VKG_LAYER_CONV, .out = 1, .conv = {4, 1, 0}, .bias = 1},
    };
    check_model(specs, 5, 3, 2, 8, 8); /* 8x8 -> 4x4 (+1 channel) -> one logit */
}

TEST(model_dropout_generator) {
    vkg_layer_spec specs[] = {
        {.kind = VKG_LAYER_CONV_T, .out = 6, .conv = {4, 1, 0}},
        {.kind = VKG_LAYER_BATCHNORM},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_LEAKY_RELU, .slope = 0.2f},
        {.kind = VKG_LAYER_DROPOUT, .p = 0.5f},
        {.kind = VKG_LAYER_CONV_T, .out = 1, .conv = {4, 2, 1}, .bias = 1},
        {.kind = VKG_LAYER_ACTIVATION, .act = VKG_TANH},
    };
    check_model(specs, 6, 3, 5, 1, 1);
}
