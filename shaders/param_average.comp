#version 450
#extension GL_GOOGLE_include_directive : require
// Running averages of a parameter range and the penalty that pulls towards them:
//   mode 0: avg += w * (p - avg), w = a                      (exponential moving average)
//   mode 1: avg += w * (p - avg), w = 1 / counters[index]    (mean of every value so far, when the
//                                                            counter counts them from 1)
//   mode 2: g += a * (p - avg)     (gradient of (a/2) ||p - avg||^2: historical averaging)
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer Counter { uint counters[]; };
layout(std430, binding = 1) readonly buffer P { float p[]; };
layout(std430, binding = 2) buffer Avg { float avg[]; };
layout(std430, binding = 3) buffer G { float g[]; };
layout(push_constant) uniform Push {
    uint count, mode, index;
    float a;
} push;

void main() {
    float w = push.mode == 1u ? 1.0 / float(max(counters[push.index], 1u)) : push.a;
    FOR_EACH_ELEMENT(i, push.count) {
        if (push.mode == 2u) g[i] += push.a * (p[i] - avg[i]);
        else avg[i] += w * (p[i] - avg[i]);
    }
}
