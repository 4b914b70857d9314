/* Graphs of training scalars over steps: the history they are drawn from, and the drawing of one
 * graph panel (axes, ticks, legend, raw values faint and a smoothed line bold, log scale, the
 * values under the mouse) into a canvas. */
#ifndef VKGAN_VIEW_GRAPH_H
#define VKGAN_VIEW_GRAPH_H

#include "view/canvas.h"

enum { H_LOSS_D, H_LOSS_G, H_DX, H_DGZ, H_FCD, H_ENTROPY, H_VALUES };

/* Values by step (NAN where one is missing). */
typedef struct history {
    int count, cap;
    unsigned *step;
    float (*v)[H_VALUES];
} history;

int history_add(history *h, unsigned step, const float v[H_VALUES]);
/* A row of NaNs to fill in. */
void history_blank(float v[H_VALUES]);
/* Drops the rows after `step` (a rollback). */
void history_cut(history *h, unsigned step);

/* A training-health event, drawn as a labelled vertical line on every graph. */
typedef struct graph_mark {
    unsigned step;
    char name[24];
} graph_mark;
void history_clear(history *h);
void history_free(history *h);

typedef struct graph_spec {
    const char *title;
    int series[4]; /* indices into the history's values */
    const char *names[4];
    uint32_t colors[4];
    int count;
    int log_scale;      /* log10 y axis (values <= 0 are left out) */
    float y_min, y_max; /* a fixed range when y_max > y_min */
    const graph_mark *marks;
    int mark_count;
} graph_spec;

/* Draws graph k in panel r; (mx, my) is the mouse (hover tooltip when over the plot). */
void graph_draw(canvas *c, int k, rect r, const history *h, const graph_spec *g, int mx, int my);

#endif
