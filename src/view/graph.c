/* Graph panels; see graph.h. */
#include "view/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/error.h"

#define TEXT 0xffd8dce4u
#define DIM 0xff8a93a6u
#define AXIS 0xff5c6577u

int history_add(history *h, unsigned step, const float v[H_VALUES]) {
    if (h->count == h->cap) {
        int cap = h->cap ? 2 * h->cap : 1024;
        unsigned *s = realloc(h->step, sizeof *s * (size_t)cap);
        if (s) h->step = s;
        float(*nv)[H_VALUES] = realloc(h->v, sizeof *nv * (size_t)cap);
        if (nv) h->v = nv;
        if (!s || !nv) return vkg_set_error("out of host memory");
        h->cap = cap;
    }
    h->step[h->count] = step;
    memcpy(h->v[h->count++], v, sizeof h->v[0]);
    return 0;
}

void history_blank(float v[H_VALUES]) {
    for (int i = 0; i < H_VALUES; i++) v[i] = NAN;
}

void history_cut(history *h, unsigned step) {
    while (h->count > 0 && h->step[h->count - 1] > step) h->count--;
}

void history_clear(history *h) {
    h->count = 0;
}

void history_free(history *h) {
    free(h->step);
    free(h->v);
    memset(h, 0, sizeof *h);
}

static int usable(float v, int log_scale) {
    return isfinite(v) && (!log_scale || v > 0);
}

static double yval(float v, int log_scale) {
    return log_scale ? log10(v) : v;
}

/* 1, 2 or 5 times a power of ten, about range / target. */
static double nice_step(double range, int target) {
    double raw = range / target, p = pow(10, floor(log10(raw)));
    return raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
}

typedef struct mapping {
    rect a;
    double x0, x1, y0, y1;
} mapping;

static double col_of(const mapping *m, double x) {
    return m->x1 > m->x0 ? (x - m->x0) / (m->x1 - m->x0) * (m->a.x1 - m->a.x0 - 1) : 0;
}

static double row_of(const mapping *m, double y) {
    return m->a.y1 - 1 - (y - m->y0) / (m->y1 - m->y0) * (m->a.y1 - m->a.y0 - 1);
}

static void span_add(uint32_t *spans, int col, int cols, double ya, double yb, int grow) {
    if (col < 0 || col >= cols) return;
    int lo = (int)floor(fmin(ya, yb)) - grow, hi = (int)ceil(fmax(ya, yb)) + grow;
    int old_lo = (int)(spans[col] & 0xffff), old_hi = (int)(spans[col] >> 16);
    if (old_lo <= old_hi) lo = lo < old_lo ? lo : old_lo, hi = hi > old_hi ? hi : old_hi;
    if (lo < 0) lo = 0;
    if (hi < lo) hi = lo;
    spans[col] = (uint32_t)lo | (uint32_t)hi << 16;
}

/* The polyline through (x[i], y[i]) as per-column row spans, `grow` pixels thicker. */
static void trace(uint32_t *spans, const mapping *m, const double *x, const double *y, int n,
                  int grow) {
    int cols = m->a.x1 - m->a.x0;
    for (int c = 0; c < cols; c++) spans[c] = 0x0000ffffu; /* lo > hi: empty */
    for (int i = 0; i < n; i++) {
        double cx = col_of(m, x[i]), ry = row_of(m, y[i]);
        if (i == 0 || n == 1) {
            for (int g = -grow; g <= grow; g++)
                span_add(spans, (int)lround(cx) + g, cols, ry, ry, grow);
            continue;
        }
        double px = col_of(m, x[i - 1]), py = row_of(m, y[i - 1]);
        for (int c = (int)floor(px); c <= (int)ceil(cx); c++) { /* the segment within column c */
            double a = fmax(px, c - 0.5), b = fmin(cx, c + 0.5);
            if (b < a) a = b = fmin(fmax(c, px), cx);
            double ya = cx > px ? py + (ry - py) * (a - px) / (cx - px) : ry;
            double yb = cx > px ? py + (ry - py) * (b - px) / (cx - px) : ry;
            for (int g = -grow; g <= grow; g++) span_add(spans, c + g, cols, ya, yb, grow);
        }
    }
    for (int c = 0; c < cols; c++) { /* clip to the plot area */
        int lo = (int)(spans[c] & 0xffff), hi = (int)(spans[c] >> 16);
        if (lo > hi) continue;
        lo = lo < m->a.y0 ? m->a.y0 : lo, hi = hi >= m->a.y1 ? m->a.y1 - 1 : hi;
        spans[c] = lo > hi ? 0x0000ffffu : (uint32_t)lo | (uint32_t)hi << 16;
    }
}

static void format_value(char *out, size_t size, double v) {
    if (v != 0 && (fabs(v) >= 1e5 || fabs(v) < 1e-3))
        snprintf(out, size, "%.1e", v);
    else
        snprintf(out, size, "%.4g", v);
}

