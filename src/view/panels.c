/* The window's layout; see panels.h. */
#include "view/panels.h"

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vkgan/gpu.h"

layout panels_layout(int w, int h) {
    layout l;
    int status_h = 24, m = 8;
    l.status = (rect){0, h - status_h, w, h};
    int avail = h - status_h - 2 * m, side = w * 45 / 100 < avail ? w * 45 / 100 : avail;
    if (side < 64) side = 64;
    l.image = (rect){m, m, m + side, m + side};
    int gx0 = l.image.x1 + m, gh = (h - status_h - 4 * m) / 3;
    for (int i = 0; i < 3; i++)
        l.graphs[i] = (rect){gx0, m + i * (m + gh), w - m, (i + 1) * (m + gh)};
    return l;
}

rect panels_image_box(canvas *c, rect r, const char *title) {
    canvas_box(c, r, COLOR_PANEL, 0);
    canvas_text(c, r.x0 + 10, r.y0 + 6, COLOR_TEXT, 1, 0, title);
    return (rect){r.x0 + 8, r.y0 + 28, r.x1 - 8, r.y1 - 8};
}

void panels_graphs(canvas *c, const layout *l, const history *h, const history *q,
                   const graph_mark *marks, int mark_count, int log_scale, int mx, int my) {
    graph_spec losses = {.title = "losses",
                         .series = {H_LOSS_D, H_LOSS_G},
                         .names = {"loss_d", "loss_g"},
                         .colors = {0xffef8a3cu, 0xff4aa3f0u},
                         .count = 2,
                         .log_scale = log_scale,
                         .marks = marks,
                         .mark_count = mark_count};
    graph_spec outputs = {.title = "D outputs",
                          .series = {H_DX, H_DGZ},
                          .names = {"D(x)", "D(G(z))"},
                          .colors = {0xff5fd068u, 0xffe4575fu},
                          .count = 2,
                          .y_min = 0,
                          .y_max = 1,
                          .marks = marks,
                          .mark_count = mark_count};
    char title[96] = "quality"; /* the latest class entropy beside the FCD curve */
    float entropy = q->count ? q->v[q->count - 1][H_ENTROPY] : NAN;
    if (isfinite(entropy))
        snprintf(title, sizeof title, "quality  (class entropy %.2f nats)", entropy);
    graph_spec quality = {.title = title,
                          .series = {H_FCD},
                          .names = {"FCD (lower is better)"},
                          .colors = {0xffc58af0u},
                          .count = 1,
                          .log_scale = log_scale,
                          .marks = marks,
                          .mark_count = mark_count};
    graph_draw(c, 0, l->graphs[0], h, &losses, mx, my);
    graph_draw(c, 1, l->graphs[1], h, &outputs, mx, my);
    graph_draw(c, 2, l->graphs[2], q, &quality, mx, my);
}

void panels_scatter(canvas *c, rect area, int points, const float (*modes)[2], int mode_count,
                    float sigma) {
    float extent = 0;
    for (int i = 0; i < mode_count; i++)
        extent = fmaxf(extent, fmaxf(fabsf(modes[i][0]), fabsf(modes[i][1])));
    canvas_scatter(c, area, points, modes, mode_count, 3 * sigma, extent + 6 * sigma);
}

void panels_status(canvas *c, rect r, const char *left, const char *right) {
    canvas_box(c, r, 0xff232836u, 0);
    canvas_text(c, r.x0 + 8, r.y0 + 4, COLOR_TEXT, 1, 0, left);
    canvas_text(c, r.x1 - 8 - text_width(right, 1), r.y0 + 4, COLOR_DIM, 1, 0, right);
}

void panels_help(canvas *c, const char *const *lines, int n) {
    int w = 0;
    for (int i = 0; i < n; i++) w = text_width(lines[i], 1) > w ? text_width(lines[i], 1) : w;
    int bw = w + 40, bh = n * (GLYPH_H + 4) + 32;
    int x = (c->width - bw) / 2, y = (c->height - bh) / 2;
    canvas_box(c, (rect){x, y, x + bw, y + bh}, 0xf00d1017u, 1);
    for (int i = 0; i < n; i++)
        canvas_text(c, x + 20, y + 16 + i * (GLYPH_H + 4), i == 0 ? COLOR_TEXT : COLOR_DIM, 1, 1,
                    lines[i]);
}

void panels_grid_shape(int count, int classes, int *cols, int *rows) {
    int most = classes > 0 ? count / classes : 1;
    if (classes <= 0)
        while ((most + 1) * (most + 1) <= count) most++;
    if (most < 1) most = 1;
    *cols = *cols < 1 ? 1 : *cols > most ? most : *cols;
    *rows = classes > 0 ? classes : (count / *cols < *cols ? count / *cols : *cols);
    if (*rows < 1) *rows = 1;
}

void panels_image_grid(canvas *c, rect area, const vkg_tensor *t, int classes, panels_view *v) {
    int rows;
    panels_grid_shape(t->n, classes, &v->cols, &rows);
    canvas_image_grid(c, area, t->n, t->c, t->h, t->w, v->cols, rows, classes);
}

int panels_key(int key, panels_view *v) {
    switch (key) {
    case '+':
        v->cols++;
        return 1;
    case '-':
        v->cols--;
        return 1;
    case 'l':
        v->log_scale = !v->log_scale;
        return 1;
    case 'h':
        v->help = !v->help;
        return 1;
    default:
        return 0;
    }
}

void panels_screenshot_path(const char *run_dir, const char *stem, char *path, size_t size) {
    snprintf(path, size, "%s/screenshots", run_dir);
    mkdir(path, 0777);
    snprintf(path, size, "%s/screenshots/%s.png", run_dir, stem);
    struct stat st;
    for (int i = 2; i < 1000 && stat(path, &st) == 0; i++)
        snprintf(path, size, "%s/screenshots/%s-%d.png", run_dir, stem, i);
}
