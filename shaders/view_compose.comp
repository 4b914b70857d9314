#version 450
#extension GL_GOOGLE_include_directive : require
// The window's frame, one invocation per pixel (a workgroup covers one 16x16 tile): background, boxes, the image panel (generated
// images straight from G's output, nearest-neighbour scaled), the graphs (series as per-column
// spans, grid lines, hover cursor), then the boxes that lie over everything (help, tooltip).
#include "view_common.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) writeonly buffer Frame { uint frame[]; };
layout(std430, binding = 2) readonly buffer Spans { uint spans[]; };
layout(std430, binding = 3) readonly buffer Images { float images[]; };
layout(std430, binding = 4) readonly buffer Packed { uint packed_image[]; };

vec3 boxes(ivec2 p, vec3 color, uint layer, uint mask) {
    for (uint m = mask & 0xffffu; m != 0u; m &= m - 1u) {
        uint b = VP_BOX + uint(findLSB(m)) * VP_BOX_SIZE;
        if (P[b + 5] == layer && inside(p, b)) color = paint(color, P[b + 4]);
    }
    return color;
}

vec3 image_panel(ivec2 p, vec3 color) {
    const uint I = VP_IMG;
    uint mode = P[I + VI_MODE];
    if (mode == VP_IMG_NONE || !inside(p, I + VI_X0)) return color;
    if (mode == VP_IMG_SCATTER) {
        uint n = min(P[I + VI_MODES], uint(VP_MAX_MODES));
        float r = float(P[I + VI_RADIUS]);
        for (uint i = 0u; i < n; i++) {
            vec2 c = vec2(float(int(P[VP_MODES + 2u * i])), float(int(P[VP_MODES + 2u * i + 1u])));
            if (abs(distance(vec2(p) + 0.5, c) - r) < 0.75) color = paint(color, P[I + VI_RING_COLOR]);
        }
        return color;
    }
    int scale = int(max(P[I + VI_SCALE], 1u)), iw = int(P[I + VI_IW]), ih = int(P[I + VI_IH]);
    ivec2 local = p - ivec2(int(P[I + VI_OX]), int(P[I + VI_OY]));
    ivec2 cell = ivec2(iw, ih) * scale + int(P[I + VI_GAP]);
    if (local.x < 0 || local.y < 0) return color;
    // integer division is slow on CPU devices (not vectorised): exact in floats at these sizes
    ivec2 at = ivec2((vec2(local) + 0.5) / vec2(cell)), within = local - at * cell;
    if (at.x >= int(P[I + VI_COLS]) || at.y >= int(P[I + VI_ROWS]) || within.x >= iw * scale ||
        within.y >= ih * scale)
        return color;
    ivec2 s = ivec2((vec2(within) + 0.5) / float(scale));
    if (mode == VP_IMG_PACKED) return paint(color, packed_image[s.y * iw + s.x]);
    int k = int(P[I + VI_CLASSES]);
    int index = k > 0 ? at.x * k + at.y : at.y * int(P[I + VI_COLS]) + at.x;
    if (index >= int(P[I + VI_COUNT])) return color;
    int c = int(P[I + VI_CHANNELS]), plane = ih * iw, base = index * c * plane + s.y * iw + s.x;
    vec3 v = c >= 3 ? vec3(images[base], images[base + plane], images[base + 2 * plane])
                    : vec3(images[base]);
    return clamp(v * 0.5 + 0.5, 0.0, 1.0);
}

vec3 plot(ivec2 p, uint k, vec3 color) {
    uint L = VP_PLOT + k * VP_PLOT_SIZE;
    if (!inside(p, L + VL_X0)) return color;
    uint ngx = min(P[L + VL_GRID_X], uint(VP_MAX_GRID)), ngy = min(P[L + VL_GRID_Y], uint(VP_MAX_GRID));
    for (uint i = 0u; i < ngx; i++)
        if (p.x == int(P[L + VL_GX + i])) color = paint(color, P[L + VL_GRID_COLOR]);
    for (uint i = 0u; i < ngy; i++)
        if (p.y == int(P[L + VL_GY + i])) color = paint(color, P[L + VL_GRID_COLOR]);
    if (p.x == int(P[L + VL_HOVER])) color = paint(color, P[L + VL_CURSOR_COLOR]);
    uint col = uint(p.x - int(P[L + VL_X0])), stride = P[VP_SPAN_STRIDE];
    uint n = min(P[L + VL_SERIES], uint(VP_MAX_SERIES));
    for (uint s = 0u; s < n; s++) {
        uint span = spans[(k * VP_MAX_SERIES + s) * stride + col];
        int lo = int(span & 0xffffu), hi = int(span >> 16);
        if (p.y >= lo && p.y <= hi) color = paint(color, P[L + VL_COLORS + s]);
    }
    return color;
}

vec3 shade(ivec2 p, uint mask) {
    vec3 color = boxes(p, unpack_rgb(P[VP_BACKGROUND]), 0u, mask);
    if ((mask & (1u << VT_IMAGE)) != 0u) color = image_panel(p, color);
    for (uint k = 0u; k < uint(VP_MAX_PLOTS); k++)
        if ((mask & (1u << (VT_PLOT + k))) != 0u) color = plot(p, k, color);
    return boxes(p, color, 1u, mask);
}

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    if (p.x >= int(P[VP_WIDTH]) || p.y >= int(P[VP_HEIGHT])) return;
    uint tiles_per_row = (P[VP_WIDTH] + VP_TILE - 1u) / VP_TILE;
    uint mask = P[VP_TILES + gl_WorkGroupID.y * tiles_per_row + gl_WorkGroupID.x];
    frame[p.y * int(P[VP_WIDTH]) + p.x] = pack_frame(shade(p, mask));
}
