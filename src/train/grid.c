/* Sample grids of generated images, one row per class for conditional models. */
#include <stdlib.h>
#include <string.h>

#include "train/run.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

int run_write_grid(const char *path, const float *images, int n, int classes, int c, int h, int w,
                   int cols) {
    if (classes <= 0) return vkg_write_png_grid(path, images, n, c, h, w, cols);
    int per_class = n / classes < 8 ? n / classes : 8, rows = classes;
    if (per_class < 1) per_class = 1, rows = n; /* fewer examples than classes */
    size_t each = (size_t)c * h * w;
    float *grid = malloc(sizeof(float) * each * (size_t)(rows * per_class));
    if (!grid) return vkg_set_error("out of host memory");
    for (int k = 0; k < rows; k++) /* row k, column j: example j * classes + k, of class k */
        for (int j = 0; j < per_class; j++)
            memcpy(grid + each * (size_t)(k * per_class + j),
                   images + each * (size_t)(j * classes + k), sizeof(float) * each);
    int r = vkg_write_png_grid(path, grid, rows * per_class, c, h, w, per_class);
    free(grid);
    return r;
}
