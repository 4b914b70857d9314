// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Feature matching (Salimans et al. 2016): G minimises L = sum_j (mr_j - mf_j)^2 where mr and mf
// are the batch means of D's features on real and generated examples.
//   mode 0 (one workgroup): out[0] = L
//   mode 1 (elementwise):   grad[n, j] = dL/df[n, j] = 2 (mf_j - mr_j) / N
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer MR { float mr[]; };
layout(std430, binding = 1) readonly buffer MF { float mf[]; };
layout(std430, binding = 2) buffer Out { float o[]; };
layout(std430, binding = 3) writeonly buffer Grad { float grad[]; };
layout(push_constant) uniform P {
    uint batch, features, mode;
} p;

void main() {
    uint tid = gl_LocalInvocationIndex;
    if (p.mode == 0u) {
        float s = 0.0;
        for (uint j = tid; j < p.features; j += REDUCE_THREADS) {
            float d = mr[j] - mf[j];
            s += d * d;
        }
        s = workgroup_sum(s);
        if (tid == 0u) o[0] = s;
    } else {
        uint stride = gl_NumWorkGroups.x * REDUCE_THREADS;
        float scale = 2.0 / float(p.batch);
        for (uint i = gl_WorkGroupID.x * REDUCE_THREADS + tid; i < p.batch * p.features; i += stride)
            grad[i] = scale * (mf[i % p.features] - mr[i % p.features]);
    }
}