/* The y range of the usable values (or the fixed one), padded. */
static int y_range(const history *h, const graph_spec *g, double *lo, double *hi) {
    if (g->y_max > g->y_min && !g->log_scale) {
        *lo = g->y_min, *hi = g->y_max;
        return 1;
    }
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < h->count; i++)
        for (int s = 0; s < g->count; s++) {
            float v = h->v[i][g->series[s]];
            if (!usable(v, g->log_scale)) continue;
            *lo = fmin(*lo, yval(v, g->log_scale)), *hi = fmax(*hi, yval(v, g->log_scale));
        }
    if (*lo > *hi) return 0;
    double pad = (*hi - *lo) * 0.05 + (*hi == *lo ? 0.5 : 0);
    *lo -= pad, *hi += pad;
    return 1;
}

static void y_tick(canvas *c, int k, const mapping *m, double y, double label) {
    int row = (int)lround(row_of(m, y));
    char text[32];
    format_value(text, sizeof text, label);
    canvas_rect(c, m->a.x0 - 5, row, 4, 1, AXIS, 0);
    canvas_text(c, m->a.x0 - 7 - text_width(text, 1), row - GLYPH_H / 2, DIM, 1, 0, text);
    canvas_plot_grid(c, k, 0, row);
}

/* Log scale: ticks at 1, 2 and 5 times powers of ten (powers alone when there are many; plain
 * steps of the values when the range is within one of those). */
static void log_ticks(canvas *c, int k, const mapping *m) {
    static const double mult[3] = {1, 2, 5};
    double ticks[64];
    int n = 0, powers = 0;
    for (int e = (int)floor(m->y0) - 1; e <= (int)ceil(m->y1) && n < 60; e++)
        for (int i = 0; i < 3; i++) {
            double y = e + log10(mult[i]);
            if (y >= m->y0 && y <= m->y1) ticks[n++] = y, powers += i == 0;
        }
    if (n > 6) {
        for (int e = (int)ceil(m->y0); e <= (int)floor(m->y1); e++) y_tick(c, k, m, e, pow(10, e));
        return;
    }
    if (n < 2) { /* narrower than 1-2-5: steps of the values themselves */
        double lo = pow(10, m->y0), hi = pow(10, m->y1), d = nice_step(hi - lo, 4);
        for (double v = ceil(lo / d) * d; v <= hi && n < 60; v += d, n++)
            y_tick(c, k, m, log10(v), v);
        return;
    }
    for (int i = 0; i < n; i++) y_tick(c, k, m, ticks[i], pow(10, ticks[i]));
}

static void axes(canvas *c, int k, const mapping *m, int log_scale) {
    rect a = m->a;
    canvas_rect(c, a.x0 - 1, a.y0, 1, a.y1 - a.y0 + 1, AXIS, 0);
    canvas_rect(c, a.x0 - 1, a.y1, a.x1 - a.x0 + 1, 1, AXIS, 0);
    if (log_scale) {
        log_ticks(c, k, m);
    } else {
        double dy = nice_step(m->y1 - m->y0, 4);
        for (double y = ceil(m->y0 / dy) * dy; y <= m->y1 + 1e-9; y += dy)
            y_tick(c, k, m, y, fabs(y) < dy * 1e-6 ? 0 : y);
    }
    if (m->x1 <= m->x0) return;
    double dx = nice_step(m->x1 - m->x0, 5);
    if (dx < 1) dx = 1;
    for (double x = ceil(m->x0 / dx) * dx; x <= m->x1 + 1e-9; x += dx) {
        int col = a.x0 + (int)lround(col_of(m, x));
        char label[32];
        snprintf(label, sizeof label, "%.0f", x);
        canvas_rect(c, col, a.y1 + 1, 1, 4, AXIS, 0);
        canvas_text(c, col - text_width(label, 1) / 2, a.y1 + 6, DIM, 1, 0, label);
        canvas_plot_grid(c, k, 1, col);
    }
}

/* An exponential moving average whose span grows with the number of points. */
static void smooth(const double *y, int n, double *out) {
    double alpha = 2.0 / (fmax(1, n / 40.0) + 1), avg = 0, weight = 0;
    for (int i = 0; i < n; i++) { /* bias-corrected like Adam's moments */
        avg = (1 - alpha) * avg + alpha * y[i];
        weight = (1 - alpha) * weight + alpha;
        out[i] = avg / weight;
    }
}

