/* IDX files (MNIST, Fashion-MNIST), gzipped or not: zlib's gzread reads both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "vkgan/data.h"
#include "vkgan/error.h"

/* Reads exactly n bytes; -1 with an error naming the file when it is short or corrupt. */
static int read_exact(gzFile f, const char *path, void *dst, size_t n, const char *what) {
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? 1u << 30 : (unsigned)(n - done);
        int got = gzread(f, (char *)dst + done, chunk);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            return vkg_set_error("%s: corrupt compressed data reading the %s (%s)", path, what,
                                 msg);
        }
        if (got == 0)
            return vkg_set_error("%s: truncated: the %s needs %zu bytes, the file has %zu", path,
                                 what, n, done);
        done += (size_t)got;
    }
    return 0;
}

static uint32_t big_endian(const uint8_t b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Opens an IDX file and checks its magic number (0x00000800 | element type << 8 | dims). */
static gzFile open_idx(const char *path, uint32_t magic, uint32_t *dims, int ndims) {
    gzFile f = gzopen(path, "rb");
    if (!f) {
        vkg_set_error("%s: cannot open it", path);
        return NULL;
    }
    uint8_t header[16];
    if (read_exact(f, path, header, 4 + 4 * (size_t)ndims, "header") < 0) {
        gzclose(f);
        return NULL;
    }
    if (big_endian(header) != magic) {
        vkg_set_error("%s: not an IDX file of this kind: magic number 0x%08x, expected 0x%08x",
                      path, big_endian(header), magic);
        gzclose(f);
        return NULL;
    }
    for (int i = 0; i < ndims; i++) dims[i] = big_endian(header + 4 + 4 * i);
    return f;
}

int vkg_load_idx(const char *images_path, const char *labels_path, vkg_dataset *out) {
    memset(out, 0, sizeof *out);
    uint32_t idims[3], ldims[1];
    gzFile fi = open_idx(images_path, 0x00000803, idims, 3);
    if (!fi) return -1;
    if (idims[0] == 0 || idims[1] == 0 || idims[2] == 0 || idims[1] > 4096 || idims[2] > 4096 ||
        (uint64_t)idims[0] * idims[1] * idims[2] > (1ull << 32)) {
        gzclose(fi);
        return vkg_set_error("%s: implausible dimensions %u x %u x %u", images_path, idims[0],
                             idims[1], idims[2]);
    }
    gzFile fl = open_idx(labels_path, 0x00000801, ldims, 1);
    if (!fl) {
        gzclose(fi);
        return -1;
    }
    int rc = -1;
    if (ldims[0] != idims[0]) {
        vkg_set_error("%s holds %u labels but %s holds %u images", labels_path, ldims[0],
                      images_path, idims[0]);
        goto done;
    }
    size_t pixels = (size_t)idims[0] * idims[1] * idims[2];
    out->pixels = malloc(pixels);
    out->labels = malloc(sizeof *out->labels * idims[0]);
    uint8_t *raw = malloc(idims[0]);
    if (!out->pixels || !out->labels || !raw) {
        free(raw);
        vkg_set_error("out of host memory reading %s", images_path);
        goto done;
    }
    if (read_exact(fi, images_path, out->pixels, pixels, "pixel data") < 0 ||
        read_exact(fl, labels_path, raw, idims[0], "labels") < 0) {
        free(raw);
        goto done;
    }
    int classes = 0;
    for (uint32_t i = 0; i < idims[0]; i++) {
        out->labels[i] = raw[i];
        if (raw[i] + 1 > classes) classes = raw[i] + 1;
    }
    free(raw);
    out->count = (int)idims[0];
    out->channels = 1;
    out->height = (int)idims[1];
    out->width = (int)idims[2];
    out->classes = classes;
    rc = 0;
done:
    gzclose(fi);
    gzclose(fl);
    if (rc < 0) vkg_dataset_free(out);
    return rc;
}

/* DIR/NAME.gz if it exists, else DIR/NAME (which may not exist: the open reports it). */
static void find(const char *dir, const char *name, char *path, size_t size) {
    struct stat st;
    snprintf(path, size, "%s/%s.gz", dir, name);
    if (stat(path, &st) == 0) return;
    snprintf(path, size, "%s/%s", dir, name);
}

int vkg_load_idx_dir(const char *dir, const char *prefix, vkg_dataset *out) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return vkg_set_error("%s: no such directory", dir);
    char images[4096], labels[4096], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    find(dir, name, images, sizeof images);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    find(dir, name, labels, sizeof labels);
    return vkg_load_idx(images, labels, out);
}
