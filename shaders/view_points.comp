#version 450
#extension GL_GOOGLE_include_directive : require
// The scatter panel's generated points: one invocation per point, a 3x3 dot where it falls.
#include "view_common.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer Frame { uint frame[]; };
layout(std430, binding = 2) readonly buffer Points { float points[]; }; // x, y pairs

void main() {
    const uint I = VP_IMG;
    uint i = gl_GlobalInvocationID.x;
    if (i >= P[VP_POINTS] || P[I + VI_MODE] != VP_IMG_SCATTER) return;
    ivec2 lo = ivec2(int(P[I + VI_X0]), int(P[I + VI_Y0])), hi = ivec2(int(P[I + VI_X1]), int(P[I + VI_Y1]));
    vec2 centre = vec2(lo + hi) * 0.5, half_size = vec2(hi - lo) * 0.5;
    float extent = uintBitsToFloat(P[I + VI_EXTENT]);
    vec2 v = vec2(points[2u * i], -points[2u * i + 1u]) / extent;
    if (any(isnan(v)) || any(greaterThan(abs(v), vec2(1.0)))) return;
    ivec2 c = ivec2(centre + v * min(half_size.x, half_size.y));
    uint color = pack_frame(unpack_rgb(P[I + VI_POINT_COLOR]));
    int width = int(P[VP_WIDTH]);
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            ivec2 p = c + ivec2(dx, dy);
            if (p.x >= lo.x && p.y >= lo.y && p.x < hi.x && p.y < hi.y) frame[p.y * width + p.x] = color;
        }
}
