#version 450
#extension GL_GOOGLE_include_directive : require
// The second pass of a split-K GEMM (gemm.comp, conv2d_bwd_weight.comp with GEMM_FLAG_SPLIT):
// out[i] = (out[i] if accumulating) + sum_z parts[z*count + i], added in order z = 0, 1, ... so
// the result does not depend on scheduling.
#include "elementwise.glsl"
layout(std430, binding = 0) readonly buffer Parts { float parts[]; };
layout(std430, binding = 1) buffer Out { float o[]; };
layout(push_constant) uniform P { uint count, splits, accumulate; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        float s = p.accumulate != 0u ? o[i] : 0.0;
        for (uint z = 0; z < p.splits; z++) s += parts[z * p.count + i];
        o[i] = s;
    }
}
