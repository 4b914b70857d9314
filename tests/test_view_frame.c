/* The window's frame shaders (view_compose, view_points, view_prims) against a plain-C rendering
 * of the same frame description: boxes in both layers, the image panel in each mode, a graph
 * with grid lines, hover cursor and series, text and rectangles under and over the overlay. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "view/canvas.h"
#include "view/frame.h"

/* ---- the reference ---- */

typedef struct rgb {
    float r, g, b;
} rgb;

static rgb color_of(uint32_t c) {
    return (rgb){(c >> 16 & 255) / 255.0f, (c >> 8 & 255) / 255.0f, (c & 255) / 255.0f};
}

static rgb over(rgb under, uint32_t c) {
    float a = (c >> 24) / 255.0f;
    rgb top = color_of(c);
    return (rgb){under.r + (top.r - under.r) * a, under.g + (top.g - under.g) * a,
                 under.b + (top.b - under.b) * a};
}

static int in_rect(const uint32_t *r, int x, int y) {
    return x >= (int)r[0] && y >= (int)r[1] && x < (int)r[2] && y < (int)r[3];
}

static int in_overlay(const uint32_t *P, int x, int y) {
    for (uint32_t i = 0; i < P[VP_BOXES]; i++) {
        const uint32_t *b = P + VP_BOX + i * VP_BOX_SIZE;
        if (b[5] == 1 && in_rect(b, x, y)) return 1;
    }
    return 0;
}

static rgb image_pixel(const uint32_t *P, const float *images, const uint32_t *packed, int x, int y,
                       rgb c) {
    const uint32_t *I = P + VP_IMG;
    if (I[VI_MODE] == VP_IMG_NONE || !in_rect(I + VI_X0, x, y)) return c;
    if (I[VI_MODE] == VP_IMG_SCATTER) {
        for (uint32_t i = 0; i < I[VI_MODES]; i++) {
            double dx = x + 0.5 - (int)P[VP_MODES + 2 * i],
                   dy = y + 0.5 - (int)P[VP_MODES + 2 * i + 1];
            if (fabs(sqrt(dx * dx + dy * dy) - I[VI_RADIUS]) < 0.75) c = over(c, I[VI_RING_COLOR]);
        }
        return c;
    }
    int s = (int)I[VI_SCALE], iw = (int)I[VI_IW], ih = (int)I[VI_IH];
    int lx = x - (int)I[VI_OX], ly = y - (int)I[VI_OY];
    int cw = iw * s + (int)I[VI_GAP], chh = ih * s + (int)I[VI_GAP];
    if (lx < 0 || ly < 0) return c;
    int col = lx / cw, row = ly / chh, wx = lx % cw, wy = ly % chh;
    if (col >= (int)I[VI_COLS] || row >= (int)I[VI_ROWS] || wx >= iw * s || wy >= ih * s) return c;
    int sx = wx / s, sy = wy / s;
    if (I[VI_MODE] == VP_IMG_PACKED) return over(c, packed[sy * iw + sx]);
    int k = (int)I[VI_CLASSES], index = k ? col * k + row : row * (int)I[VI_COLS] + col;
    if (index >= (int)I[VI_COUNT]) return c;
    int ch = (int)I[VI_CHANNELS], plane = iw * ih;
    const float *v = images + (size_t)index * ch * plane + sy * iw + sx;
    float g[3] = {v[0], ch == 3 ? v[plane] : v[0], ch == 3 ? v[2 * plane] : v[0]};
    for (int i = 0; i < 3; i++) g[i] = fminf(fmaxf(g[i] * 0.5f + 0.5f, 0), 1);
    return (rgb){g[0], g[1], g[2]};
}

static rgb plot_pixel(const uint32_t *P, const uint32_t *spans, int k, int x, int y, rgb c) {
    const uint32_t *L = P + VP_PLOT + k * VP_PLOT_SIZE;
    if (!in_rect(L + VL_X0, x, y)) return c;
    for (uint32_t i = 0; i < L[VL_GRID_X]; i++)
        if (x == (int)L[VL_GX + i]) c = over(c, L[VL_GRID_COLOR]);
    for (uint32_t i = 0; i < L[VL_GRID_Y]; i++)
        if (y == (int)L[VL_GY + i]) c = over(c, L[VL_GRID_COLOR]);
    if (x == (int)L[VL_HOVER]) c = over(c, L[VL_CURSOR_COLOR]);
    for (uint32_t s = 0; s < L[VL_SERIES]; s++) {
        uint32_t span = spans[(k * VP_MAX_SERIES + s) * P[VP_SPAN_STRIDE] + x - (int)L[VL_X0]];
        if (y >= (int)(span & 0xffff) && y <= (int)(span >> 16)) c = over(c, L[VL_COLORS + s]);
    }
    return c;
}

