#version 450
#extension GL_GOOGLE_include_directive : require
#include "gemm_contract.h"
// General strided GEMM: C[m,n] = bias[n / bias_div] + sum_k A[m*sam + k*sak] * B[k*sbk + n*sbn]
// (C row-major M x N). The strides express the transposes of the dense backward passes and the
// full-window convolutions that are dense layers in disguise. With GEMM_FLAG_SPLIT, K is split
// over workgroup z and part z goes to c[z * M * N + ...] (a scratch range then; part 0 carries
// the bias), which shaders/gemm_sum_splits.comp adds up.
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer C { float c[]; };
layout(push_constant) uniform Shape {
    uint M, N, K;
    uint sam, sak, sbk, sbn;
    uint flags; // GEMM_FLAG_BIAS, GEMM_FLAG_ACCUMULATE
    uint bias_div;
} s;

float load_a(uint m, uint k) { return a[m * s.sam + k * s.sak]; }
float load_b(uint k, uint n) { return b[k * s.sbk + n * s.sbn]; }
void store_c(uint m, uint n, float v) {
    uint i = m * s.N + n;
    if ((s.flags & GEMM_FLAG_BIAS) != 0u && gl_WorkGroupID.z == 0u) v += bias[n / s.bias_div];
    if ((s.flags & GEMM_FLAG_SPLIT) != 0u) {
        c[gl_WorkGroupID.z * s.M * s.N + i] = v;
        return;
    }
    if ((s.flags & GEMM_FLAG_ACCUMULATE) != 0u) v += c[i];
    c[i] = v;
}
#include "gemm_tile.glsl"

void main() {
    gemm_tile_part(s.M, s.N, s.K);
}
