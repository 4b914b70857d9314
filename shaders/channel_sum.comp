// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// out[c] = scale * sum_{b,i} x[b,c,i] over a [batch, C, hw] tensor, one workgroup per channel
// (bias gradients, means over batch and space); added to out when accumulating.
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Out { float o[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw;
    float scale;
    uint accumulate;
} p;

void main() {
    uint c = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex;
    float s = 0.0;
    for (uint i = tid; i < p.batch * p.hw; i += REDUCE_THREADS)
        s += x[((i / p.hw) * p.channels + c) * p.hw + i % p.hw];
    s = workgroup_sum(s) * p.scale;
    if (tid == 0u) o[c] = p.accumulate != 0u ? o[c] + s : s;
}
