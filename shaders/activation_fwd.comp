#version 450
#extension GL_GOOGLE_include_directive : require
// y = f(x) for relu (0), leaky relu (1, negative slope `slope`), tanh (2), sigmoid (3).
#include "activation.glsl"
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint count, kind;
    float slope;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) y[i] = activate(x[i], p.kind, p.slope);
}
