/* IDX files (MNIST, Fashion-MNIST), gzipped or not: zlib's gzread reads both. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "vkgan/data.h"
#include "data/paths.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

#define MAX_SIDE 4096          /* pixels a side */
#define MAX_BYTES (1ull << 32) /* of pixel data */
#define CHUNK (16u << 20)      /* the first read's buffer: grown as the data arrives */

/* Reads n bytes into buf; -1 with an error naming the file when it is short or corrupt. `done`
 * bytes of the `total` the part needs were read before (for the message). */
static int read_exact(gzFile f, const char *path, uint8_t *buf, size_t n, size_t done, size_t total,
                      const char *what) {
    for (size_t at = 0; at < n;) {
        unsigned chunk = n - at > (1u << 30) ? 1u << 30 : (unsigned)(n - at);
        int got = gzread(f, buf + at, chunk);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            return vkg_set_error("%s: corrupt compressed data reading the %s (%s)", path, what,
                                 msg);
        }
        if (got == 0 && gzdirect(f))
            return vkg_set_error("%s: truncated: the %s needs %zu bytes, the file has %zu", path,
                                 what, total, done + at);
        if (got == 0)
            return vkg_set_error("%s: truncated: its gzip data ends early, after %zu of the %zu "
                                 "bytes the %s needs",
                                 path, done + at, total, what);
        at += (size_t)got;
    }
    return 0;
}

/* n bytes in a fresh buffer that grows as the data arrives, so a header that promises more than
 * the file holds costs no more memory than the file; NULL with vkg_error(). */
static uint8_t *read_bytes(gzFile f, const char *path, size_t n, const char *what) {
    size_t cap = n < CHUNK ? n : CHUNK, done = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    while (buf && done < n) {
        if (done == cap) {
            cap = n - cap < cap ? n : 2 * cap;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) free(buf);
            buf = grown;
            if (!buf) break;
        }
        if (read_exact(f, path, buf + done, cap - done, done, n, what) < 0) {
            free(buf);
            return NULL;
        }
        done = cap;
    }
    if (!buf) vkg_set_error("%s: out of host memory reading the %s", path, what);
    return buf;
}

static uint32_t big_endian(const uint8_t b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Opens an IDX file and checks its magic number (0x00000800 | element type << 8 | dims). */
static gzFile open_idx(const char *path, uint32_t magic, uint32_t *dims, int ndims) {
    if (data_check_file(path) < 0) return NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        vkg_set_error("%s: cannot open it (%s)", path, strerror(errno));
        return NULL;
    }
    uint8_t header[16];
    size_t size = 4 + 4 * (size_t)ndims;
    int read = read_exact(f, path, header, size, 0, size, "header");
    /* a .gz name: gzip data, not read as raw bytes */
    if (vkg_path_has_extension(path, "gz") && gzdirect(f)) {
        vkg_set_error("%s: not gzip data (it does not start with gzip's header, though its name "
                      "ends in .gz): decompress it correctly or name it without .gz",
                      path);
        read = -1;
    }
    if (read < 0) {
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
    if (idims[0] < 1 || idims[0] > INT_MAX || idims[1] < 1 || idims[1] > MAX_SIDE || idims[2] < 1 ||
        idims[2] > MAX_SIDE || (uint64_t)idims[0] * idims[1] * idims[2] > MAX_BYTES) {
        gzclose(fi);
        return vkg_set_error("%s: the header's dimensions %u x %u x %u are not 1..2^31-1 images "
                             "of 1..%d pixels a side, 4 GiB in all",
                             images_path, idims[0], idims[1], idims[2], MAX_SIDE);
    }
    gzFile fl = open_idx(labels_path, 0x00000801, ldims, 1);
    if (!fl) {
        gzclose(fi);
        return -1;
    }
    uint8_t *raw = NULL;
    int rc = -1;
    if (ldims[0] != idims[0]) {
        vkg_set_error("%s holds %u labels but %s holds %u images", labels_path, ldims[0],
                      images_path, idims[0]);
        goto done;
    }
    size_t count = idims[0];
    out->pixels = read_bytes(fi, images_path, count * idims[1] * idims[2], "pixel data");
    raw = out->pixels ? read_bytes(fl, labels_path, count, "labels") : NULL;
    if (!raw) goto done;
    /* the label bytes are there: now their int32 copies may be allocated */
    if (!(out->labels = malloc(sizeof *out->labels * count))) {
        vkg_set_error("out of host memory reading %s", labels_path);
        goto done;
    }
    int classes = 0;
    for (size_t i = 0; i < count; i++) {
        out->labels[i] = raw[i];
        if (raw[i] + 1 > classes) classes = raw[i] + 1;
    }
    out->count = (int)count;
    out->channels = 1;
    out->height = (int)idims[1];
    out->width = (int)idims[2];
    out->classes = classes;
    rc = 0;
done:
    free(raw);
    gzclose(fi);
    gzclose(fl);
    if (rc < 0) vkg_dataset_free(out);
    return rc;
}

/* DIR/NAME.gz if it is there (even as a broken link: the open says so), else DIR/NAME (which
 * may not exist: the open reports it). */
static void find(const char *dir, const char *name, char *path, size_t size) {
    struct stat st;
    snprintf(path, size, "%s/%s.gz", dir, name);
    if (lstat(path, &st) == 0) return;
    snprintf(path, size, "%s/%s", dir, name);
}

int vkg_load_idx_dir(const char *dir, const char *prefix, vkg_dataset *out) {
    if (data_check_dir(dir) < 0) return -1;
    char images[4096], labels[4096], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    find(dir, name, images, sizeof images);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    find(dir, name, labels, sizeof labels);
    return vkg_load_idx(images, labels, out);
}
