// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Virtual batch normalisation backward, the reference statistics held constant. With
// xhat = (x - mean_n) invstd_n and M = (R + 1) hw:
//   mode 0, one workgroup per (n, c): dx = gamma invstd (dy - sum dy / M - xhat sum dy xhat / M),
//           the sums over example n's own hw values (only they move its statistics)
//   mode 1, one workgroup per channel: dgamma = sum dy xhat, dbeta = sum dy over the batch
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Stats { float stats[]; };
layout(std430, binding = 4) writeonly buffer DX { float dx[]; };
layout(std430, binding = 5) buffer DGamma { float dgamma[]; };
layout(std430, binding = 6) buffer DBeta { float dbeta[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw, ref_count, mode, accumulate;
} p;

float xhat(uint n, uint c, uint j) {
    uint s = 2u * (n * p.channels + c);
    return (x[j] - stats[s]) * stats[s + 1u];
}

void main() {
    uint tid = gl_LocalInvocationIndex;
    if (p.mode == 0u) {
        uint n = gl_WorkGroupID.x / p.channels, c = gl_WorkGroupID.x % p.channels;
        uint base = (n * p.channels + c) * p.hw;
        float sdy = 0.0, sdyx = 0.0;
        for (uint i = tid; i < p.hw; i += REDUCE_THREADS) {
            sdy += dy[base + i];
            sdyx += dy[base + i] * xhat(n, c, base + i);
        }
        sdy = workgroup_sum(sdy);
        sdyx = workgroup_sum(sdyx);
        float m = float((p.ref_count + 1u) * p.hw);
        float k = gamma[c] * stats[2u * (n * p.channels + c) + 1u];
        for (uint i = tid; i < p.hw; i += REDUCE_THREADS)
            dx[base + i] = k * (dy[base + i] - sdy / m - xhat(n, c, base + i) * sdyx / m);
    } else {
        uint c = gl_WorkGroupID.x;
        float sdy = 0.0, sdyx = 0.0;
        for (uint i = tid; i < p.batch * p.hw; i += REDUCE_THREADS) {
            uint n = i / p.hw, j = (n * p.channels + c) * p.hw + i % p.hw;
            sdy += dy[j];
            sdyx += dy[j] * xhat(n, c, j);
        }
        sdy = workgroup_sum(sdy);
        sdyx = workgroup_sum(sdyx);
        if (tid == 0u) {
            dgamma[c] = p.accumulate != 0u ? dgamma[c] + sdyx : sdyx;
            dbeta[c] = p.accumulate != 0u ? dbeta[c] + sdy : sdy;
        }
    }
}
