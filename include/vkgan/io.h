/* vkgan files: atomic writes, sample grids (PNG, JPEG, BMP, TGA), safetensors checkpoints. A file
 * is always written to a temporary name in its directory, flushed to disk and renamed over the
 * target, so a crash leaves either the old file or the new one, never half of one. */
#ifndef VKGAN_IO_H
#define VKGAN_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes the concatenation of `count` parts to path atomically (temp file, fsync, rename,
 * fsync of the directory). 0, or -1 with vkg_error() naming the path. */
int vkg_write_file_atomic(const char *path, const void *const *parts, const size_t *sizes,
                          int count);
/* Whether vkg_write_file_atomic could write path now: it creates and removes the temporary file
 * the write would use, and refuses a directory. 0, or -1 with vkg_error() naming the path, as
 * the write would fail. For commands that write only after long work, to fail before it. */
int vkg_check_writable(const char *path);
/* The absolute path of `path` with every symbolic link and "." and ".." resolved, as far as it
 * exists; the parts that do not exist yet follow by name (their ".." drops the part before). 0,
 * or -1 with vkg_error(). */
int vkg_real_path(const char *path, char *out, size_t size);
/* The real path (vkg_real_path) of the file a write to path (vkg_write_file_atomic) replaces:
 * path, or the file a symbolic link there names (where it points when that is not there yet).
 * Two outputs, or an output and an input, are one file exactly when these are equal. 0, or -1
 * with vkg_error() when the write would be refused (a directory, a device). */
int vkg_write_target(const char *path, char *out, size_t size);
/* Opens path to read it ("rb"): a regular file only, so a FIFO in its place is an error, not a
 * wait for a writer, and a device (/dev/zero) or folder is not read as an endless or LONG_MAX-byte
 * file. The FILE (the caller closes it), or NULL with vkg_error() naming path and why. */
FILE *vkg_open_regular(const char *path);
/* Whether the file name in path (its last part) ends in "." and ext, any case, with something
 * before the dot: ("a/b.PNG", "png") is 1; ("a/.png", "png") and ("a.png/b", "png") are 0. */
int vkg_path_has_extension(const char *path, const char *ext);
/* Whether a file name is such a temporary file ("NAME.tmp<PID>"): one a killed writer left. */
int vkg_is_atomic_temporary(const char *name);

/* Images are written in the format the file name's extension says (any case): .png, .jpg or .jpeg
 * (JPEG at quality 95), .bmp, .tga; another extension, or none, is refused. 0 when path names one
 * of those, or -1 with vkg_error() naming path and the extensions (before the work that makes the
 * image). */
int vkg_image_path_check(const char *path);
/* Writes w x h pixels of c bytes each (1 grey, 3 RGB, 4 RGBA) as an image (PNG for a .png name;
 * vkg_image_path_check), atomically. */
int vkg_write_png(const char *path, const unsigned char *pixels, int w, int h, int c);
/* Writes n images (NCHW floats in [-1, 1], c = 1 or 3) as one image grid with `cols` columns and a
 * 2-pixel border. */
int vkg_write_png_grid(const char *path, const float *images, int n, int c, int h, int w, int cols);
/* The grid of a class-conditional model's images (example i of class i % classes), as the
 * window (shaders/view_layout.glsl, VI_CLASSES) and samples/ show it: one row per class, row k
 * column j holding example j * classes + k, up to `cols` columns (at most n / classes); with
 * fewer examples than classes, one example per row. With classes <= 0, vkg_write_png_grid. */
int vkg_write_png_class_grid(const char *path, const float *images, int n, int classes, int c,
                             int h, int w, int cols);
/* The same layout with every one of the n examples (vkgan sample): ceil(n / classes) columns, the
 * last one partial (blank cells) when n is not a multiple of classes; n rows of one with fewer
 * examples than classes. */
int vkg_write_png_class_grid_all(const char *path, const float *images, int n, int classes, int c,
                                 int h, int w);

/* Writes (as an image, vkg_image_path_check) a scatter plot of n 2D points (x, y pairs) over
 * 3-sigma circles around the modes. */
int vkg_write_png_scatter(const char *path, const float *points, int n, const float (*modes)[2],
                          int mode_count, float sigma);

/* ---- safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length, a JSON header {"__metadata__": {str: str}, name: {dtype, shape, data_offsets}}, then
 * the tensors' bytes, contiguous, in header order. ---- */
typedef enum vkg_dtype { VKG_F32, VKG_I32 } vkg_dtype;
typedef struct vkg_st_tensor {
    const char *name;
    vkg_dtype dtype;
    int ndim; /* 0 .. 4 */
    int64_t shape[4];
    const void *data;
} vkg_st_tensor;
typedef struct vkg_st_meta {
    const char *key, *value;
} vkg_st_meta;

int vkg_safetensors_write(const char *path, const vkg_st_tensor *tensors, int count,
                          const vkg_st_meta *meta, int meta_count);

/* A file read whole and checked: every tensor's offsets inside the data, sizes matching shapes
 * and dtypes, the data covered without holes or overlaps. */
typedef struct vkg_safetensors vkg_safetensors;
vkg_safetensors *vkg_safetensors_read(const char *path);
/* The tensor called name (NULL when absent, or of another dtype); shape and ndim filled in. The
 * bytes may be unaligned in files from other writers: copy them out with memcpy. */
const void *vkg_safetensors_get(const vkg_safetensors *st, const char *name, vkg_dtype dtype,
                                int *ndim, int64_t shape[4]);
/* A metadata value, or NULL. */
const char *vkg_safetensors_meta(const vkg_safetensors *st, const char *key);
int vkg_safetensors_count(const vkg_safetensors *st);
void vkg_safetensors_free(vkg_safetensors *st);

#endif
