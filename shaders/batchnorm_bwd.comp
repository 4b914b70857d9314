// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation backward, one workgroup per channel. With xhat = (x - mean) * invstd:
//   dbeta = sum dy, dgamma = sum dy * xhat (added to what they hold when accumulating; not
//   written at all without param_grads: a pass that only carries the gradient to the input),
//   training: dx = gamma * invstd * (dy - dbeta/M - xhat * dgamma/M)  (the batch stats depend on x)
//   eval:     dx = gamma * invstd * dy
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Saved { float saved[]; };
layout(std430, binding = 4) buffer DGamma { float dgamma[]; };
layout(std430, binding = 5) buffer DBeta { float dbeta[]; };
layout(std430, binding = 6) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw;
    uint training, accumulate, param_grads;
} p;

void main() {
    uint c = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex;
    uint count = p.batch * p.hw;
    float mean = saved[c], invstd = saved[p.channels + c];
    float sdy = 0.0, sdyx = 0.0;
    for (uint i = tid; i < count; i += REDUCE_THREADS) {
        uint j = ((i / p.hw) * p.channels + c) * p.hw + i % p.hw;
        sdy += dy[j];
        sdyx += dy[j] * (x[j] - mean) * invstd;
    }
    sdy = workgroup_sum(sdy);
    sdyx = workgroup_sum(sdyx);
    if (tid == 0u && p.param_grads != 0u) {
        dbeta[c] = p.accumulate != 0u ? dbeta[c] + sdy : sdy;
        dgamma[c] = p.accumulate != 0u ? dgamma[c] + sdyx : sdyx;
    }
    float k = gamma[c] * invstd;
    float mdy = p.training != 0u ? sdy / float(count) : 0.0;
    float mdyx = p.training != 0u ? sdyx / float(count) : 0.0;
    for (uint i = tid; i < count; i += REDUCE_THREADS) {
        uint j = ((i / p.hw) * p.channels + c) * p.hw + i % p.hw;
        dx[j] = k * (dy[j] - mdy - (x[j] - mean) * invstd * mdyx);
    }
}
