/* The frame's dispatches; see frame.h. */
#include "view/frame.h"

#include "vkgan/kernel.h"
#include "view_layout.glsl"
#include "vkgan_font.h"

int frame_record(vkg_rec *rec, const frame_bufs *b, int w, int h) {
    vkg_kernel compose = {.shader = VKG_SHADER_VIEW_COMPOSE,
                          .bufs = {b->frame, b->params, b->spans, b->images, b->packed},
                          .groups = {(uint32_t)(w + 15) / 16, (uint32_t)(h + 15) / 16, 1}};
    int r = vkg_rec_kernel(rec, &compose);
    if (b->points) {
        vkg_kernel dots = {.shader = VKG_SHADER_VIEW_POINTS,
                           .bufs = {b->frame, b->params, b->points},
                           .groups = {(uint32_t)(b->points->size / 8 + 63) / 64, 1, 1}};
        r |= vkg_rec_kernel(rec, &dots);
    }
    vkg_kernel text = {.shader = VKG_SHADER_VIEW_PRIMS,
                       .bufs = {b->frame, b->params, b->font},
                       .groups = {VP_MAX_PRIMS, 1, 1}};
    return r | vkg_rec_kernel(rec, &text);
}

const unsigned char *frame_font(size_t *bytes) {
    *bytes = sizeof vkg_font_8x16;
    return &vkg_font_8x16[0][0];
}
