/* The frame's dispatches; see frame.h. */
#include "view/frame.h"

#include "gpu/internal.h"
#include "view_layout.glsl"
#include "vkgan_font.h"

int frame_record(vkg_rec *rec, const frame_bufs *b, int w, int h) {
    vkg_kernel compose = {.shader = "view_compose",
                          .bufs = {b->frame, b->params, b->spans, b->images, b->packed},
                          .nbufs = 5,
                          .write_mask = 1,
                          .groups = {(uint32_t)(w + 15) / 16, (uint32_t)(h + 15) / 16, 1}};
    int r = vkg_rec_kernel(rec, &compose);
    if (b->points) {
        vkg_kernel dots = {.shader = "view_points",
                           .bufs = {b->frame, b->params, b->points},
                           .nbufs = 3,
                           .write_mask = 1,
                           .groups = {(uint32_t)(b->points->size / 8 + 63) / 64, 1, 1}};
        r |= vkg_rec_kernel(rec, &dots);
    }
    vkg_kernel text = {.shader = "view_prims",
                       .bufs = {b->frame, b->params, b->font},
                       .nbufs = 3,
                       .write_mask = 1,
                       .groups = {VP_MAX_PRIMS, 1, 1}};
    return r | vkg_rec_kernel(rec, &text);
}

const unsigned char *frame_font(size_t *bytes) {
    *bytes = sizeof vkg_font_8x16;
    return &vkg_font_8x16[0][0];
}
