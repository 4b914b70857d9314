/* GAN checkpoints in safetensors: per-layer tensors with PyTorch-like names, scalars in the
 * metadata. Together with the step (which fixes z, the data order and every other draw) they are
 * all a bit-exact resume needs. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/error.h"
#include "vkgan/gan.h"
#include "gan/slots.h"
#include "vkgan/io.h"

#define MAX_TENSORS (2 * VKG_MAX_LAYERS * 10 + 2)
#define MAX_META 16

int slots_add(slot *s, int n, const char *name, const vkg_tensor *view, int ndim) {
    slot *e = &s[n];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->view = *view;
    e->ndim = ndim;
    int dims[4] = {view->n, view->c, view->h, view->w};
    if (ndim == 1) dims[0] = (int)vkg_tensor_count(view);
    for (int i = 0; i < 4; i++) e->shape[i] = i < ndim ? dims[i] : 0;
    return n + 1;
}

static int add(slot *s, int n, const char *model, int layer, const char *what,
               const vkg_tensor *view, int ndim) {
    char name[64];
    snprintf(name, sizeof name, "%s.%d.%s", model, layer, what);
    return slots_add(s, n, name, view, ndim);
}

/* A view of the same place in another range of the model (gradient-like layout). */
static vkg_tensor twin(const vkg_tensor *param, const vkg_model *m, const vkg_tensor *range) {
    vkg_tensor t = *param;
    t.buf.buffer = range->buf.buffer;
    t.buf.offset = range->buf.offset + (param->buf.offset - m->params.buf.offset);
    return t;
}

int slots_model(const vkg_model *m, const char *name, const twin_range *twins, int ntwins, slot *s,
                int n) {
    for (int i = 0; i < m->count; i++) {
        const vkg_layer *L = &m->layers[i];
        int bn = L->spec.kind == VKG_LAYER_BATCHNORM;
        const vkg_tensor *views[2] = {L->w.buf.buffer ? &L->w : NULL,
                                      L->b.buf.buffer ? &L->b : NULL};
        const char *names[2] = {"weight", "bias"};
        for (int v = 0; v < 2; v++) {
            if (!views[v]) continue;
            int ndim = bn || v == 1 ? 1 : L->spec.kind == VKG_LAYER_DENSE ? 2 : 4;
            char what[40];
            n = add(s, n, name, i, names[v], views[v], ndim);
            for (int t = 0; t < ntwins; t++) {
                vkg_tensor view = twin(views[v], m, twins[t].range);
                snprintf(what, sizeof what, "%s.%s", names[v], twins[t].name);
                n = add(s, n, name, i, what, &view, ndim);
            }
        }
        if (bn) {
            n = add(s, n, name, i, "running_mean", &L->bn.running_mean, 1);
            n = add(s, n, name, i, "running_var", &L->bn.running_var, 1);
        }
    }
    return n;
}

int slots_download(vkg_ctx *ctx, const slot *s, int n, vkg_st_tensor *t, float **data) {
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        data[i] = malloc(sizeof(float) * vkg_tensor_count(&s[i].view));
        rc = data[i] ? vkg_tensor_download(ctx, &s[i].view, data[i])
                     : vkg_set_error("out of host memory");
        t[i] = (vkg_st_tensor){s[i].name, VKG_F32, s[i].ndim, {0}, data[i]};
        memcpy(t[i].shape, s[i].shape, sizeof t[i].shape);
    }
    return rc;
}

int slots_upload(vkg_ctx *ctx, const vkg_safetensors *st, const slot *s, int n, const char *path) {
    /* every tensor checked before any is uploaded: a file refused leaves the model as it was */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int ndim;
            int64_t shape[4];
            const void *data = vkg_safetensors_get(st, s[i].name, VKG_F32, &ndim, shape);
            if (!data || ndim != s[i].ndim ||
                memcmp(shape, s[i].shape, sizeof(int64_t) * (size_t)ndim))
                return vkg_set_error("%s: tensor %s is missing or has another shape: a file from "
                                     "another model",
                                     path, s[i].name);
            /* the bytes may be unaligned in the file: upload copies them */
            size_t bytes = sizeof(float) * vkg_tensor_count(&s[i].view);
            if (pass == 1 && vkg_upload(ctx, &s[i].view.buf, data, bytes) < 0) return -1;
        }
    return 0;
}

