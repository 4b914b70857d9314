#version 450
#extension GL_GOOGLE_include_directive : require
// Rectangles and text over the composed frame: one workgroup per primitive. A glyph comes from
// the embedded 8x16 font, scaled by an integer; primitives of layer 0 stay under the boxes of
// layer 1 (the help overlay and the tooltip).
#include "view_common.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer Frame { uint frame[]; };
layout(std430, binding = 2) readonly buffer Font { uint font[]; }; // 16 bytes per glyph

void main() {
    uint i = gl_WorkGroupID.x;
    if (i >= P[VP_PRIMS]) return;
    uint b = VP_PRIM + i * VP_PRIM_SIZE;
    int x = int(P[b]), y = int(P[b + 1]), w = int(P[b + 2]), h = int(P[b + 3]);
    uint info = P[b + 5], glyph = info & 255u, scale = max((info >> 8) & 255u, 1u);
    uint layer = info >> 16, color = pack_frame(unpack_rgb(P[b + 4]));
    int width = int(P[VP_WIDTH]), height = int(P[VP_HEIGHT]);
    for (int t = int(gl_LocalInvocationID.x); t < w * h; t += 64) {
        ivec2 p = ivec2(x + t % w, y + t / w);
        if (p.x < 0 || p.y < 0 || p.x >= width || p.y >= height) continue;
        if (glyph != 0u) {
            uint gx = uint(t % w) / scale, gy = uint(t / w) / scale;
            if (gx > 7u || gy > 15u) continue;
            uint row = (font[(glyph - 1u) * 4u + gy / 4u] >> ((gy % 4u) * 8u)) & 255u;
            if (((row >> (7u - gx)) & 1u) == 0u) continue;
        }
        if (layer == 0u && under_box(p, 1u)) continue;
        frame[p.y * width + p.x] = color;
    }
}
