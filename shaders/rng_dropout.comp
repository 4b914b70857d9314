#version 450
#extension GL_GOOGLE_include_directive : require
// Inverted dropout, forward and backward alike: y = x * keep / (1 - p), keep = (bits >> 8) >= p*2^24
// (a = p). The mask is recomputed from the key, so nothing is stored between the passes.
#include "elementwise.glsl"
#include "philox.glsl"
#include "rng_key.glsl"
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

void main() {
    uint step = rng_step();
    uint threshold = uint(key.a * 16777216.0);
    float scale = 1.0 / (1.0 - key.a);
    FOR_EACH_ELEMENT(i, key.count) {
        bool keep = (rng_bits(i, step).x >> 8) >= threshold;
        y[i] = keep ? x[i] * scale : 0.0;
    }
}
