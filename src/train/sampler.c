/* G rebuilt from a checkpoint (vkg_sampler, include/vkgan/rundir.h). */
#include "train/sampler.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "train/run.h"
#include "vkgan/error.h"

enum { STREAM_Z_USER = 3001, STREAM_DROPOUT_USER };
enum { MAX_CLASSES = 1024 }; /* of a folder dataset (src/data/folder.c) */

/* Uploads G.<layer>.<what> (its ".ema" twin when the checkpoint has one) into a view, whose
 * shape in the file is its (n, c, h, w) cut to `want` dimensions, or its count for one (as
 * checkpoints are written): exactly, not only as many values (a transposed weight is refused). */
static int load_view(vkg_ctx *ctx, const vkg_safetensors *st, const char *path, int layer,
                     const char *what, const vkg_tensor *view, int want) {
    char name[64], ema[80];
    snprintf(name, sizeof name, "G.%d.%s", layer, what);
    snprintf(ema, sizeof ema, "%s.ema", name);
    int ndim;
    int64_t shape[4], dims[4] = {view->n, view->c, view->h, view->w};
    if (want == 1) dims[0] = (int64_t)vkg_tensor_count(view);
    const void *data = vkg_safetensors_get(st, ema, VKG_F32, &ndim, shape);
    if (!data) data = vkg_safetensors_get(st, name, VKG_F32, &ndim, shape);
    if (!data || ndim != want || memcmp(shape, dims, sizeof *dims * (size_t)want) != 0)
        return vkg_set_error("%s: tensor %s is missing or has another shape", path, name);
    return vkg_upload(ctx, &view->buf, data, sizeof(float) * vkg_tensor_count(view));
}

static int load_generator(vkg_ctx *ctx, const vkg_safetensors *st, const char *path, vkg_model *g) {
    for (int i = 0; i < g->count; i++) {
        const vkg_layer *L = &g->layers[i];
        int bn = L->spec.kind == VKG_LAYER_BATCHNORM, dense = L->spec.kind == VKG_LAYER_DENSE;
        if (L->w.buf.buffer && load_view(ctx, st, path, i, "weight", &L->w,
                                         bn      ? 1
                                         : dense ? 2
                                                 : 4) < 0)
            return -1;
        if (L->b.buf.buffer && load_view(ctx, st, path, i, "bias", &L->b, 1) < 0) return -1;
    }
    return 0;
}

/* The data shape against the options it was trained with: every number is checked before it
 * sizes a buffer (a checkpoint is a file people share). */
static int check_setup(const char *path, const vkg_train_options *o, const int shape[5]) {
    if (o->batch < 1 || o->latent < 1 || o->g_width < 1 || o->d_width < 1)
        return vkg_set_error("%s: vkgan.options has unresolved sizes (batch %d, latent %d, "
                             "widths %d and %d): not a checkpoint of a run",
                             path, o->batch, o->latent, o->g_width, o->d_width);
    int points = shape[0], c = shape[1], h = shape[2], w = shape[3], k = shape[4];
    if (points != 0 && points != 1)
        return vkg_set_error("%s: vkgan.data_shape: the first field is %d (0 images, 1 points)",
                             path, points);
    if (points && (c != 2 || h != 1 || w != 1))
        return vkg_set_error("%s: vkgan.data_shape %d %d %d: 2D points are 2 1 1", path, c, h, w);
    if (!points && ((c != 1 && c != 3) || h != o->image_size || w != o->image_size))
        return vkg_set_error("%s: vkgan.data_shape %d %d %d does not fit the model in "
                             "vkgan.options (1 or 3 channels of %dx%d pixels)",
                             path, c, h, w, o->image_size, o->image_size);
    if (o->conditional ? k < 2 || k > MAX_CLASSES : k != 0)
        return vkg_set_error("%s: vkgan.data_shape has %d classes; the model is %s", path, k,
                             o->conditional ? "conditional (2 to 1024 classes)"
                                            : "not conditional (0)");
    return 0;
}

/* The run's options and data shape from the checkpoint's metadata. */
int vkg_sampler_read_setup(const vkg_safetensors *st, const char *path, vkg_train_options *o,
                           int shape[5]) {
    const char *text = vkg_safetensors_meta(st, "vkgan.options");
    const char *dims = vkg_safetensors_meta(st, "vkgan.data_shape");
    int used = 0;
    if (!text || !dims)
        return vkg_set_error("%s: not a checkpoint written by vkgan train (no vkgan.options or "
                             "vkgan.data_shape in its metadata)",
                             path);
    if (sscanf(dims, "%d %d %d %d %d%n", &shape[0], &shape[1], &shape[2], &shape[3], &shape[4],
               &used) != 5 ||
        dims[used])
        return vkg_set_error("%s: vkgan.data_shape '%.40s' is not five integers", path, dims);
    cJSON *json = cJSON_Parse(text);
    int r = json ? vkg_train_options_from_json(o, json, path)
                 : vkg_set_error("%s: vkgan.options is not valid JSON", path);
    cJSON_Delete(json);
    return r < 0 ? -1 : check_setup(path, o, shape);
}

