/* The dispatches that draw a frame described by a canvas (shaders/view_layout.glsl) into a buffer
 * of w x h pixels: view_compose (every pixel), view_points (the scatter panel's points, when
 * `points` is given) and view_prims (rectangles and text). */
#ifndef VKGAN_VIEW_FRAME_H
#define VKGAN_VIEW_FRAME_H

#include <stddef.h>

#include "vkgan/gpu.h"

typedef struct frame_bufs {
    const vkg_buf *frame;  /* w * h words, written */
    const vkg_buf *params; /* VP_WORDS words */
    const vkg_buf *spans;  /* VP_MAX_PLOTS * VP_MAX_SERIES * VP_MAX_COLUMNS words */
    const vkg_buf *font;   /* frame_font() */
    const vkg_buf *images; /* NCHW floats for VP_IMG_TENSOR (any buffer otherwise) */
    const vkg_buf *packed; /* 0xAARRGGBB words for VP_IMG_PACKED (any buffer otherwise) */
    const vkg_buf *points; /* x, y floats for the scatter panel, or NULL */
} frame_bufs;

int frame_record(vkg_rec *rec, const frame_bufs *b, int w, int h);
/* The embedded 8x16 font: 95 glyphs (ASCII 32..126) of 16 row bytes, bit 7 the left pixel. */
const unsigned char *frame_font(size_t *bytes);

#endif
