/* safetensors files: written atomically, read whole and validated before any tensor is used.
 * vkgan records the CRC-32 of the data section in the metadata ("vkgan.crc32", 8 hex digits), and
 * that of the other metadata entries ("vkgan.meta_crc32": each key and value with its NUL, in
 * the header's order: the run's options, health state, ... a resume takes from it), and refuses
 * a file that no longer matches them: a flipped bit in a copied or damaged checkpoint is an
 * error, not weights or options resumed from. Files without the keys (other writers) load as
 * before.
 * A file whose F32 values are not all finite is refused too, CRC or not. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

#define MAX_HEADER (64u << 20)
#define CRC_KEY "vkgan.crc32"
#define META_CRC_KEY "vkgan.meta_crc32"

/* The CRC-32 of a key and its value, each with its terminating NUL, continuing crc. */
static uLong crc_entry(uLong crc, const char *key, const char *value) {
    crc = crc32_z(crc, (const Bytef *)key, strlen(key) + 1);
    return crc32_z(crc, (const Bytef *)value, strlen(value) + 1);
}

static const char *dtype_name(vkg_dtype t) {
    return t == VKG_F32 ? "F32" : "I32";
}

static size_t element_count(int ndim, const int64_t *shape) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    return n;
}

int vkg_safetensors_write(const char *path, const vkg_st_tensor *tensors, int count,
                          const vkg_st_meta *meta, int meta_count) {
    cJSON *root = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
    uLong meta_crc = crc32_z(0L, Z_NULL, 0);
    for (int i = 0; i < meta_count; i++) {
        cJSON_AddStringToObject(md, meta[i].key, meta[i].value);
        meta_crc = crc_entry(meta_crc, meta[i].key, meta[i].value);
    }
    size_t offset = 0;
    uLong crc = crc32_z(0L, Z_NULL, 0);
    for (int i = 0; i < count; i++) {
        const vkg_st_tensor *t = &tensors[i];
        crc = crc32_z(crc, t->data, element_count(t->ndim, t->shape) * 4);
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON_AddStringToObject(entry, "dtype", dtype_name(t->dtype));
        cJSON *shape = cJSON_AddArrayToObject(entry, "shape");
        for (int d = 0; d < t->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        size_t bytes = element_count(t->ndim, t->shape) * 4;
        cJSON *offsets = cJSON_AddArrayToObject(entry, "data_offsets");
        cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)offset));
        cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)(offset + bytes)));
        offset += bytes;
    }
    char crc_hex[9];
    snprintf(crc_hex, sizeof crc_hex, "%08lx", (unsigned long)meta_crc);
    cJSON_AddStringToObject(md, META_CRC_KEY, crc_hex);
    snprintf(crc_hex, sizeof crc_hex, "%08lx", (unsigned long)crc);
    cJSON_AddStringToObject(md, CRC_KEY, crc_hex);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) return vkg_set_error("%s: out of host memory", path);
    /* the header is padded with spaces so the data starts 8-byte aligned */
    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    char *header = malloc(padded);
    if (!header) {
        free(json);
        return vkg_set_error("%s: out of host memory", path);
    }
    memcpy(header, json, len);
    memset(header + len, ' ', padded - len);
    free(json);
    uint8_t size_le[8];
    for (int i = 0; i < 8; i++) size_le[i] = (uint8_t)((uint64_t)padded >> (8 * i));

    int nparts = 2 + count;
    const void **parts = malloc(sizeof *parts * (size_t)nparts);
    size_t *sizes = malloc(sizeof *sizes * (size_t)nparts);
    int rc = -1;
    if (parts && sizes) {
        parts[0] = size_le, sizes[0] = 8;
        parts[1] = header, sizes[1] = padded;
        for (int i = 0; i < count; i++) {
            parts[2 + i] = tensors[i].data;
            sizes[2 + i] = element_count(tensors[i].ndim, tensors[i].shape) * 4;
        }
        rc = vkg_write_file_atomic(path, parts, sizes, nparts);
    } else {
        vkg_set_error("%s: out of host memory", path);
    }
    free(parts);
    free(sizes);
    free(header);
    return rc;
}

