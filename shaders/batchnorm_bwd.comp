// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation backward, one workgroup per channel. With xhat = (x - mean) * invstd:
//   dbeta = sum dy, dgamma = sum dy * xhat (added to what they hold when accumulating; not
//   written at all without param_grads: a pass that only carries the gradient to the input),
//   training: dx = gamma * invstd * (dy - dbeta/M - xhat * dgamma/M)  (the batch stats depend on x)
//   eval:     dx = gamma * invstd * dy
// Synchronised (data-parallel ranks; stage 0 is all of it at once): stage 1 writes this batch's
// sums of dy and dy * xhat to sums[c], sums[C + c] (and the parameters' gradients, this
// rank's), the host sums them across the ranks, stage 2 computes dx with the means over the
// `ranks` equal batches.
// A ReLU (act 1) or leaky ReLU (act 2, slope `slope`) that followed in the forward pass may be
// folded in: dy is then the activation's output gradient, binding 7 its output y, and each dy is
// first multiplied by the activation's derivative (as shaders/activation_bwd.comp does).
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Saved { float saved[]; };
layout(std430, binding = 4) buffer DGamma { float dgamma[]; };
layout(std430, binding = 5) buffer DBeta { float dbeta[]; };
layout(std430, binding = 6) writeonly buffer DX { float dx[]; };
// synchronised: [sum dy[C], sum dy * xhat[C]]; with an activation folded in: its output
layout(std430, binding = 7) buffer Sums { float sums[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw;
    uint training, accumulate, param_grads, stage, ranks;
    uint act;
    float slope;
} p;

// dy at j, through the folded activation's derivative when there is one
float grad(uint j) {
    if (p.act == 0u) return dy[j];
    float d = sums[j] > 0.0 ? 1.0 : p.act == 1u ? 0.0 : p.slope;
    precise float g = dy[j] * d; // rounded, as the two-pass path stores it: never fused into an fma
    return g;
}

void main() {
    uint c = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex;
    uint count = p.batch * p.hw;
    float mean = saved[c], invstd = saved[p.channels + c];
    float sdy = 0.0, sdyx = 0.0;
    if (p.stage == 2u) { // the sums of every rank
        sdy = sums[c], sdyx = sums[p.channels + c];
    } else {
        for (uint i = tid; i < count; i += REDUCE_THREADS) {
            uint j = ((i / p.hw) * p.channels + c) * p.hw + i % p.hw;
            float g = grad(j);
            sdy += g;
            sdyx += g * (x[j] - mean) * invstd;
        }
        sdy = workgroup_sum(sdy);
        sdyx = workgroup_sum(sdyx);
        if (tid == 0u && p.param_grads != 0u) {
            dbeta[c] = p.accumulate != 0u ? dbeta[c] + sdy : sdy;
            dgamma[c] = p.accumulate != 0u ? dgamma[c] + sdyx : sdyx;
        }
        if (p.stage == 1u) {
            if (tid == 0u) sums[c] = sdy, sums[p.channels + c] = sdyx;
            return;
        }
    }
    float k = gamma[c] * invstd;
    float total = float(count * max(p.ranks, 1u));
    float mdy = p.training != 0u ? sdy / total : 0.0;
    float mdyx = p.training != 0u ? sdyx / total : 0.0;
    for (uint i = tid; i < count; i += REDUCE_THREADS) {
        uint j = ((i / p.hw) * p.channels + c) * p.hw + i % p.hw;
        dx[j] = k * (grad(j) - mdy - (x[j] - mean) * invstd * mdyx);
    }
}
