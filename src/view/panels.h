/* The window's layout, shared by vkgan train --view and vkgan view: the image panel on the
 * left, the graphs on the right, a status bar, the help overlay. */
#ifndef VKGAN_VIEW_PANELS_H
#define VKGAN_VIEW_PANELS_H

#include <stddef.h>

#include "view/canvas.h"
#include "view/graph.h"

#define COLOR_BACKGROUND 0xff12151cu
#define COLOR_PANEL 0xff1c2029u
#define COLOR_TEXT 0xffd8dce4u
#define COLOR_DIM 0xff8a93a6u

typedef struct layout {
    rect image, graphs[3], status; /* graphs: losses, D outputs, quality (FCD) */
} layout;

layout panels_layout(int w, int h);
/* The panel box and its title; returns the area left for the content. */
rect panels_image_box(canvas *c, rect r, const char *title);
/* The loss graph (loss_d, loss_g) and the D-output graph (D(x), D(G(z))). */
/* The three graphs: losses and D's outputs from h, FCD from q (may be h), health events as
 * marks on each. */
void panels_graphs(canvas *c, const layout *l, const history *h, const history *q,
                   const graph_mark *marks, int mark_count, int log_scale, int mx, int my);
/* The 2D scatter panel: points over the mixture's 3-sigma mode circles, the view reaching 6
 * sigma past the outermost mode. */
void panels_scatter(canvas *c, rect area, int points, const float (*modes)[2], int mode_count,
                    float sigma);
void panels_status(canvas *c, rect r, const char *left, const char *right);
/* A box over everything with one line of text per entry. */
void panels_help(canvas *c, const char *const *lines, int n);
/* The cells of a grid of `count` images: one row per class when classes > 0 (then `cols` per
 * class), else cols x rows; cols is clamped to what the count allows. */
void panels_grid_shape(int count, int classes, int *cols, int *rows);

/* What the keys both windows share do to what they show. */
typedef struct panels_view {
    int cols, log_scale, help; /* grid columns (+ / -), log-scale losses (L), the help (H) */
} panels_view;
/* G's images (NCHW) as the grid v->cols wide (clamped to what the count allows and kept), one
 * row per class when classes > 0. */
struct vkg_tensor;
void panels_image_grid(canvas *c, rect area, const struct vkg_tensor *images, int classes,
                       panels_view *v);
/* Applies a key of the shared set (+, -, L, H) to v: 1 when it was one of them, else 0. */
int panels_key(int key, panels_view *v);

/* RUN_DIR/screenshots/STEM.png, or STEM-2.png, ... when taken (the folder is made). */
void panels_screenshot_path(const char *run_dir, const char *stem, char *path, size_t size);

#endif
