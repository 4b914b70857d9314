/* vkgan sample: G alone, rebuilt from the options stored in a checkpoint, on fresh z. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "train/run.h"
#include "train/sampler.h"
#include "vkgan/data.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

/* sampler_images, and with z non-NULL the latents of the n examples too (n * latent). */
static int sample_batches(vkg_ctx *ctx, const vkg_safetensors *st, const char *path,
                          const vkg_train_options *o, const int shape[5], int n, unsigned seed,
                          int cls, float *images, float *z) {
    int k = shape[4];
    vkg_arena *arena = vkg_arena_create(ctx, 0);
    if (!arena) return -1;
    vkg_sampler s;
    memset(&s, 0, sizeof s);
    int r = vkg_sampler_setup(ctx, arena, st, path, o, shape, seed, &s);
    vkg_rec *rec = r == 0 ? vkg_rec_begin(ctx, 0) : NULL;
    if (r == 0) r = rec ? vkg_sampler_record(rec, &s, seed, 1) : -1;
    const vkg_tensor *y = vkg_model_output(&s.g);
    size_t each = r == 0 ? vkg_tensor_count(y) / (size_t)o->batch : 0;
    size_t expected = shape[0] ? 2 : (size_t)shape[1] * shape[2] * shape[3];
    if (r == 0 && each != expected) /* vkg_sampler_read_setup checks this; images is sized by it */
        r = vkg_set_error("%s: G makes examples of %zu values, vkgan.data_shape says %zu", path,
                          each, expected);
    size_t row = each > (size_t)o->latent ? each : (size_t)o->latent;
    float *batch = r == 0 ? malloc(sizeof(float) * row * (size_t)o->batch) : NULL;
    if (r == 0 && !batch) r = vkg_set_error("out of host memory");
    for (int j = 0; r == 0 && j * o->batch < n; j++) { /* batches of the training batch size */
        uint32_t counter[4] = {(uint32_t)j, 0, 0, 0};
        int take = n - j * o->batch < o->batch ? n - j * o->batch : o->batch;
        r = vkg_upload(ctx, &s.counter.buf, counter, sizeof counter);
        if (r == 0 && k) r = vkg_sampler_labels(ctx, &s.labels, j * o->batch, k, cls);
        if (r == 0) r = vkg_rec_run(rec);
        if (r == 0) r = vkg_tensor_download(ctx, y, batch);
        if (r == 0)
            memcpy(images + each * (size_t)j * o->batch, batch, sizeof(float) * each * take);
        if (r == 0 && z) r = vkg_tensor_download(ctx, &s.z, batch);
        if (r == 0 && z)
            memcpy(z + (size_t)o->latent * j * o->batch, batch,
                   sizeof(float) * (size_t)o->latent * take);
    }
    free(batch);
    vkg_rec_destroy(rec);
    vkg_arena_destroy(arena);
    return r;
}

int sampler_images(vkg_ctx *ctx, const vkg_safetensors *st, const char *path,
                   const vkg_train_options *o, const int shape[5], int n, unsigned seed, int cls,
                   float *images) {
    return sample_batches(ctx, st, path, o, shape, n, seed, cls, images, NULL);
}

/* --raw: G's float output and the z (and class labels) it came from, whole batches (batch norm
 * uses each batch's statistics, so an example depends on its whole batch). */
static int write_raw(const char *raw, const vkg_train_options *o, const int shape[5], int rows,
                     int cls, const float *images, const float *z) {
    int k = shape[4];
    float *labels = k ? malloc(sizeof(float) * (size_t)rows) : NULL;
    if (k && !labels) return vkg_set_error("out of host memory");
    for (int i = 0; k && i < rows; i++) /* as vkg_sampler_labels sets them */
        labels[i] = (float)(cls >= 0 ? cls : i % k);
    vkg_st_tensor t[3] = {
        {"images", VKG_F32, shape[0] ? 2 : 4, {rows, shape[1], shape[2], shape[3]}, images},
        {"z", VKG_F32, 2, {rows, o->latent}, z},
        {"labels", VKG_F32, 1, {rows}, labels}};
    char batch[32];
    snprintf(batch, sizeof batch, "%d", o->batch);
    vkg_st_meta meta[2] = {{"format", "vkgan-samples-1"}, {"batch", batch}};
    int r = vkg_safetensors_write(raw, t, k ? 3 : 2, meta, 2);
    free(labels);
    return r;
}