static int slots_of(const vkg_gan *gan, slot *s) {
    twin_range g[4] = {{"exp_avg", &gan->g.adam_m}, {"exp_avg_sq", &gan->g.adam_v}};
    twin_range d[3] = {{"exp_avg", &gan->d.adam_m}, {"exp_avg_sq", &gan->d.adam_v}};
    int ng = 2, nd = 2;
    if (gan->config.ema > 0) g[ng++] = (twin_range){"ema", &gan->ema};
    if (gan->config.hist_avg > 0)
        g[ng++] = (twin_range){"hist_avg", &gan->g_hist},
        d[nd++] = (twin_range){"hist_avg", &gan->d_hist};
    int n = slots_model(&gan->d, "D", d, nd, s, slots_model(&gan->g, "G", g, ng, s, 0));
    const vkg_tensor *latents[2] = {&gan->fixed_z, &gan->ref_z};
    const char *names[2] = {"fixed_z", "ref_z"};
    for (int i = 0; i < 2; i++) {
        if (!latents[i]->buf.buffer) continue; /* ref_z: G has virtual batch norm */
        n = slots_add(s, n, names[i], latents[i], 2);
        s[n - 1].shape[0] = latents[i]->n, s[n - 1].shape[1] = latents[i]->c;
    }
    return n;
}

int vkg_gan_save(vkg_gan *gan, const char *path, const char *const (*extra)[2], int extra_count) {
    if (extra_count < 0 || extra_count > MAX_META - 8)
        return vkg_set_error("checkpoint: too many metadata entries");
    slot *s = calloc(MAX_TENSORS, sizeof *s);
    vkg_st_tensor *t = calloc(MAX_TENSORS, sizeof *t);
    float *data[MAX_TENSORS] = {0};
    int n = s && t ? slots_of(gan, s) : 0, rc = s && t ? 0 : vkg_set_error("out of host memory");
    if (rc == 0) rc = vkg_gan_wait(gan);
    if (rc == 0) rc = slots_download(gan->ctx, s, n, t, data);
    for (int i = 0; rc == 0 && i < n; i++) {
        size_t count = vkg_tensor_count(&s[i].view), bad = 0;
        for (size_t j = 0; j < count; j++) bad += !isfinite(data[i][j]);
        if (bad) {
            vkg_set_error("%s not written: %s holds %zu non-finite values", path, s[i].name, bad);
            rc = VKG_GAN_NONFINITE;
        }
    }
    uint32_t counters[VKG_COUNTERS] = {0};
    vkg_adam_hyper hg, hd;
    if (rc == 0) rc = vkg_download(gan->ctx, &gan->counters.buf, counters, sizeof counters);
    if (rc == 0) rc = vkg_download(gan->ctx, &gan->g.hyper, &hg, sizeof hg);
    if (rc == 0) rc = vkg_download(gan->ctx, &gan->d.hyper, &hd, sizeof hd);
    if (rc == 0) {
        char v[7][128];
        snprintf(v[0], 128, "%u", counters[VKG_COUNTER_STEP]);
        snprintf(v[1], 128, "%u", gan->config.seed);
        snprintf(v[2], 128, "%d", /* the global batch when several ranks share it */
                 gan->config.batch * (gan->config.ranks.ranks > 1 ? gan->config.ranks.ranks : 1));
        snprintf(v[3], 128, "%d", gan->config.latent);
        snprintf(v[4], 128, "%.9g %.9g %.9g %.9g %.9g %u %u", hg.lr, hg.beta1, hg.beta2, hg.eps,
                 hg.weight_decay, hg.decoupled, hg.step);
        snprintf(v[5], 128, "%.9g %.9g %.9g %.9g %.9g %u %u", hd.lr, hd.beta1, hd.beta2, hd.eps,
                 hd.weight_decay, hd.decoupled, hd.step);
        snprintf(v[6], 128, "%u", counters[VKG_COUNTER_BATCH]);
        vkg_st_meta meta[MAX_META] = {
            {"format", "vkgan-gan-1"}, {"step", v[0]},   {"seed", v[1]},   {"batch", v[2]},
            {"latent", v[3]},          {"G.adam", v[4]}, {"D.adam", v[5]}, {"batches_drawn", v[6]}};
        for (int i = 0; i < extra_count; i++) meta[8 + i] = (vkg_st_meta){extra[i][0], extra[i][1]};
        rc = vkg_safetensors_write(path, t, n, meta, 8 + extra_count);
    }
    for (int i = 0; i < n; i++) free(data[i]);
    free(s);
    free(t);
    return rc;
}

