#version 450
#extension GL_GOOGLE_include_directive : require
// Average pooling backward: each input pixel gathers dy/k^2 from every window that covers it.
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint planes, h_in, w_in, h_out, w_out, kernel, stride;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.planes * p.h_in * p.w_in) {
        uint plane = i / (p.h_in * p.w_in), r = i % (p.h_in * p.w_in);
        int iy = int(r / p.w_in), ix = int(r % p.w_in), s = int(p.stride), k = int(p.kernel);
        // windows oy with oy*s <= iy < oy*s + k
        int oy_lo = max(0, (iy - k + s) / s), oy_hi = min(int(p.h_out) - 1, iy / s);
        int ox_lo = max(0, (ix - k + s) / s), ox_hi = min(int(p.w_out) - 1, ix / s);
        float acc = 0.0;
        for (int oy = oy_lo; oy <= oy_hi; oy++)
            for (int ox = ox_lo; ox <= ox_hi; ox++)
                acc += dy[(plane * p.h_out + uint(oy)) * p.w_out + uint(ox)];
        dx[i] = acc / float(p.kernel * p.kernel);
    }
}