static int generate(vkg_ctx *ctx, const vkg_safetensors *st, const char *path, int n,
                    const char *out, const char *raw, unsigned seed, int cls) {
    vkg_train_options o;
    int shape[5];
    if (vkg_sampler_read_setup(st, path, &o, shape) < 0) return -1;
    int k = shape[4];
    if (cls >= 0 && !k) return vkg_set_error("--class: %s is not class-conditional", path);
    if (cls >= k && k) return vkg_set_error("--class %d: the model has classes 0..%d", cls, k - 1);
    size_t each = shape[0] ? 2 : (size_t)shape[1] * shape[2] * shape[3];
    int rows = raw ? (n + o.batch - 1) / o.batch * o.batch : n; /* --raw: whole batches */
    float *images = malloc(sizeof(float) * each * (size_t)rows);
    float *z = raw ? malloc(sizeof(float) * (size_t)o.latent * (size_t)rows) : NULL;
    int r = images && (z || !raw)
                ? sample_batches(ctx, st, path, &o, shape, rows, seed, cls, images, z)
                : vkg_set_error("out of host memory");
    if (r == 0 && raw) r = write_raw(raw, &o, shape, rows, cls, images, z);
    if (r == 0 && shape[0]) { /* 2D points: a scatter plot over the data's modes */
        vkg_dataset data;
        r = vkg_dataset_load(o.data, 0, 0, (uint64_t)o.seed, &data);
        if (r == 0)
            r = vkg_write_png_scatter(out, images, n, data.modes, data.mode_count, data.mode_sigma);
        vkg_dataset_free(&data);
    } else if (r == 0) {
        int cols = 1;
        while (cols * cols < n) cols++;
        /* with classes, one row per class holding all n (the last column partial) */
        r = cls < 0 && k > 0
                ? vkg_write_png_class_grid_all(out, images, n, k, shape[1], shape[2], shape[3])
                : vkg_write_png_grid(out, images, n, shape[1], shape[2], shape[3], cols);
    }
    free(images);
    free(z);
    return r;
}

/* The class of `text` (NULL: -1, one row per class): an index, or a name in the checkpoint's
 * vkgan.class_names. */
static int class_index(const vkg_safetensors *st, const char *path, const char *text, int *cls) {
    char *end;
    long v = text ? strtol(text, &end, 10) : -1;
    if (!text || (*text && !*end)) { /* an index: checked against the model when it is built */
        *cls = v >= -1 && v < 1 << 20 ? (int)v : 1 << 20;
        return 0;
    }
    const char *json = vkg_safetensors_meta(st, "vkgan.class_names");
    cJSON *names = cJSON_Parse(json ? json : "null");
    char known[600] = "";
    int i = 0;
    *cls = -1;
    for (const cJSON *e = cJSON_IsArray(names) ? names->child : NULL; e; e = e->next, i++) {
        if (!cJSON_IsString(e)) continue;
        if (*cls < 0 && strcmp(e->valuestring, text) == 0) *cls = i;
        if (strlen(known) + strlen(e->valuestring) + 8 < sizeof known)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s'%s'",
                     known[0] ? ", " : "", e->valuestring);
    }
    cJSON_Delete(names);
    if (*cls >= 0) return 0;
    if (known[0])
        return vkg_set_error("--class %s: the model's classes are %.500s (or their index)", text,
                             known);
    vkg_train_options o;
    int shape[5];
    if (vkg_sampler_read_setup(st, path, &o, shape) == 0 && shape[4] == 0)
        return vkg_set_error("--class: %s is not class-conditional", path);
    return vkg_set_error("--class %s: %s names no classes (give an index)", text, path);
}

int vkg_sample_run(const char *checkpoint, int n, const char *out, unsigned seed, int cls,
                   const char *device, int validation) {
    char text[16];
    snprintf(text, sizeof text, "%d", cls);
    return vkg_sample_write(checkpoint, n, out, NULL, seed, cls >= 0 ? text : NULL, device,
                            validation);
}

int vkg_sample_write(const char *checkpoint, int n, const char *out, const char *raw, unsigned seed,
                     const char *cls_text, const char *device, int validation) {
    vkg_safetensors *st = vkg_safetensors_read(checkpoint);
    int cls;
    if (!st || class_index(st, checkpoint, cls_text, &cls) < 0) {
        vkg_safetensors_free(st);
        return -1;
    }
    vkg_ctx_options copts = {.device = device, .validation = validation ? 1 : -1, .quiet = 1};
    vkg_ctx *ctx = vkg_ctx_create(&copts);
    int r = ctx ? generate(ctx, st, checkpoint, n, out, raw && raw[0] ? raw : NULL, seed, cls) : -1;
    if (r == 0 && validation && vkg_ctx_validation_count(ctx) > 0)
        r = vkg_set_error("validation messages were reported");
    vkg_ctx_destroy(ctx);
    vkg_safetensors_free(st);
    return r < 0 ? -1 : 0;
}