/* The values at the step nearest the mouse, in a box beside it; returns that step's column. */
static int tooltip(canvas *c, const mapping *m, const history *h, const graph_spec *g, int mx) {
    double want = m->x0 + (double)(mx - m->a.x0) / (m->a.x1 - m->a.x0 - 1) * (m->x1 - m->x0);
    int best = -1; /* the nearest row with a value of this graph (rows may hold others only) */
    for (int i = 0; i < h->count; i++) {
        int any = 0;
        for (int s = 0; s < g->count; s++) any |= isfinite(h->v[i][g->series[s]]);
        if (any && (best < 0 || fabs(h->step[i] - want) < fabs(h->step[best] - want))) best = i;
    }
    if (best < 0) return -1;
    int col = m->a.x0 + (int)lround(col_of(m, h->step[best]));
    char lines[5][64];
    snprintf(lines[0], sizeof lines[0], "step %u", h->step[best]);
    int w = text_width(lines[0], 1);
    for (int s = 0; s < g->count; s++) {
        char v[32];
        format_value(v, sizeof v, h->v[best][g->series[s]]);
        snprintf(lines[s + 1], sizeof lines[s + 1], "%s %s", g->names[s], v);
        int lw = text_width(lines[s + 1], 1) + 14;
        w = lw > w ? lw : w;
    }
    int bw = w + 12, bh = (g->count + 1) * GLYPH_H + 10;
    int x = col + 12 + bw < c->width ? col + 12 : col - 12 - bw, y = m->a.y0 + 4;
    canvas_box(c, (rect){x, y, x + bw, y + bh}, 0xf0262b36u, 1);
    canvas_text(c, x + 6, y + 5, TEXT, 1, 1, lines[0]);
    for (int s = 0; s < g->count; s++) {
        int ly = y + 5 + (s + 1) * GLYPH_H;
        canvas_rect(c, x + 6, ly + 6, 8, 4, g->colors[s], 1);
        canvas_text(c, x + 20, ly, TEXT, 1, 1, lines[s + 1]);
    }
    return col;
}

void graph_draw(canvas *c, int k, rect r, const history *h, const graph_spec *g, int mx, int my) {
    canvas_box(c, r, 0xff1c2029u, 0);
    int tx = canvas_text(c, r.x0 + 10, r.y0 + 6, TEXT, 1, 0, g->title);
    if (g->log_scale) tx = canvas_text(c, tx + 8, r.y0 + 6, DIM, 1, 0, "(log)");
    for (int s = 0; s < g->count; s++) { /* legend */
        canvas_rect(c, tx + 16, r.y0 + 12, 14, 4, g->colors[s], 0);
        tx = canvas_text(c, tx + 34, r.y0 + 6, TEXT, 1, 0, g->names[s]);
    }
    mapping m = {.a = {r.x0 + 70, r.y0 + 30, r.x1 - 14, r.y1 - 26}};
    if (m.a.x1 - m.a.x0 < 8 || m.a.y1 - m.a.y0 < 8) return;
    canvas_plot(c, k, m.a, 0x30ffffffu, 0x90ffffffu);
    m.a.x1 = (int)c->p[VP_PLOT + k * VP_PLOT_SIZE + VL_X1];
    if (h->count == 0 || !y_range(h, g, &m.y0, &m.y1)) {
        canvas_text(c, m.a.x0 + 8, m.a.y0 + 8, DIM, 1, 0, "no values yet");
        return;
    }
    m.x0 = h->step[0] < 1 ? 0 : h->step[0] - 1;
    m.x1 = h->step[h->count - 1];
    axes(c, k, &m, g->log_scale);
    for (int i = 0; i < g->mark_count; i++) { /* events: a red line and the event's name */
        double at = g->marks[i].step;
        if (at < m.x0 || at > m.x1) continue;
        int col = m.a.x0 + (int)lround(col_of(&m, at));
        canvas_rect(c, col, m.a.y0, 1, m.a.y1 - m.a.y0, 0xffe04848u, 0);
        canvas_text(c, col + 3, m.a.y0 + 2 + (i % 3) * GLYPH_H, 0xffe06868u, 1, 0,
                    g->marks[i].name);
    }
    double *x = malloc(sizeof(double) * (size_t)h->count * 3);
    if (!x) return;
    double *y = x + h->count, *ys = y + h->count;
    for (int s = 0; s < g->count; s++) {
        int n = 0;
        for (int i = 0; i < h->count; i++) {
            float v = h->v[i][g->series[s]];
            if (usable(v, g->log_scale)) x[n] = h->step[i], y[n++] = yval(v, g->log_scale);
        }
        smooth(y, n, ys);
        trace(canvas_series(c, k, s, (g->colors[s] & 0xffffff) | 0x60000000u), &m, x, y, n, 0);
        trace(canvas_series(c, k, g->count + s, g->colors[s]), &m, x, ys, n, 1);
    }
    free(x);
    if (mx >= m.a.x0 && mx < m.a.x1 && my >= m.a.y0 && my < m.a.y1) {
        int col = tooltip(c, &m, h, g, mx);
        if (col >= 0) canvas_plot_hover(c, k, col);
    }
}