static uint32_t pack(const uint32_t *P, rgb c) {
    uint32_t r = (uint32_t)(fminf(fmaxf(c.r, 0), 1) * 255 + 0.5f);
    uint32_t g = (uint32_t)(fminf(fmaxf(c.g, 0), 1) * 255 + 0.5f);
    uint32_t b = (uint32_t)(fminf(fmaxf(c.b, 0), 1) * 255 + 0.5f);
    return P[VP_RED_FIRST] ? (r | g << 8 | b << 16 | 0xff000000u)
                           : (b | g << 8 | r << 16 | 0xff000000u);
}

static void reference_frame(const uint32_t *P, const uint32_t *spans, const unsigned char *font,
                            const float *images, const uint32_t *packed, const float *points,
                            uint32_t *out) {
    int w = (int)P[VP_WIDTH], h = (int)P[VP_HEIGHT];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            rgb c = color_of(P[VP_BACKGROUND]);
            for (int layer = 0; layer < 2; layer++) {
                for (uint32_t i = 0; i < P[VP_BOXES]; i++) {
                    const uint32_t *b = P + VP_BOX + i * VP_BOX_SIZE;
                    if ((int)b[5] == layer && in_rect(b, x, y)) c = over(c, b[4]);
                }
                if (layer == 1) break;
                c = image_pixel(P, images, packed, x, y, c);
                for (int k = 0; k < VP_MAX_PLOTS; k++) c = plot_pixel(P, spans, k, x, y, c);
            }
            out[y * w + x] = pack(P, c);
        }
    const uint32_t *I = P + VP_IMG;
    for (uint32_t i = 0; points && i < P[VP_POINTS]; i++) { /* 3x3 dots */
        float half = fminf((int)I[VI_X1] - (int)I[VI_X0], (int)I[VI_Y1] - (int)I[VI_Y0]) * 0.5f;
        float extent;
        memcpy(&extent, &I[VI_EXTENT], 4);
        float vx = points[2 * i] / extent, vy = -points[2 * i + 1] / extent;
        if (fabsf(vx) > 1 || fabsf(vy) > 1) continue;
        int cx = (int)(((int)I[VI_X0] + (int)I[VI_X1]) * 0.5f + vx * half);
        int cy = (int)(((int)I[VI_Y0] + (int)I[VI_Y1]) * 0.5f + vy * half);
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int px = cx + dx, py = cy + dy;
                if (px >= (int)I[VI_X0] && py >= (int)I[VI_Y0] && px < (int)I[VI_X1] &&
                    py < (int)I[VI_Y1])
                    out[py * w + px] = pack(P, color_of(I[VI_POINT_COLOR]));
            }
    }
    for (uint32_t i = 0; i < P[VP_PRIMS]; i++) { /* rectangles and glyphs, in order */
        const uint32_t *q = P + VP_PRIM + i * VP_PRIM_SIZE;
        uint32_t glyph = q[5] & 255, scale = q[5] >> 8 & 255, layer = q[5] >> 16;
        scale = scale ? scale : 1;
        for (int py = 0; py < (int)q[3]; py++)
            for (int px = 0; px < (int)q[2]; px++) {
                int x = (int)q[0] + px, y = (int)q[1] + py;
                if (x < 0 || y < 0 || x >= w || y >= h) continue;
                if (glyph) {
                    int gx = px / (int)scale, gy = py / (int)scale;
                    if (gx > 7 || gy > 15 || !(font[(glyph - 1) * 16 + gy] >> (7 - gx) & 1))
                        continue;
                }
                if (layer == 0 && in_overlay(P, x, y)) continue;
                out[y * w + x] = pack(P, color_of(q[4]));
            }
    }
}

/* ---- the test ---- */

enum { W = 200, H = 120 };

static void scene(canvas *c, int mode, const float (*modes)[2]) {
    canvas_begin(c, W, H, 0xff102030u);
    c->p[VP_RED_FIRST] = (uint32_t)(mode & 1);
    canvas_box(c, (rect){4, 4, 124, 104}, 0xff405060u, 0);
    canvas_box(c, (rect){60, 40, 170, 80}, 0x80ff2010u, 1); /* an overlay, half transparent */
    rect r = {8, 8, 120, 100};
    if (mode == 0) canvas_image_grid(c, r, 6, 3, 5, 4, 3, 2, 0);
    if (mode == 1) canvas_image_grid(c, r, 6, 1, 10, 6, 3, 3, 2); /* 3 per class, 2 classes */
    if (mode == 2) canvas_image_packed(c, r, 7, 5);
    if (mode == 3) canvas_scatter(c, r, 50, modes, 3, 0.6f, 4);
    canvas_plot(c, 0, (rect){130, 10, 196, 100}, 0x40ffffffu, 0x90ffffffu);
    canvas_plot_grid(c, 0, 1, 140);
    canvas_plot_grid(c, 0, 0, 50);
    canvas_plot_hover(c, 0, 150);
    for (int s = 0; s < 2; s++) {
        uint32_t *span = canvas_series(c, 0, s, s ? 0xffef8a3cu : 0x604aa3f0u);
        for (int x = 0; x < 66; x++) {
            int lo = 10 + (x * 7 + s * 13) % 80, hi = lo + x % 4;
            span[x] = x % 9 == 0 ? 0x0000ffffu : (uint32_t)lo | (uint32_t)hi << 16;
        }
    }
    canvas_text(c, 10, 100, 0xffffffffu, 1, 0, "Hi 5! {~}");
    canvas_text(c, 70, 44, 0xff00ff00u, 2, 1, "Ab");
    canvas_text(c, 150, 60, 0xffffff00u, 1, 0, "under");
    canvas_rect(c, 126, 2, 60, 3, 0xff00ffffu, 0);
    canvas_finish(c);
}

