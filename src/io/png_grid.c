/* Sample grids and images through stb_image_write (PNG, JPEG, BMP or TGA, as the file name's
 * extension says), written atomically. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

#define BORDER 2

typedef struct png_buffer {
    unsigned char *data;
    size_t size, cap;
    int failed;
} png_buffer;

static void append(void *user, void *data, int size) {
    png_buffer *b = user;
    if (b->failed) return;
    if (b->size + (size_t)size > b->cap) {
        size_t cap = (b->size + (size_t)size) * 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown, b->cap = cap;
    }
    memcpy(b->data + b->size, data, (size_t)size);
    b->size += (size_t)size;
}

int vkg_write_png_grid(const char *path, const float *images, int n, int c, int h, int w,
                       int cols) {
    if (n < 1 || (c != 1 && c != 3) || h < 1 || w < 1 || cols < 1)
        return vkg_set_error("%s: cannot make a grid of %d images of %dx%dx%d", path, n, c, h, w);
    int rows = (n + cols - 1) / cols;
    if (cols > n) cols = n;
    int gw = cols * (w + BORDER) + BORDER, gh = rows * (h + BORDER) + BORDER;
    unsigned char *grid = calloc((size_t)gw * gh, (size_t)c);
    if (!grid) return vkg_set_error("%s: out of host memory", path);
    for (int i = 0; i < n; i++) {
        int x0 = BORDER + (i % cols) * (w + BORDER), y0 = BORDER + (i / cols) * (h + BORDER);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float v = images[(((size_t)i * c + ch) * h + y) * w + x];
                    v = (v + 1) * 127.5f; /* [-1, 1] -> [0, 255] */
                    v = v < 0 ? 0 : v > 255 ? 255 : v;
                    grid[((size_t)(y0 + y) * gw + x0 + x) * c + ch] = (unsigned char)lrintf(v);
                }
    }
    int rc = vkg_write_png(path, grid, gw, gh, c);
    free(grid);
    return rc;
}

/* Rows x per_class cells: row k, column j holding example j * classes + k, of class k; a cell
 * past the last example is left blank (black, as the border). */
static int class_grid(const char *path, const float *images, int n, int classes, int c, int h,
                      int w, int rows, int per_class) {
    size_t each = (size_t)c * h * w;
    float *grid = malloc(sizeof(float) * each * (size_t)(rows * per_class));
    if (!grid) return vkg_set_error("%s: out of host memory", path);
    for (int k = 0; k < rows; k++)
        for (int j = 0; j < per_class; j++) {
            float *cell = grid + each * (size_t)(k * per_class + j);
            int example = j * classes + k;
            if (example < n)
                memcpy(cell, images + each * (size_t)example, sizeof(float) * each);
            else
                for (size_t i = 0; i < each; i++) cell[i] = -1;
        }
    int r = vkg_write_png_grid(path, grid, rows * per_class, c, h, w, per_class);
    free(grid);
    return r;
}

int vkg_write_png_class_grid(const char *path, const float *images, int n, int classes, int c,
                             int h, int w, int cols) {
    if (classes <= 0) return vkg_write_png_grid(path, images, n, c, h, w, cols);
    int per_class = n / classes < cols ? n / classes : cols, rows = classes;
    if (per_class < 1) per_class = 1, rows = n; /* fewer examples than classes */
    return class_grid(path, images, n, classes, c, h, w, rows, per_class);
}

int vkg_write_png_class_grid_all(const char *path, const float *images, int n, int classes, int c,
                                 int h, int w) {
    if (n < 1 || classes <= 0)
        return vkg_set_error("%s: cannot make a grid of %d images of %d classes", path, n, classes);
    return class_grid(path, images, n, classes, c, h, w, n < classes ? n : classes,
                      (n + classes - 1) / classes);
}

/* The formats, by the extensions that name them (any case). */
enum { FORMAT_PNG, FORMAT_JPEG, FORMAT_BMP, FORMAT_TGA };
static const struct {
    const char *extension;
    int format;
} extensions[] = {{"png", FORMAT_PNG},
                  {"jpg", FORMAT_JPEG},
                  {"jpeg", FORMAT_JPEG},
                  {"bmp", FORMAT_BMP},
                  {"tga", FORMAT_TGA}};
static const char *format_names[] = {"PNG", "JPEG", "BMP", "TGA"};

/* The format path's extension names, or -1 with vkg_error(). */
static int image_format(const char *path) {
    for (size_t i = 0; i < sizeof extensions / sizeof *extensions; i++)
        if (vkg_path_has_extension(path, extensions[i].extension)) return extensions[i].format;
    return vkg_set_error("%s: not an image extension vkgan writes: name it .png, .jpg (or .jpeg), "
                         ".bmp or .tga (the extension chooses the format)",
                         path);
}

int vkg_image_path_check(const char *path) {
    return image_format(path) < 0 ? -1 : 0;
}

int vkg_write_png(const char *path, const unsigned char *pixels, int w, int h, int c) {
    int format = image_format(path);
    if (format < 0) return -1;
    png_buffer png = {0};
    int ok = format == FORMAT_PNG    ? stbi_write_png_to_func(append, &png, w, h, c, pixels, w * c)
             : format == FORMAT_JPEG ? stbi_write_jpg_to_func(append, &png, w, h, c, pixels, 95)
             : format == FORMAT_BMP  ? stbi_write_bmp_to_func(append, &png, w, h, c, pixels)
                                     : stbi_write_tga_to_func(append, &png, w, h, c, pixels);
    ok = ok && !png.failed;
    int rc = ok ? 0 : vkg_set_error("%s: %s encoding failed", path, format_names[format]);
    if (ok) {
        const void *parts[1] = {png.data};
        rc = vkg_write_file_atomic(path, parts, &png.size, 1);
    }
    free(png.data);
    return rc;
}
