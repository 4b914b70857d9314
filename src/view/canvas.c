/* Filling the frame description; see canvas.h. */
#include "view/canvas.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void canvas_begin(canvas *c, int w, int h, uint32_t background) {
    memset(c->p, 0, sizeof(uint32_t) * VP_PRIM);
    c->width = w, c->height = h;
    c->p[VP_WIDTH] = (uint32_t)w, c->p[VP_HEIGHT] = (uint32_t)h;
    c->p[VP_BACKGROUND] = background;
    c->p[VP_SPAN_STRIDE] = VP_MAX_COLUMNS;
    for (int k = 0; k < VP_MAX_PLOTS; k++) c->p[VP_PLOT + k * VP_PLOT_SIZE + VL_HOVER] = UINT32_MAX;
}

void canvas_box(canvas *c, rect r, uint32_t color, int layer) {
    uint32_t n = c->p[VP_BOXES];
    if (n >= VP_MAX_BOXES) return;
    uint32_t *b = c->p + VP_BOX + n * VP_BOX_SIZE;
    b[0] = (uint32_t)r.x0, b[1] = (uint32_t)r.y0, b[2] = (uint32_t)r.x1, b[3] = (uint32_t)r.y1;
    b[4] = color, b[5] = (uint32_t)layer;
    c->p[VP_BOXES] = n + 1;
}

static void prim(canvas *c, int x, int y, int w, int h, uint32_t color, uint32_t info) {
    uint32_t n = c->p[VP_PRIMS];
    if (n >= VP_MAX_PRIMS || w <= 0 || h <= 0) return;
    uint32_t *q = c->p + VP_PRIM + n * VP_PRIM_SIZE;
    q[0] = (uint32_t)x, q[1] = (uint32_t)y, q[2] = (uint32_t)w, q[3] = (uint32_t)h;
    q[4] = color, q[5] = info;
    c->p[VP_PRIMS] = n + 1;
}

void canvas_rect(canvas *c, int x, int y, int w, int h, uint32_t color, int layer) {
    prim(c, x, y, w, h, color, (uint32_t)layer << 16);
}

int canvas_text(canvas *c, int x, int y, uint32_t color, int scale, int layer, const char *s) {
    for (; *s; s++, x += GLYPH_W * scale) {
        unsigned ch = (unsigned char)*s;
        if (ch == ' ') continue;
        if (ch < 32 || ch > 126) ch = '?';
        prim(c, x, y, GLYPH_W * scale, GLYPH_H * scale, color,
             (ch - 31) | (uint32_t)scale << 8 | (uint32_t)layer << 16);
    }
    return x;
}