TEST(view_frame_shaders_match_reference) {
    vkg_ctx *ctx = test_ctx();
    vkg_arena *arena = test_arena(ctx);
    size_t font_bytes;
    const unsigned char *font = frame_font(&font_bytes);
    size_t span_words = (size_t)VP_MAX_PLOTS * VP_MAX_SERIES * VP_MAX_COLUMNS;
    vkg_buf params, spans, font_buf, frame, packed_buf;
    CHECK_OK(vkg_arena_alloc(arena, 4ull * VP_WORDS, &params));
    CHECK_OK(vkg_arena_alloc(arena, 4 * span_words, &spans));
    CHECK_OK(vkg_arena_alloc(arena, font_bytes, &font_buf));
    CHECK_OK(vkg_arena_alloc(arena, 4ull * W * H, &frame));
    CHECK_OK(vkg_arena_alloc(arena, 4 * 35, &packed_buf));
    if (test_failed()) return;
    CHECK_OK(vkg_upload(ctx, &font_buf, font, font_bytes));
    const double *pixels = random_doubles(6 * 3 * 5 * 4, -1.2, 1.2, 7);
    const double *xy = random_doubles(100, -3, 3, 8);
    vkg_tensor images = upload_tensor(ctx, arena, 6, 3, 5, 4, pixels);
    vkg_tensor points = upload_tensor(ctx, arena, 50, 2, 1, 1, xy);
    float *fimages = download_tensor(ctx, &images), *fpoints = download_tensor(ctx, &points);
    uint32_t packed[35];
    for (int i = 0; i < 35; i++)
        packed[i] = (uint32_t)(i * 2654435761u) | (i % 2 ? 0xff000000u : 0);
    CHECK_OK(vkg_upload(ctx, &packed_buf, packed, sizeof packed));
    canvas c = {test_alloc(4ull * VP_WORDS), test_alloc(4 * span_words), 0, 0};
    memset(c.p, 0, 4ull * VP_WORDS);
    memset(c.spans, 0, 4 * span_words);
    const float modes[3][2] = {{0, 2}, {-2, -1}, {1.5f, -1.5f}};
    uint32_t *got = test_alloc(4ull * W * H), *want = test_alloc(4ull * W * H);
    for (int mode = 0; mode < 4 && !test_failed(); mode++) {
        scene(&c, mode, modes);
        /* mode 1 reads the images as one channel of 10x6: the same floats */
        CHECK_OK(vkg_upload(ctx, &params, c.p, 4ull * VP_WORDS));
        CHECK_OK(vkg_upload(ctx, &spans, c.spans, 4 * span_words));
        vkg_rec *rec = test_rec(ctx);
        frame_bufs b = {&frame,
                        &params,
                        &spans,
                        &font_buf,
                        &images.buf,
                        &packed_buf,
                        mode == 3 ? &points.buf : NULL};
        CHECK_OK(frame_record(rec, &b, W, H));
        CHECK_OK(vkg_rec_end(rec));
        CHECK_OK(vkg_rec_run(rec));
        CHECK_OK(vkg_download(ctx, &frame, got, 4ull * W * H));
        reference_frame(c.p, c.spans, font, fimages, packed, mode == 3 ? fpoints : NULL, want);
        int bad = 0, first = -1;
        for (int i = 0; i < W * H; i++)
            for (int ch = 0; ch < 4; ch++) {
                int d = abs((int)(got[i] >> (8 * ch) & 255) - (int)(want[i] >> (8 * ch) & 255));
                if (d > 1 && !bad++) first = i;
            }
        CHECK(bad == 0, "mode %d: %d channels differ; first at (%d, %d): got %08x, want %08x", mode,
              bad, first % W, first / W, got[first < 0 ? 0 : first], want[first < 0 ? 0 : first]);
    }
}
