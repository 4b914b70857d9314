// Batch normalisation forward, one workgroup per channel over a [batch, C, hw] tensor: the body
// of batchnorm_fwd.comp (x read as floats) and batchnorm_fwd_texel.comp (TEXEL_READS: as rgba32f
// texels, on CPU devices, where each storage-buffer load is a loop over the SIMD lanes).
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
// Modes, stages and the activation are specialization constants: lavapipe runs both sides of a
// branch on a push constant, load loops included.
// A thread takes runs of 4 consecutive floats of the channel (shaders/channel_runs.glsl).
// The includer declares x, binding 0.
#include "reduce.glsl"
layout(constant_id = 1) const uint MODE = 1u;        // 0 eval, 1 training, 2 batch statistics only
layout(constant_id = 2) const uint STAGE = 0u;       // 0 all at once, else the synchronised stage
layout(constant_id = 3) const uint ACT = 0u;         // 0 none, 1 ReLU, 2 leaky ReLU
layout(constant_id = 4) const bool ALIGNED = false;  // hw is a multiple of 4
#include "channel_runs.glsl"
#ifdef TEXEL_READS
DEFINE_TEXEL_RUN(x)
#endif
layout(std430, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 2) readonly buffer Beta { float beta[]; };
layout(std430, binding = 3) buffer RunMean { float running_mean[]; };
layout(std430, binding = 4) buffer RunVar { float running_var[]; };
layout(std430, binding = 5) buffer Saved { float saved[]; }; // [mean[C], invstd[C]]
layout(std430, binding = 6) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw;
    float eps, momentum;
    uint ranks;
    float slope;
} p;

#define FOR_CHANNEL(c) FOR_CHANNEL_RUN(w, c, p.batch, p.channels, p.hw)

float channel_sum(uint c) {
    vec4 s = vec4(0.0);
    FOR_CHANNEL(c) s += LOAD_RUN(x, run_start(w), run_count(w));
    return workgroup_sum((s.x + s.y) + (s.z + s.w));
}

float channel_squared_deviations(uint c, float mean) {
    vec4 q = vec4(0.0);
    FOR_CHANNEL(c) {
        uint n = run_count(w);
        vec4 d = LOAD_RUN(x, run_start(w), n) - mean;
        q += masked(d * d, first_of_4(n));
    }
    return workgroup_sum((q.x + q.y) + (q.z + q.w));
}

void update_running(uint c, float mean, float var, float total) {
    float unbiased = total > 1.0 ? var * total / (total - 1.0) : var;
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
}

void main() {
    uint c = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex;
    uint count = p.batch * p.hw;
    float mean, invstd;
    if (STAGE != 0u) { // synchronised
        float total = float(count * p.ranks);
        if (STAGE == 1u) {
            float s = channel_sum(c);
            if (tid == 0u) saved[c] = s;
            return;
        }
        mean = saved[c] / total;
        if (STAGE == 2u) {
            float q = channel_squared_deviations(c, mean);
            if (tid == 0u) saved[p.channels + c] = q;
            return;
        }
        float var = saved[p.channels + c] / total;
        invstd = inversesqrt(var + p.eps);
        barrier(); // every thread has read saved before it is overwritten below
        if (tid == 0u) update_running(c, mean, var, total);
    } else if (MODE != 0u) {
        mean = channel_sum(c) / float(count);
        float var = channel_squared_deviations(c, mean) / float(count);
        invstd = inversesqrt(var + p.eps);
        if (tid == 0u && MODE == 1u) update_running(c, mean, var, float(count));
    } else {
        mean = running_mean[c];
        invstd = inversesqrt(running_var[c] + p.eps);
    }
    if (tid == 0u) {
        saved[c] = mean;
        saved[p.channels + c] = invstd;
    }
    float scale = gamma[c] * invstd, shift = beta[c] - mean * scale;
    FOR_CHANNEL(c) {
        uint e = run_start(w), n = run_count(w);
        vec4 v = LOAD_RUN(x, e, n) * scale + shift;
        if (ACT == 1u) v = max(v, 0.0);
        else if (ACT == 2u) v = mix(p.slope * v, v, greaterThan(v, vec4(0.0)));
        for (uint k = 0u; k < 4u; k++)
            if (k < n) y[e + k] = v[k];
    }
}