int canvas_textf(canvas *c, int x, int y, uint32_t color, int layer, const char *fmt, ...) {
    char s[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    return canvas_text(c, x, y, color, 1, layer, s);
}

int text_width(const char *s, int scale) {
    return (int)strlen(s) * GLYPH_W * scale;
}

/* The largest integer scale at which cols x rows cells of w x h (with gaps) fit in r. */
static int fit_scale(rect r, int cols, int rows, int w, int h, int gap) {
    int sx = (r.x1 - r.x0 - gap * (cols - 1)) / (cols * w);
    int sy = (r.y1 - r.y0 - gap * (rows - 1)) / (rows * h);
    int s = sx < sy ? sx : sy;
    return s < 1 ? 1 : s;
}

static void place(canvas *c, rect r, int cols, int rows, int w, int h, int gap) {
    uint32_t *I = c->p + VP_IMG;
    int s = fit_scale(r, cols, rows, w, h, gap);
    int gw = cols * (w * s + gap) - gap, gh = rows * (h * s + gap) - gap;
    I[VI_X0] = (uint32_t)r.x0, I[VI_Y0] = (uint32_t)r.y0;
    I[VI_X1] = (uint32_t)r.x1, I[VI_Y1] = (uint32_t)r.y1;
    I[VI_COLS] = (uint32_t)cols, I[VI_ROWS] = (uint32_t)rows;
    I[VI_SCALE] = (uint32_t)s, I[VI_GAP] = (uint32_t)gap;
    I[VI_IW] = (uint32_t)w, I[VI_IH] = (uint32_t)h;
    I[VI_OX] = (uint32_t)(r.x0 + (r.x1 - r.x0 - gw) / 2);
    I[VI_OY] = (uint32_t)(r.y0 + (r.y1 - r.y0 - gh) / 2);
}

void canvas_image_grid(canvas *c, rect r, int count, int channels, int h, int w, int cols, int rows,
                       int classes) {
    uint32_t *I = c->p + VP_IMG;
    I[VI_MODE] = VP_IMG_TENSOR;
    place(c, r, cols, rows, w, h, 2);
    I[VI_CHANNELS] = (uint32_t)channels, I[VI_COUNT] = (uint32_t)count;
    I[VI_CLASSES] = (uint32_t)classes;
}

void canvas_image_packed(canvas *c, rect r, int w, int h) {
    c->p[VP_IMG + VI_MODE] = VP_IMG_PACKED;
    place(c, r, 1, 1, w, h, 0);
}

void canvas_scatter(canvas *c, rect r, int points, const float (*modes)[2], int modes_count,
                    float radius, float extent) {
    uint32_t *I = c->p + VP_IMG;
    int side = r.x1 - r.x0 < r.y1 - r.y0 ? r.x1 - r.x0 : r.y1 - r.y0;
    r = (rect){(r.x0 + r.x1 - side) / 2, (r.y0 + r.y1 - side) / 2, 0, 0};
    r.x1 = r.x0 + side, r.y1 = r.y0 + side;
    I[VI_MODE] = VP_IMG_SCATTER;
    I[VI_X0] = (uint32_t)r.x0, I[VI_Y0] = (uint32_t)r.y0;
    I[VI_X1] = (uint32_t)r.x1, I[VI_Y1] = (uint32_t)r.y1;
    I[VI_OX] = (uint32_t)r.x0, I[VI_OY] = (uint32_t)r.y0, I[VI_SCALE] = 1;
    I[VI_COLS] = I[VI_ROWS] = 1, I[VI_IW] = I[VI_IH] = (uint32_t)side;
    memcpy(&I[VI_EXTENT], &extent, sizeof extent);
    float px = side / (2 * extent);
    int n = modes_count < VP_MAX_MODES ? modes_count : VP_MAX_MODES;
    for (int i = 0; i < n; i++) {
        c->p[VP_MODES + 2 * i] = (uint32_t)(int)((float)(r.x0 + r.x1) / 2 + modes[i][0] * px);
        c->p[VP_MODES + 2 * i + 1] = (uint32_t)(int)((float)(r.y0 + r.y1) / 2 - modes[i][1] * px);
    }
    I[VI_MODES] = (uint32_t)n, I[VI_RADIUS] = (uint32_t)(radius * px + 0.5f);
    I[VI_POINT_COLOR] = 0xffe8a33d, I[VI_RING_COLOR] = 0xff5b8fd9;
    c->p[VP_POINTS] = (uint32_t)points;
}

rect canvas_image_area(const canvas *c) {
    const uint32_t *I = c->p + VP_IMG;
    int s = (int)I[VI_SCALE], gap = (int)I[VI_GAP];
    int cols = (int)I[VI_COLS], rows = (int)I[VI_ROWS];
    rect r = {(int)I[VI_OX], (int)I[VI_OY], 0, 0};
    r.x1 = r.x0 + cols * ((int)I[VI_IW] * s + gap) - gap;
    r.y1 = r.y0 + rows * ((int)I[VI_IH] * s + gap) - gap;
    return r;
}

void canvas_plot(canvas *c, int k, rect area, uint32_t grid_color, uint32_t cursor_color) {
    uint32_t *L = c->p + VP_PLOT + k * VP_PLOT_SIZE;
    if (area.x1 - area.x0 > VP_MAX_COLUMNS) area.x1 = area.x0 + VP_MAX_COLUMNS;
    L[VL_X0] = (uint32_t)area.x0, L[VL_Y0] = (uint32_t)area.y0;
    L[VL_X1] = (uint32_t)area.x1, L[VL_Y1] = (uint32_t)area.y1;
    L[VL_GRID_COLOR] = grid_color, L[VL_CURSOR_COLOR] = cursor_color;
}

void canvas_plot_grid(canvas *c, int k, int vertical, int at) {
    uint32_t *L = c->p + VP_PLOT + k * VP_PLOT_SIZE;
    uint32_t *n = &L[vertical ? VL_GRID_X : VL_GRID_Y];
    if (*n < VP_MAX_GRID) L[(vertical ? VL_GX : VL_GY) + (*n)++] = (uint32_t)at;
}

void canvas_plot_hover(canvas *c, int k, int x) {
    c->p[VP_PLOT + k * VP_PLOT_SIZE + VL_HOVER] = (uint32_t)x;
}

uint32_t *canvas_series(canvas *c, int k, int s, uint32_t color) {
    uint32_t *L = c->p + VP_PLOT + k * VP_PLOT_SIZE;
    if (s >= VP_MAX_SERIES) return NULL;
    if (L[VL_SERIES] < (uint32_t)s + 1) L[VL_SERIES] = (uint32_t)s + 1;
    L[VL_COLORS + s] = color;
    return c->spans + ((size_t)k * VP_MAX_SERIES + s) * VP_MAX_COLUMNS;
}

static uint32_t touching(const canvas *c, rect t) {
    uint32_t mask = 0;
    for (uint32_t i = 0; i < c->p[VP_BOXES]; i++) {
        const uint32_t *b = c->p + VP_BOX + i * VP_BOX_SIZE;
        if ((int)b[0] < t.x1 && t.x0 < (int)b[2] && (int)b[1] < t.y1 && t.y0 < (int)b[3])
            mask |= 1u << i;
    }
    for (int k = 0; k < VP_MAX_PLOTS; k++) {
        const uint32_t *L = c->p + VP_PLOT + k * VP_PLOT_SIZE;
        if ((int)L[VL_X0] < t.x1 && t.x0 < (int)L[VL_X1] && (int)L[VL_Y0] < t.y1 &&
            t.y0 < (int)L[VL_Y1])
            mask |= 1u << (VT_PLOT + k);
    }
    const uint32_t *I = c->p + VP_IMG;
    if (I[VI_MODE] != VP_IMG_NONE && (int)I[VI_X0] < t.x1 && t.x0 < (int)I[VI_X1] &&
        (int)I[VI_Y0] < t.y1 && t.y0 < (int)I[VI_Y1])
        mask |= 1u << VT_IMAGE;
    return mask;
}

void canvas_finish(canvas *c) {
    int cols = (c->width + VP_TILE - 1) / VP_TILE, rows = (c->height + VP_TILE - 1) / VP_TILE;
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++) {
            rect t = {x * VP_TILE, y * VP_TILE, (x + 1) * VP_TILE, (y + 1) * VP_TILE};
            c->p[VP_TILES + y * cols + x] = touching(c, t);
        }
}
