/* CIFAR-10 binary batches: records of 1 label byte and 3072 pixel bytes (1024 R, G, B planes). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vkgan/data.h"
#include "data/paths.h"
#include "vkgan/error.h"

#define RECORD 3073
#define BATCHES 5

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long)st.st_size : -1;
}

/* The folder holding the batches: DIR itself when it has a data_batch_1.bin (of whatever kind:
 * the batches' checks say what is wrong with it), else DIR/cifar-10-batches-bin. */
static int batch_dir(const char *dir, char *out, size_t size) {
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return vkg_set_error("%s: is a file, not a directory: cifar10:DIR names the folder of "
                             "data_batch_1.bin .. data_batch_5.bin (or the one holding "
                             "cifar-10-batches-bin/)",
                             dir);
    if (data_check_dir(dir) < 0) return -1;
    char probe[4096];
    if (snprintf(probe, sizeof probe, "%s/cifar-10-batches-bin", dir) >= (int)sizeof probe)
        return vkg_set_error("%s: path too long", dir);
    snprintf(probe, sizeof probe, "%s/data_batch_1.bin", dir);
    if (lstat(probe, &st) == 0) return snprintf(out, size, "%s", dir), 0;
    snprintf(probe, sizeof probe, "%s/cifar-10-batches-bin", dir);
    if (lstat(probe, &st) == 0)
        return data_check_dir(probe) < 0 ? -1 : (snprintf(out, size, "%s", probe), 0);
    return vkg_set_error("%s: no CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin) "
                         "there or in cifar-10-batches-bin/",
                         dir);
}

int vkg_load_cifar10(const char *dir, vkg_dataset *out) {
    memset(out, 0, sizeof *out);
    char base[4096], path[4200];
    if (batch_dir(dir, base, sizeof base) < 0) return -1;
    long sizes[BATCHES], total = 0;
    for (int b = 0; b < BATCHES; b++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", base, b + 1);
        if (data_check_file(path) < 0) return -1; /* missing, a directory, ...: said so */
        sizes[b] = file_size(path);
        if (sizes[b] == 0)
            return vkg_set_error("%s: is empty (a CIFAR-10 batch holds 10000 records of %d bytes)",
                                 path, RECORD);
        if (sizes[b] % RECORD != 0)
            return vkg_set_error("%s: truncated or corrupt: %ld bytes is not a whole number of "
                                 "%d-byte records",
                                 path, sizes[b], RECORD);
        total += sizes[b] / RECORD;
        if (total > INT_MAX)
            return vkg_set_error("%s: more than 2^31-1 records in the batches so far", path);
    }
    out->pixels = malloc((size_t)total * 3072);
    out->labels = malloc(sizeof *out->labels * (size_t)total);
    uint8_t *record = malloc(RECORD);
    if (!out->pixels || !out->labels || !record) {
        free(record);
        vkg_dataset_free(out);
        return vkg_set_error("out of host memory reading %s", base);
    }
    int n = 0;
    for (int b = 0; b < BATCHES; b++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", base, b + 1);
        int checked = data_check_file(path); /* a directory, missing, unreadable: said so */
        FILE *f = checked == 0 ? fopen(path, "rb") : NULL;
        if (!f) {
            int err = errno;
            free(record);
            vkg_dataset_free(out);
            return checked < 0 ? -1 : vkg_set_error("%s: cannot open it (%s)", path, strerror(err));
        }
        for (long r = 0; r < sizes[b] / RECORD; r++, n++) {
            size_t got = fread(record, 1, RECORD, f);
            int label = got == RECORD ? record[0] : -1;
            if (label < 0 || label > 9) {
                fclose(f);
                free(record);
                vkg_dataset_free(out);
                return label > 9 ? vkg_set_error("%s: record %ld has label %d; CIFAR-10 labels "
                                                 "are 0-9",
                                                 path, r, label)
                                 : vkg_set_error("%s: read error at record %ld", path, r);
            }
            out->labels[n] = record[0];
            memcpy(out->pixels + (size_t)n * 3072, record + 1, 3072);
        }
        fclose(f);
    }
    free(record);
    snprintf(out->name, sizeof out->name, "cifar10");
    out->count = n;
    out->channels = 3;
    out->height = out->width = 32;
    out->classes = 10;
    return 0;
}
