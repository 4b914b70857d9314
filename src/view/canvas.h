/* The host side of a window frame: the words of the frame description (shaders/view_layout.glsl)
 * and the graph spans, filled here and drawn by the window's shaders. No Vulkan in this file. */
#ifndef VKGAN_VIEW_CANVAS_H
#define VKGAN_VIEW_CANVAS_H

#include <stdint.h>

#include "view_layout.glsl"

#define GLYPH_W 8
#define GLYPH_H 16

typedef struct canvas {
    uint32_t *p;     /* VP_WORDS words */
    uint32_t *spans; /* VP_MAX_PLOTS * VP_MAX_SERIES * VP_MAX_COLUMNS words */
    int width, height;
} canvas;

typedef struct rect {
    int x0, y0, x1, y1;
} rect;

/* Starts a frame of w x h pixels: no boxes, primitives, plots or image. */
void canvas_begin(canvas *c, int w, int h, uint32_t background);
/* Marks which boxes, graphs and the image panel touch each 16x16 tile (before drawing). */
void canvas_finish(canvas *c);
/* A filled box: layer 0 lies under the panels' content, 1 over everything (overlays). */
void canvas_box(canvas *c, rect r, uint32_t color, int layer);
/* A solid rectangle drawn after the content (axes, ticks, legend swatches, sliders). */
void canvas_rect(canvas *c, int x, int y, int w, int h, uint32_t color, int layer);
/* Text at (x, y) (its top-left corner) in the embedded 8x16 font times scale; returns the x
 * after its last character. Characters outside printable ASCII are drawn as '?'. */
int canvas_text(canvas *c, int x, int y, uint32_t color, int scale, int layer, const char *s);
int canvas_textf(canvas *c, int x, int y, uint32_t color, int layer, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
int text_width(const char *s, int scale);

/* The image panel shows `count` images (c x h x w each) in cols x rows cells, nearest-neighbour
 * scaled by the largest integer that fits, centred in r; with classes > 0 row r, column j shows
 * example j * classes + r. */
void canvas_image_grid(canvas *c, rect r, int count, int channels, int h, int w, int cols, int rows,
                       int classes);
/* One packed 0xAARRGGBB image (w x h), scaled like the grid. */
void canvas_image_packed(canvas *c, rect r, int w, int h);
/* A scatter plot of `points` 2D points over circles of `radius` data units around the modes;
 * the panel spans [-extent, extent] in both directions. */
void canvas_scatter(canvas *c, rect r, int points, const float (*modes)[2], int modes_count,
                    float radius, float extent);
/* The square area the image panel's cells take (for hover tests and captions). */
rect canvas_image_area(const canvas *c);

/* Graph k's plot area and colours; its series are then set with canvas_series. */
void canvas_plot(canvas *c, int k, rect area, uint32_t grid_color, uint32_t cursor_color);
void canvas_plot_grid(canvas *c, int k, int vertical, int at);
void canvas_plot_hover(canvas *c, int k, int x);
/* Series s of graph k: per column of the plot area, the rows [lo, hi] to paint (lo > hi: none). */
uint32_t *canvas_series(canvas *c, int k, int s, uint32_t color);

#endif
