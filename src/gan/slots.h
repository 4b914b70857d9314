/* Model tensors as named file entries: shared by GAN checkpoints and classifier files. */
#ifndef VKGAN_GAN_SLOTS_H
#define VKGAN_GAN_SLOTS_H

#include "vkgan/io.h"
#include "vkgan/model.h"

/* One tensor of a file: where it lives on the GPU and its name and shape in the file. */
typedef struct slot {
    char name[64];
    vkg_tensor view;
    int ndim;
    int64_t shape[4];
} slot;

/* The ranges laid out like a model's parameters, saved beside each weight as "<what>.<name>". */
typedef struct twin_range {
    const char *name;
    const vkg_tensor *range;
} twin_range;

/* Appends slot s[n] named "<name>.<what>" for a tensor; returns n + 1. */
int slots_add(slot *s, int n, const char *name, const vkg_tensor *view, int ndim);
/* Appends a model's slots ("<name>.<layer>.weight", ".bias", batch-norm running statistics and
 * the twins) to s[n..]; returns the new count. */
int slots_model(const vkg_model *m, const char *name, const twin_range *twins, int ntwins, slot *s,
                int n);
/* Downloads the slots' tensors into fresh host memory (data[i], freed by the caller) and fills
 * the file entries t[i]. 0 or -1 with vkg_error(). */
int slots_download(vkg_ctx *ctx, const slot *s, int n, vkg_st_tensor *t, float **data);
/* Uploads every slot from a file read whole; a missing tensor or another shape is an error naming
 * it and `path`. */
int slots_upload(vkg_ctx *ctx, const vkg_safetensors *st, const slot *s, int n, const char *path);

#endif
