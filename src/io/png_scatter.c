/* Scatter plots of 2D samples over the modes of the mixture they should match, as an image. */
#include <math.h>
#include <stdlib.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

#define SIZE 320

/* Sets pixel (x, y) of a planar RGB image in [-1, 1]. */
static void put(float *img, int x, int y, const float rgb[3]) {
    if (x < 0 || y < 0 || x >= SIZE || y >= SIZE) return;
    for (int c = 0; c < 3; c++) img[((size_t)c * SIZE + y) * SIZE + x] = rgb[c];
}

int vkg_write_png_scatter(const char *path, const float *points, int n, const float (*modes)[2],
                          int mode_count, float sigma) {
    float extent = 1; /* half the side of the square shown: the modes plus a margin */
    for (int m = 0; m < mode_count; m++)
        extent = fmaxf(extent, fmaxf(fabsf(modes[m][0]), fabsf(modes[m][1])) * 1.3f);
    float *img = malloc(sizeof(float) * 3 * SIZE * SIZE);
    if (!img) return vkg_set_error("%s: out of host memory", path);
    for (size_t i = 0; i < 3 * (size_t)SIZE * SIZE; i++) img[i] = 1; /* white */
    float scale = SIZE / (2 * extent);
    const float ring[3] = {0.3f, 0.55f, 0.3f}, dot[3] = {-0.8f, -0.8f, 0.1f};
    for (int m = 0; m < mode_count; m++) { /* a 3-sigma circle around each mode */
        float r = fmaxf(3 * sigma * scale, 3);
        for (int a = 0; a < 360; a++) {
            float t = (float)a * 3.14159265f / 180;
            put(img, (int)lrintf((modes[m][0] + extent) * scale + r * cosf(t)),
                (int)lrintf((extent - modes[m][1]) * scale + r * sinf(t)), ring);
        }
    }
    for (int i = 0; i < n; i++) { /* each sample a 2x2 dot; y grows upwards */
        int x = (int)lrintf((points[2 * i] + extent) * scale);
        int y = (int)lrintf((extent - points[2 * i + 1]) * scale);
        for (int k = 0; k < 4; k++) put(img, x + k % 2, y + k / 2, dot);
    }
    int r = vkg_write_png_grid(path, img, 1, 3, SIZE, SIZE, 1);
    free(img);
    return r;
}
