#version 450
#extension GL_GOOGLE_include_directive : require
// Class conditioning by concatenation: labels (floats; class = floor, clamped to 0..K-1) become
// K one-hot channels after x's C, constant over the map.
//   mode 0: y[n, c, i] = c < C ? x[n, c, i] : (c - C == class(n) ? 1 : 0)   y: [N, C + K, HW]
//   mode 1: y[n, c, i] = x[n, c, i] for c < C, x: [N, C + K, HW]  (the gradient of mode 0
//           with respect to x: the one-hot channels carry no gradient)
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer L { float labels[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint batch, channels, classes, hw, mode;
} p;

void main() {
    uint wide = (p.channels + p.classes) * p.hw, narrow = p.channels * p.hw;
    if (p.mode == 0u) {
        FOR_EACH_ELEMENT(i, p.batch * wide) {
            uint n = i / wide, j = i % wide;
            int k = clamp(int(floor(labels[n])), 0, int(p.classes) - 1);
            y[i] = j < narrow ? x[n * narrow + j] : (int((j - narrow) / p.hw) == k ? 1.0 : 0.0);
        }
    } else {
        FOR_EACH_ELEMENT(i, p.batch * narrow) y[i] = x[(i / narrow) * wide + i % narrow];
    }
}