/* The labels of examples first .. first + count - 1 as floats: all `cls`, or i % classes. */
int vkg_sampler_labels(vkg_ctx *ctx, const vkg_tensor *t, int first, int classes, int cls) {
    float *f = malloc(sizeof(float) * (size_t)t->n);
    if (!f) return vkg_set_error("out of host memory");
    for (int i = 0; i < t->n; i++) f[i] = (float)(cls >= 0 ? cls : (first + i) % classes);
    int r = vkg_tensor_upload(ctx, t, f);
    free(f);
    return r;
}

int vkg_sampler_setup(vkg_ctx *ctx, vkg_arena *arena, const vkg_safetensors *st, const char *path,
                      const vkg_train_options *o, const int shape[5], unsigned seed,
                      vkg_sampler *s) {
    memset(s, 0, sizeof *s);
    vkg_layer_spec g[VKG_MAX_LAYERS], d[VKG_MAX_LAYERS];
    int ng, nd, b = o->batch, k = s->classes = shape[4];
    if (run_build_layers(o, shape[0], shape[1], g, &ng, d, &nd) < 0 ||
        vkg_model_create(arena, g, ng, b, o->latent + k, 1, 1, &s->g) < 0 ||
        vkg_tensor_alloc(arena, b, o->latent, 1, 1, &s->z) < 0 ||
        vkg_tensor_alloc(arena, 1, 4, 1, 1, &s->counter) < 0 ||
        load_generator(ctx, st, path, &s->g) < 0)
        return -1;
    s->g.rng = (vkg_rng){.seed = seed, .stream = STREAM_DROPOUT_USER, .counters = &s->counter.buf};
    if (k && (vkg_tensor_alloc(arena, b, o->latent + k, 1, 1, &s->z_cat) < 0 ||
              vkg_tensor_alloc(arena, b, 1, 1, 1, &s->labels) < 0))
        return -1;
    if (!vkg_model_has_virtual_bn(&s->g)) return 0;
    /* virtual batch norm: the run's reference batch (classes i % k), from the checkpoint */
    int ndim;
    int64_t dims[4];
    const void *ref = vkg_safetensors_get(st, "ref_z", VKG_F32, &ndim, dims);
    if (!ref || ndim != 2 || dims[0] != b || dims[1] != o->latent)
        return vkg_set_error("%s: no reference batch ref_z for G's virtual batch norm", path);
    if (vkg_tensor_alloc(arena, b, o->latent, 1, 1, &s->ref_z) < 0 ||
        vkg_upload(ctx, &s->ref_z.buf, ref, sizeof(float) * (size_t)b * o->latent) < 0)
        return -1;
    if (k && (vkg_tensor_alloc(arena, b, o->latent + k, 1, 1, &s->ref_cat) < 0 ||
              vkg_tensor_alloc(arena, b, 1, 1, 1, &s->ref_labels) < 0 ||
              vkg_sampler_labels(ctx, &s->ref_labels, 0, k, -1) < 0))
        return -1;
    return 0;
}

int vkg_sampler_record(vkg_rec *rec, vkg_sampler *s, unsigned seed, int draw_z) {
    int k = s->classes, r = 0;
    vkg_rng z_rng = {.seed = seed, .stream = STREAM_Z_USER, .counters = &s->counter.buf};
    if (draw_z) r |= vkg_fill_normal(rec, &z_rng, 0, 1, &s->z);
    if (k) r |= vkg_onehot_concat(rec, &s->z, &s->labels.buf, k, &s->z_cat);
    if (vkg_model_has_virtual_bn(&s->g)) {
        if (k) r |= vkg_onehot_concat(rec, &s->ref_z, &s->ref_labels.buf, k, &s->ref_cat);
        r |= vkg_model_forward(rec, &s->g, k ? &s->ref_cat : &s->ref_z, VKG_BN_REFERENCE);
    }
    r |= vkg_model_forward(rec, &s->g, k ? &s->z_cat : &s->z, VKG_BN_BATCH_STATS);
    return r ? -1 : vkg_rec_end(rec);
}
