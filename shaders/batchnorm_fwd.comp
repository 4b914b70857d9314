// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation forward, one workgroup per channel over a [batch, C, hw] tensor.
// Training: mean and (biased) variance of the batch; running stats move by `momentum` towards
// them (the running variance uses the unbiased estimate, as PyTorch does).
// Mode 2: the batch statistics, the running ones left alone (sampling during training).
// Eval: the running statistics. Both save mean and 1/sqrt(var + eps) for the backward pass.
// Synchronised (data-parallel ranks; stage 0 is all of it at once): stage 1 writes the sum of
// x to saved[c] and stage 2 the squared deviations from the global mean to saved[C + c], each
// summed across the ranks by the host after it; stage 3 normalises with the global statistics
// of the `ranks` equal batches.
// A ReLU (act 1) or leaky ReLU (act 2, negative slope `slope`) that follows in the model may be
// applied to y as it is written (one pass instead of two, the same values).
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 2) readonly buffer Beta { float beta[]; };
layout(std430, binding = 3) buffer RunMean { float running_mean[]; };
layout(std430, binding = 4) buffer RunVar { float running_var[]; };
layout(std430, binding = 5) buffer Saved { float saved[]; }; // [mean[C], invstd[C]]
layout(std430, binding = 6) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw;
    float eps, momentum;
    uint training, stage, ranks;
    uint act;
    float slope;
} p;

void main() {
    uint c = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex;
    uint count = p.batch * p.hw;
    float mean, invstd;
    if (p.stage != 0u) { // synchronised
        float total = float(count * p.ranks);
        if (p.stage == 1u) {
            float s = 0.0;
            for (uint i = tid; i < count; i += REDUCE_THREADS)
                s += x[((i / p.hw) * p.channels + c) * p.hw + i % p.hw];
            s = workgroup_sum(s);
            if (tid == 0u) saved[c] = s;
            return;
        }
        mean = saved[c] / total;
        if (p.stage == 2u) {
            float q = 0.0;
            for (uint i = tid; i < count; i += REDUCE_THREADS) {
                float d = x[((i / p.hw) * p.channels + c) * p.hw + i % p.hw] - mean;
                q += d * d;
            }
            q = workgroup_sum(q);
            if (tid == 0u) saved[p.channels + c] = q;
            return;
        }
        float var = saved[p.channels + c] / total;
        invstd = inversesqrt(var + p.eps);
        barrier(); // every thread has read saved before it is overwritten below
        if (tid == 0u) {
            float unbiased = total > 1.0 ? var * total / (total - 1.0) : var;
            running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
            running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
        }
    } else if (p.training != 0u) {
        float s = 0.0;
        for (uint i = tid; i < count; i += REDUCE_THREADS)
            s += x[((i / p.hw) * p.channels + c) * p.hw + i % p.hw];
        mean = workgroup_sum(s) / float(count);
        float q = 0.0;
        for (uint i = tid; i < count; i += REDUCE_THREADS) {
            float d = x[((i / p.hw) * p.channels + c) * p.hw + i % p.hw] - mean;
            q += d * d;
        }
        float var = workgroup_sum(q) / float(count);
        invstd = inversesqrt(var + p.eps);
        if (tid == 0u && p.training == 1u) {
            float unbiased = count > 1u ? var * float(count) / float(count - 1u) : var;
            running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
            running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
        }
    } else {
        mean = running_mean[c];
        invstd = inversesqrt(running_var[c] + p.eps);
    }
    if (tid == 0u) {
        saved[c] = mean;
        saved[p.channels + c] = invstd;
    }
    float scale = gamma[c] * invstd, shift = beta[c] - mean * scale;
    for (uint i = tid; i < count; i += REDUCE_THREADS) {
        uint j = ((i / p.hw) * p.channels + c) * p.hw + i % p.hw;
        float v = x[j] * scale + shift;
        if (p.act == 1u) v = max(v, 0.0);
        else if (p.act == 2u) v = v > 0.0 ? v : p.slope * v;
        y[j] = v;
    }
}
