// Batch normalisation backward, one workgroup per channel: the body of batchnorm_bwd.comp (x,
// dy and y read as floats) and batchnorm_bwd_texel.comp (TEXEL_READS: as rgba32f texels, on CPU
// devices; not for the synchronised stages, which need binding 7 writable).
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
// Modes, stages and the activation are specialization constants (see batchnorm_fwd.glsl); a
// thread takes runs of 4 consecutive floats of the channel (shaders/channel_runs.glsl).
// The includer declares x, dy (bindings 0 and 1) and act_out (binding 7: the folded activation's
// output; as floats, also the synchronised stages' sums).
#include "reduce.glsl"
layout(constant_id = 1) const uint TRAINING = 1u;    // the batch statistics depend on x
layout(constant_id = 2) const uint STAGE = 0u;       // 0 all at once, else the synchronised stage
layout(constant_id = 3) const uint ACT = 0u;         // 0 none, 1 ReLU, 2 leaky ReLU
layout(constant_id = 4) const uint PARAM_GRADS = 1u; // write dgamma and dbeta
layout(constant_id = 5) const uint ACCUMULATE = 0u;  // add them to what they hold
layout(constant_id = 6) const bool ALIGNED = false;  // hw is a multiple of 4
#include "channel_runs.glsl"
#ifdef TEXEL_READS
DEFINE_TEXEL_RUN(x)
DEFINE_TEXEL_RUN(dy)
DEFINE_TEXEL_RUN(act_out)
#endif
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Saved { float saved[]; };
layout(std430, binding = 4) buffer DGamma { float dgamma[]; };
layout(std430, binding = 5) buffer DBeta { float dbeta[]; };
layout(std430, binding = 6) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw, ranks;
    float slope;
} p;

#define FOR_CHANNEL(c) FOR_CHANNEL_RUN(w, c, p.batch, p.channels, p.hw)

// dy's run from e, through the folded activation's derivative when there is one
vec4 grad_run(uint e, uint n) {
    vec4 g = LOAD_RUN(dy, e, n);
    if (ACT == 0u) return g;
    vec4 d = mix(vec4(ACT == 1u ? 0.0 : p.slope), vec4(1.0), greaterThan(LOAD_RUN(act_out, e, n), vec4(0.0)));
    precise vec4 r = g * d; // rounded, as the two-pass path stores it: never fused into an fma
    return r;
}

void main() {
    uint c = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex;
    uint count = p.batch * p.hw;
    float mean = saved[c], invstd = saved[p.channels + c];
    float sdy = 0.0, sdyx = 0.0;
#ifndef TEXEL_READS
    if (STAGE == 2u) { // the sums of every rank
        sdy = sums[c], sdyx = sums[p.channels + c];
    } else
#endif
    {
        vec4 s = vec4(0.0), sx = vec4(0.0); // the floats past a run's count are 0 in g
        FOR_CHANNEL(c) {
            uint e = run_start(w), n = run_count(w);
            vec4 g = grad_run(e, n);
            s += g;
            sx += g * (LOAD_RUN(x, e, n) - mean) * invstd;
        }
        sdy = workgroup_sum((s.x + s.y) + (s.z + s.w));
        sdyx = workgroup_sum((sx.x + sx.y) + (sx.z + sx.w));
        if (tid == 0u && PARAM_GRADS != 0u) {
            dbeta[c] = ACCUMULATE != 0u ? dbeta[c] + sdy : sdy;
            dgamma[c] = ACCUMULATE != 0u ? dgamma[c] + sdyx : sdyx;
        }
#ifndef TEXEL_READS
        if (STAGE == 1u) {
            if (tid == 0u) sums[c] = sdy, sums[p.channels + c] = sdyx;
            return;
        }
#endif
    }
    float k = gamma[c] * invstd;
    float total = float(count * max(p.ranks, 1u));
    float mdy = TRAINING != 0u ? sdy / total : 0.0;
    float mdyx = TRAINING != 0u ? sdyx / total : 0.0;
    FOR_CHANNEL(c) {
        uint e = run_start(w), n = run_count(w);
        vec4 v = k * (grad_run(e, n) - mdy - (LOAD_RUN(x, e, n) - mean) * invstd * mdyx);
        for (uint j = 0u; j < 4u; j++)
            if (j < n) dx[e + j] = v[j];
    }
}
