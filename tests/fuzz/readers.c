/* Every file reader behind one entry point; see readers.h. */
#include "readers.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "train/rundir.h"
#include "train/sampler.h"
#include "vkgan/classifier.h"
#include "vkgan/data.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/report.h"
#include "vkgan/train.h"

static const char *names[FUZZ_TARGETS] = {"checkpoint", "classifier", "idx",   "cifar",
                                          "folder",     "metrics",    "config"};

const char *fuzz_target_name(int target) {
    return target >= 0 && target < FUZZ_TARGETS ? names[target] : "?";
}

/* ---- files: one directory per process, one subdirectory per input ---- */

static char root[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_root(void) {
    if (root[0]) nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh, empty directory for this input's files; NULL when it cannot be made. */
static const char *case_dir(void) {
    static char dir[300];
    if (!root[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(root, sizeof root, "%s/vkgan-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(root)) return root[0] = 0, NULL;
        atexit(remove_root);
    }
    snprintf(dir, sizeof dir, "%s/case", root);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return mkdir(dir, 0700) == 0 ? dir : NULL;
}

/* Writes dir/name, gzipped when gz; 0 or -1. */
static int put(const char *dir, const char *name, const void *data, size_t size, int gz) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        int ok = f && (size == 0 || gzwrite(f, data, (unsigned)size) == (int)size);
        return (f && gzclose(f) != Z_OK) || !ok ? -1 : 0;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, size, f) == size;
    return (f && fclose(f) != 0) || !ok ? -1 : 0;
}

static int put_text(const char *dir, const char *name, const char *text) {
    return put(dir, name, text, strlen(text), 0);
}

/* ---- outcomes ---- */

/* A refusal: the reader must have left one message that names the file (in dir). */
static int refused(const char *dir) {
    const char *e = vkg_error();
    return e[0] && strstr(e, dir) ? FUZZ_REFUSED : FUZZ_BAD_MESSAGE;
}

static int outcome(int rc, const char *dir) {
    return rc == 0 ? FUZZ_ACCEPTED : refused(dir);
}

static int worst(int a, int b) {
    return a > b ? a : b;
}

/* vkgan report (the library prints nothing: errors come back). */
static int report(const char *dir) {
    return vkg_report_write(dir, NULL, NULL, 0) < 0 ? -1 : 0; /* 1: written, an image lost */
}

/* ---- the readers ---- */

volatile float fuzz_readers_sink; /* what the host read of the tensors, so the reads stay */

static int checkpoint(const char *dir, const uint8_t *d, size_t n) {
    char path[400];
    snprintf(path, sizeof path, "%s/step-000000002.safetensors", dir);
    if (put(dir, "step-000000002.safetensors", d, n, 0) < 0) return FUZZ_SETUP_FAILED;
    vkg_safetensors *st = vkg_safetensors_read(path);
    if (!st) return refused(dir);
    static vkg_train_options o;
    int shape[5], r = outcome(vkg_sampler_read_setup(st, path, &o, shape), dir);
    /* the tensors the host reads itself: every byte must lie in the file */
    const char *host[] = {"fixed_z", "ref_z"};
    float sum = 0, v;
    for (int i = 0; i < 2; i++) {
        int ndim;
        int64_t dims[4], count = 1;
        const uint8_t *t = vkg_safetensors_get(st, host[i], VKG_F32, &ndim, dims);
        for (int k = 0; t && k < ndim; k++) count *= dims[k];
        for (int64_t k = 0; t && k < count; k++) memcpy(&v, t + 4 * k, 4), sum += v;
    }
    vkg_safetensors_free(st);
    fuzz_readers_sink = sum;
    return r;
}

static int classifier(const char *dir, const uint8_t *d, size_t n) {
    char path[400];
    snprintf(path, sizeof path, "%s/classifier.safetensors", dir);
    if (put(dir, "classifier.safetensors", d, n, 0) < 0) return FUZZ_SETUP_FAILED;
    static vkg_class_stats real;
    int c, h, w, k;
    if (vkg_classifier_peek(path, &c, &h, &w, &k, &real) < 0) return refused(dir);
    int ok = (c == 1 || c == 3) && h >= 8 && w >= 8 && k >= 2 && k <= 64 && real.n > 0;
    return ok ? FUZZ_ACCEPTED : FUZZ_INCONSISTENT;
}

/* A dataset as a reader returned it: the fields must agree with each other. */
static int dataset(int rc, const char *dir, vkg_dataset *ds) {
    if (rc < 0) return refused(dir);
    int ok = ds->count > 0 && ds->pixels && ds->height > 0 && ds->width > 0 &&
             (ds->channels == 1 || ds->channels == 3);
    for (int i = 0; ok && ds->labels && i < ds->count; i++)
        ok = ds->labels[i] >= 0 && ds->labels[i] < ds->classes;
    vkg_dataset_free(ds);
    return ok ? FUZZ_ACCEPTED : FUZZ_INCONSISTENT;
}

static int idx(const char *dir, int variant, const uint8_t *d, size_t n) {
    size_t split = n >= 2 ? (size_t)(d[0] | d[1] << 8) : 0, skip = n >= 2 ? 2 : n;
    d += skip, n -= skip;
    if (split > n) split = n;
    int gz = variant & 1;
    const char *images = gz ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte";
    const char *labels = gz ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte";
    if (put(dir, images, d, split, gz) < 0 || put(dir, labels, d + split, n - split, gz) < 0)
        return FUZZ_SETUP_FAILED;
    vkg_dataset ds;
    return dataset(vkg_load_idx_dir(dir, "train", &ds), dir, &ds);
}

static int cifar(const char *dir, const uint8_t *d, size_t n) {
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        if (put(dir, name, d, n, 0) < 0) return FUZZ_SETUP_FAILED;
    }
    vkg_dataset ds;
    return dataset(vkg_load_cifar10(dir, &ds), dir, &ds);
}

static int folder(const char *dir, int variant, const uint8_t *d, size_t n) {
    char sub[400];
    snprintf(sub, sizeof sub, "%s/a", dir);
    if (mkdir(sub, 0700) < 0 || put(dir, "a/x.png", d, n, 0) < 0) return FUZZ_SETUP_FAILED;
    vkg_dataset ds;
    int channels = variant & 1 ? 1 : 3, size = variant & 2 ? 32 : 8;
    return dataset(vkg_load_folder(dir, size, channels, &ds), dir, &ds);
}

/* What vkgan report needs besides the file under test (reals.png is embedded, not decoded). */
static int run_files(const char *dir, int config, int metrics) {
    int r = put_text(dir, "reals.png", "not decoded");
    if (r == 0 && config)
        r = put_text(dir, "config.json",
                     "{\"options\": {\"data\": \"ring8\", \"steps\": 2}, "
                     "\"device\": {\"name\": \"fuzz\"}}\n");
    if (r == 0 && metrics)
        r = put_text(dir, "metrics.jsonl",
                     "{\"step\":1,\"loss_d\":1.3,\"loss_g\":0.7}\n"
                     "{\"step\":2,\"loss_d\":1.2,\"loss_g\":0.8}\n");
    return r;
}

static int metrics(const char *dir, const uint8_t *d, size_t n) {
    if (run_files(dir, 1, 0) < 0 || put(dir, "metrics.jsonl", d, n, 0) < 0 ||
        put(dir, "metrics.csv", d, n, 0) < 0)
        return FUZZ_SETUP_FAILED;
    int r = outcome(report(dir), dir);
    metrics_log log;
    int cut = metrics_open(&log, dir, 1, 1000, 990); /* a resume from step 1000, losses to 990 */
    if (cut == 0) metrics_close(&log);
    return worst(r, outcome(cut, dir));
}

static int config(const char *dir, const uint8_t *d, size_t n) {
    char path[400];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (run_files(dir, 0, 1) < 0 || put(dir, "config.json", d, n, 0) < 0) return FUZZ_SETUP_FAILED;
    cJSON *json = vkg_rundir_read_json(path);
    if (!json) return refused(dir);
    static vkg_train_options o; /* as a resume reads it */
    int r = outcome(
        vkg_train_options_from_json(&o, cJSON_GetObjectItemCaseSensitive(json, "options"), path),
        dir);
    cJSON_Delete(json);
    return worst(r, outcome(report(dir), dir));
}

int fuzz_readers_one(const uint8_t *data, size_t size) {
    if (size == 0) return FUZZ_ACCEPTED;
    const char *dir = case_dir();
    if (!dir) return FUZZ_SETUP_FAILED;
    int target = data[0] % FUZZ_TARGETS, variant = data[0] / FUZZ_TARGETS;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    vkg_set_error("%s", ""); /* a refusal must set its own message */
    switch (target) {
    case FUZZ_CHECKPOINT:
        return checkpoint(dir, d, n);
    case FUZZ_CLASSIFIER:
        return classifier(dir, d, n);
    case FUZZ_IDX:
        return idx(dir, variant, d, n);
    case FUZZ_CIFAR:
        return cifar(dir, d, n);
    case FUZZ_FOLDER:
        return folder(dir, variant, d, n);
    case FUZZ_METRICS:
        return metrics(dir, d, n);
    default:
        return config(dir, d, n);
    }
}