/* Adam's state from the metadata: "lr beta1 beta2 eps weight_decay decoupled step", each in the
 * range Adam is defined on (a NaN rate would poison every weight at the first step). */
static int parse_adam(const char *path, const char *key, vkg_adam_hyper *h, const char *text) {
    int used = 0;
    if (!text ||
        sscanf(text, "%f %f %f %f %f %u %u%n", &h->lr, &h->beta1, &h->beta2, &h->eps,
               &h->weight_decay, &h->decoupled, &h->step, &used) != 7 ||
        text[used] || !(h->lr >= 0 && h->lr <= 1) || !(h->beta1 >= 0 && h->beta1 < 1) ||
        !(h->beta2 >= 0 && h->beta2 < 1) || !(h->eps > 0 && h->eps < 1) ||
        !(h->weight_decay >= 0 && h->weight_decay <= 1e3) || h->decoupled > 1)
        return vkg_set_error("%s: metadata %s is missing or not an Adam state in range", path, key);
    return 0;
}

/* A metadata counter: decimal digits only, below 2^32. */
static int parse_counter(const char *path, const char *key, const char *text, uint32_t *v) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = text && *text >= '0' && *text <= '9' ? strtoull(text, &end, 10) : 0;
    if (!end || *end || errno || n > UINT32_MAX)
        return vkg_set_error("%s: metadata %s '%.20s' is not a count below 2^32", path, key,
                             text ? text : "(missing)");
    *v = (uint32_t)n;
    return 0;
}

int vkg_gan_load(vkg_gan *gan, const char *path) {
    vkg_safetensors *st = vkg_safetensors_read(path);
    int rc = st ? vkg_gan_load_from(gan, st, path) : -1;
    vkg_safetensors_free(st);
    return rc;
}

int vkg_gan_load_from(vkg_gan *gan, const vkg_safetensors *st, const char *path) {
    slot *s = calloc(MAX_TENSORS, sizeof *s);
    int n = s ? slots_of(gan, s) : 0, rc = s ? 0 : vkg_set_error("out of host memory");
    const char *format = vkg_safetensors_meta(st, "format"),
               *step_text = vkg_safetensors_meta(st, "step");
    if (rc == 0 && (!format || strcmp(format, "vkgan-gan-1") != 0 || !step_text))
        rc = vkg_set_error("%s: not a vkgan GAN checkpoint (metadata format is %s)", path,
                           format ? format : "missing");
    vkg_adam_hyper hg, hd;
    if (rc == 0) rc = parse_adam(path, "G.adam", &hg, vkg_safetensors_meta(st, "G.adam"));
    if (rc == 0) rc = parse_adam(path, "D.adam", &hd, vkg_safetensors_meta(st, "D.adam"));
    if (rc == 0 && vkg_safetensors_count(st) != n)
        rc = vkg_set_error("%s: holds %d tensors, this model has %d: a checkpoint from another "
                           "model",
                           path, vkg_safetensors_count(st), n);
    const char *batches = vkg_safetensors_meta(st, "batches_drawn");
    uint32_t counters[VKG_COUNTERS] = {0};
    if (rc == 0) rc = parse_counter(path, "step", step_text, &counters[VKG_COUNTER_STEP]);
    if (rc == 0) rc = parse_counter(path, "batches_drawn", batches, &counters[VKG_COUNTER_BATCH]);
    if (rc == 0) rc = slots_upload(gan->ctx, st, s, n, path);
    if (rc == 0) gan->steps = gan->completed = counters[VKG_COUNTER_STEP];
    if (rc == 0) rc = vkg_upload(gan->ctx, &gan->counters.buf, counters, sizeof counters);
    if (rc == 0) rc = vkg_upload(gan->ctx, &gan->g.hyper, &hg, sizeof hg);
    if (rc == 0) rc = vkg_upload(gan->ctx, &gan->d.hyper, &hd, sizeof hd);
    free(s);
    return rc;
}