typedef struct entry {
    const char *name;
    vkg_dtype dtype;
    int ndim;
    int64_t shape[4];
    uint64_t begin, end;
} entry;

struct vkg_safetensors {
    uint8_t *file;
    size_t size;
    uint8_t *data; /* start of the data section */
    cJSON *header;
    entry *entries;
    int count;
};

void vkg_safetensors_free(vkg_safetensors *st) {
    if (!st) return;
    free(st->file);
    cJSON_Delete(st->header);
    free(st->entries);
    free(st);
}

static int by_offset(const void *a, const void *b) {
    const entry *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* A short, printable copy of text from the file for a message: at most 24 characters, control
 * characters as '?', so an error stays one line. */
static const char *printable(const char *text, char out[32]) {
    size_t n = 0;
    for (; text[n] && n < 24; n++)
        out[n] = (unsigned char)text[n] < 0x20 || text[n] == 0x7f ? '?' : text[n];
    memcpy(out + n, text[n] ? "..." : "", text[n] ? 4 : 1);
    return out;
}

/* A whole number in 0..max, as JSON gives it (a double). */
static int whole(const cJSON *v, double max) {
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max &&
           v->valuedouble == (double)(int64_t)v->valuedouble;
}

/* Checks one header entry and fills e; -1 with an error naming the tensor. */
static int parse_entry(const char *path, const cJSON *item, uint64_t data_size, entry *e) {
    const char *name = item->string;
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    char text[32];
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offsets) ||
        cJSON_GetArraySize(offsets) != 2)
        return vkg_set_error("%s: corrupt header entry for tensor '%s': it needs dtype, shape and "
                             "two data_offsets",
                             path, name);
    if (strcmp(dtype->valuestring, "F32") == 0)
        e->dtype = VKG_F32;
    else if (strcmp(dtype->valuestring, "I32") == 0)
        e->dtype = VKG_I32;
    else
        return vkg_set_error("%s: tensor '%s' has dtype %s; vkgan reads F32 and I32", path, name,
                             printable(dtype->valuestring, text));
    e->name = name;
    e->ndim = cJSON_GetArraySize(shape);
    if (e->ndim > 4) return vkg_set_error("%s: tensor '%s' has more than 4 dimensions", path, name);
    /* the element count may not pass the data section's: checked as it is multiplied, after a
     * zero (an empty tensor) is looked for, so no product overflows */
    uint64_t count = 1, most = data_size / 4;
    int empty = 0;
    for (int d = 0; d < e->ndim; d++) {
        const cJSON *v = cJSON_GetArrayItem(shape, d);
        if (!whole(v, 1e15))
            return vkg_set_error("%s: tensor '%s': shape[%d] is not a whole number from 0 to 10^15",
                                 path, name, d);
        e->shape[d] = (int64_t)v->valuedouble;
        empty |= e->shape[d] == 0;
    }
    for (int d = 0; d < e->ndim && !empty; d++) {
        if ((uint64_t)e->shape[d] > most / count)
            return vkg_set_error("%s: tensor '%s' has a shape of more elements than the file's "
                                 "%llu data bytes hold",
                                 path, name, (unsigned long long)data_size);
        count *= (uint64_t)e->shape[d];
    }
    if (empty) count = 0;
    const cJSON *b = cJSON_GetArrayItem(offsets, 0), *f = cJSON_GetArrayItem(offsets, 1);
    if (!whole(b, (double)data_size) || !whole(f, (double)data_size) ||
        f->valuedouble < b->valuedouble)
        return vkg_set_error("%s: tensor '%s' has data offsets outside the file's %llu data bytes "
                             "(truncated?)",
                             path, name, (unsigned long long)data_size);
    e->begin = (uint64_t)b->valuedouble, e->end = (uint64_t)f->valuedouble;
    if (e->end - e->begin != count * 4)
        return vkg_set_error("%s: tensor '%s' holds %llu bytes, its shape needs %llu", path, name,
                             (unsigned long long)(e->end - e->begin),
                             (unsigned long long)count * 4);
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The header's names, each once and printable; __metadata__, when there, an object of strings. */
static int check_names(vkg_safetensors *st, const char *path, int total) {
    const char **names = malloc(sizeof *names * (size_t)(total ? total : 1));
    if (!names) return vkg_set_error("%s: out of host memory", path);
    int n = 0, r = 0;
    for (const cJSON *item = st->header->child; item && r == 0; item = item->next) {
        names[n++] = item->string;
        for (const char *c = item->string; *c && r == 0; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                r = vkg_set_error("%s: a tensor name in the header holds a control character",
                                  path);
    }
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 1; r == 0 && i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            r = vkg_set_error("%s: the header names '%s' twice", path, names[i]);
    free(names);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(st->header, "__metadata__");
    if (r == 0 && md && !cJSON_IsObject(md))
        r = vkg_set_error("%s: __metadata__ is not an object", path);
    char text[32];
    for (const cJSON *v = md ? md->child : NULL; r == 0 && v; v = v->next)
        if (!cJSON_IsString(v))
            r = vkg_set_error("%s: __metadata__ entry '%s' is not a string", path,
                              printable(v->string, text));
    return r;
}

/* Every F32 value finite: training never writes a NaN or an infinity (vkg_gan_save refuses
 * them), so a file that holds one was made or altered elsewhere, and weights loaded from it would
 * poison every step and sample. */
static int check_finite(const vkg_safetensors *st, const char *path) {
    for (int i = 0; i < st->count; i++) {
        const entry *e = &st->entries[i];
        if (e->dtype != VKG_F32) continue;
        size_t bad = 0, first = 0;
        for (uint64_t at = e->begin; at < e->end; at += 4) {
            float v;
            memcpy(&v, st->data + at, sizeof v); /* the bytes may be unaligned */
            if (!isfinite(v) && !bad++) first = (size_t)((at - e->begin) / 4);
        }
        if (bad)
            return vkg_set_error("%s: tensor '%s' holds %zu non-finite values (NaN or infinity; "
                                 "the first at element %zu): not weights to load",
                                 path, e->name, bad, first);
    }
    return 0;
}

/* The CRC-32 the metadata records under key: 1 (in *crc), 0 when the key is not there, -1 with
 * an error when it is not 8 hexadecimal digits. */
static int recorded_crc(const vkg_safetensors *st, const char *path, const char *key,
                        unsigned long *crc) {
    const char *want = vkg_safetensors_meta(st, key);
    if (!want) return 0;
    int digits = 0;
    while (isxdigit((unsigned char)want[digits])) digits++;
    if (digits != 8 || want[8])
        return vkg_set_error("%s: corrupt: its %s is \"%.16s\", not 8 hexadecimal digits", path,
                             key, want);
    *crc = strtoul(want, NULL, 16);
    return 1;
}

static int parse(vkg_safetensors *st, const char *path) {
    if (st->size < 8) return vkg_set_error("%s: truncated: no safetensors header", path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | st->file[i];
    if (n > MAX_HEADER || n > st->size - 8)
        return vkg_set_error("%s: not a safetensors file, or truncated (header length %llu, "
                             "file %zu bytes)",
                             path, (unsigned long long)n, st->size);
    st->header = cJSON_ParseWithLength((const char *)st->file + 8, (size_t)n);
    if (!cJSON_IsObject(st->header))
        return vkg_set_error("%s: the safetensors header is not valid JSON, or not an object",
                             path);
    st->data = st->file + 8 + n;
    uint64_t data_size = st->size - 8 - n;
    int total = cJSON_GetArraySize(st->header);
    if (check_names(st, path, total) < 0) return -1;
    st->entries = calloc((size_t)(total ? total : 1), sizeof *st->entries);
    if (!st->entries) return vkg_set_error("%s: out of host memory", path);
    for (const cJSON *item = st->header->child; item; item = item->next) {
        if (strcmp(item->string, "__metadata__") == 0) continue;
        if (parse_entry(path, item, data_size, &st->entries[st->count]) < 0) return -1;
        st->count++;
    }
    /* the tensors must tile the data section exactly */
    entry *sorted = malloc(sizeof *sorted * (size_t)(st->count ? st->count : 1));
    if (!sorted) return vkg_set_error("%s: out of host memory", path);
    memcpy(sorted, st->entries, sizeof *sorted * (size_t)st->count);
    qsort(sorted, (size_t)st->count, sizeof *sorted, by_offset);
    uint64_t expected = 0;
    int ok = 1;
    for (int i = 0; i < st->count && ok; i++)
        ok = sorted[i].begin == expected, expected = sorted[i].end;
    free(sorted);
    if (!ok || expected != data_size)
        return vkg_set_error("%s: corrupt: the tensors do not cover the %llu data bytes exactly",
                             path, (unsigned long long)data_size);
    unsigned long recorded;
    int has = recorded_crc(st, path, META_CRC_KEY, &recorded);
    if (has < 0) return -1;
    if (has) {
        uLong crc = crc32_z(0L, Z_NULL, 0);
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(st->header, "__metadata__");
        for (const cJSON *v = md->child; v; v = v->next)
            if (strcmp(v->string, CRC_KEY) != 0 && strcmp(v->string, META_CRC_KEY) != 0)
                crc = crc_entry(crc, v->string, v->valuestring);
        if (crc != recorded)
            return vkg_set_error("%s: corrupt: the metadata's CRC-32 is %08lx, not the %08lx its "
                                 "header records (a damaged or altered copy)",
                                 path, (unsigned long)crc, recorded);
    }
    if ((has = recorded_crc(st, path, CRC_KEY, &recorded)) < 0) return -1;
    unsigned long crc = has ? crc32_z(0L, st->data, (size_t)data_size) : 0;
    if (has && crc != recorded)
        return vkg_set_error("%s: corrupt: the tensor data's CRC-32 is %08lx, not the %08lx its "
                             "header records (a damaged or altered copy)",
                             path, crc, recorded);
    return check_finite(st, path);
}

vkg_safetensors *vkg_safetensors_read(const char *path) {
    vkg_safetensors *st = calloc(1, sizeof *st);
    FILE *f = st ? vkg_open_regular(path) : NULL;
    if (!st || !f) {
        if (!st) vkg_set_error("%s: out of host memory", path);
        if (f) fclose(f);
        free(st);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    st->size = size > 0 ? (size_t)size : 0;
    st->file = malloc(st->size ? st->size : 1);
    int rc = st->file && fread(st->file, 1, st->size, f) == st->size
                 ? parse(st, path)
                 : vkg_set_error("%s: cannot read it", path);
    fclose(f);
    if (rc < 0) {
        vkg_safetensors_free(st);
        return NULL;
    }
    return st;
}

const void *vkg_safetensors_get(const vkg_safetensors *st, const char *name, vkg_dtype dtype,
                                int *ndim, int64_t shape[4]) {
    for (int i = 0; i < st->count; i++) {
        const entry *e = &st->entries[i];
        if (strcmp(e->name, name) != 0 || e->dtype != dtype) continue;
        if (ndim) *ndim = e->ndim;
        if (shape) memcpy(shape, e->shape, sizeof e->shape);
        return st->data + e->begin;
    }
    return NULL;
}

const char *vkg_safetensors_meta(const vkg_safetensors *st, const char *key) {
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(st->header, "__metadata__");
    const cJSON *v = md ? cJSON_GetObjectItemCaseSensitive(md, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int vkg_safetensors_count(const vkg_safetensors *st) {
    return st->count;
}
