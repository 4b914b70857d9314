#version 450
#extension GL_GOOGLE_include_directive : require
// Average pooling, k x k windows with a stride, no padding: y = mean of the window.
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint planes, h_in, w_in, h_out, w_out, kernel, stride;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.planes * p.h_out * p.w_out) {
        uint plane = i / (p.h_out * p.w_out), r = i % (p.h_out * p.w_out);
        uint y0 = (r / p.w_out) * p.stride, x0 = (r % p.w_out) * p.stride;
        float s = 0.0;
        for (uint ky = 0; ky < p.kernel; ky++)
            for (uint kx = 0; kx < p.kernel; kx++)
                s += x[(plane * p.h_in + y0 + ky) * p.w_in + x0 + kx];
        y[i] = s / float(p.kernel * p.kernel);
    }
}
