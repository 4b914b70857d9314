#version 450
#extension GL_GOOGLE_include_directive : require
// y = f(x) for relu (0), leaky relu (1, negative slope `slope`), tanh (2), sigmoid (3).
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint count, kind;
    float slope;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        float v = x[i];
        if (p.kind == 0u) y[i] = max(v, 0.0);
        else if (p.kind == 1u) y[i] = v > 0.0 ? v : p.slope * v;
        else if (p.kind == 2u) y[i] = tanh(v);
        else y[i] = v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
    }
}
