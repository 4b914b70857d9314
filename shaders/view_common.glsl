// Helpers of the window's shaders: the frame description and colour packing.
#include "view_layout.glsl"

layout(std430, binding = 1) readonly buffer Params { uint P[]; };

vec3 unpack_rgb(uint c) {
    return vec3(float((c >> 16) & 255u), float((c >> 8) & 255u), float(c & 255u)) / 255.0;
}

vec3 paint(vec3 under, uint c) {
    return mix(under, unpack_rgb(c), float(c >> 24) / 255.0);
}

uint pack_frame(vec3 c) {
    uvec3 b = uvec3(clamp(c, 0.0, 1.0) * 255.0 + 0.5);
    return P[VP_RED_FIRST] != 0u ? (b.r | b.g << 8 | b.b << 16 | 0xff000000u)
                                 : (b.b | b.g << 8 | b.r << 16 | 0xff000000u);
}

bool inside(ivec2 p, uint base) {
    return p.x >= int(P[base]) && p.y >= int(P[base + 1]) && p.x < int(P[base + 2]) &&
           p.y < int(P[base + 3]);
}

// Whether p is under a box of the given layer.
bool under_box(ivec2 p, uint layer) {
    uint n = min(P[VP_BOXES], uint(VP_MAX_BOXES));
    for (uint i = 0u; i < n; i++) {
        uint b = VP_BOX + i * VP_BOX_SIZE;
        if (P[b + 5] == layer && inside(p, b)) return true;
    }
    return false;
}
