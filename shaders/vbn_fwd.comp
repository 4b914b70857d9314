// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Virtual batch normalisation forward (Salimans et al. 2016), one workgroup per (example n,
// channel c) of a [batch, C, hw] tensor: example n is normalised with the statistics of the
// reference batch (R examples, their per-channel mean and 1/sqrt(var + eps) from a batch-norm
// pass over them) together with its own hw values:
//   M = (R + 1) hw, mean = (R hw mean_R + sum x) / M, var = (R hw (var_R + mean_R^2) + sum x^2) / M - mean^2
// so an example's output does not depend on the other examples of its batch.
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 2) readonly buffer Beta { float beta[]; };
layout(std430, binding = 3) readonly buffer Ref { float ref[]; };  // [mean_R[C], invstd_R[C]]
layout(std430, binding = 4) writeonly buffer Stats { float stats[]; }; // [n][c][mean, invstd]
layout(std430, binding = 5) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw, ref_count;
    float eps;
} p;

void main() {
    uint n = gl_WorkGroupID.x / p.channels, c = gl_WorkGroupID.x % p.channels;
    uint tid = gl_LocalInvocationIndex, base = (n * p.channels + c) * p.hw;
    float s1 = 0.0, s2 = 0.0;
    for (uint i = tid; i < p.hw; i += REDUCE_THREADS) {
        float v = x[base + i];
        s1 += v;
        s2 += v * v;
    }
    s1 = workgroup_sum(s1);
    s2 = workgroup_sum(s2);
    float ref_n = float(p.ref_count * p.hw), m = ref_n + float(p.hw);
    float mean_r = ref[c], inv_r = ref[p.channels + c];
    float var_r = max(1.0 / (inv_r * inv_r) - p.eps, 0.0);
    float mean = (ref_n * mean_r + s1) / m;
    float var = max((ref_n * (var_r + mean_r * mean_r) + s2) / m - mean * mean, 0.0);
    float invstd = inversesqrt(var + p.eps);
    if (tid == 0u) {
        stats[2u * (n * p.channels + c)] = mean;
        stats[2u * (n * p.channels + c) + 1u] = invstd;
    }
    float scale = gamma[c] * invstd, shift = beta[c] - mean * scale;
    for (uint i = tid; i < p.hw; i += REDUCE_THREADS) y[base + i] = x[base + i] * scale + shift;
}
