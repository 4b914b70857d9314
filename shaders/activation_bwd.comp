#version 450
#extension GL_GOOGLE_include_directive : require
// dx = dy * f'(x), written in terms of the forward output y (so x need not be kept):
// relu: y > 0; leaky relu: y > 0 ? 1 : slope (slope >= 0); tanh: 1 - y^2; sigmoid: y (1 - y).
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint count, kind;
    float slope;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        float v = y[i], d;
        if (p.kind == 0u) d = v > 0.0 ? 1.0 : 0.0;
        else if (p.kind == 1u) d = v > 0.0 ? 1.0 : p.slope;
        else if (p.kind == 2u) d = 1.0 - v * v;
        else d = v * (1.0 - v);
        dx[i] = dy[i] * d;
    }
}
