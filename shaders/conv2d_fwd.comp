#version 450
#extension GL_GOOGLE_include_directive : require
// conv2d forward as implicit GEMM: M = c_out, N = batch*h_out*w_out, K = c_in*k*k.
// y[b,co,oy,ox] = bias[co] + sum_{ci,ky,kx} w[co,ci,ky,kx] * x[b,ci,oy*s-p+ky,ox*s-p+kx]
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Y { float y[]; };
#include "conv_geometry.glsl"

float input_at(uint b, uint c, int iy, int ix) {
    return x[((b * g.c_in + c) * g.h_in + iy) * g.w_in + ix];
}
float load_a(uint m, uint k) {
    return w[m * g.c_in * KERNEL * KERNEL + k];
}
// A thread loads the same tile column n at every K step: its decomposition is kept.
uint memo_n = 0xffffffffu, memo_b, memo_oy, memo_ox;
float load_b(uint k, uint n) {
    if (n != memo_n) {
        uint hw = g.h_out * g.w_out, p = n % hw;
        memo_n = n, memo_b = n / hw, memo_oy = p / g.w_out, memo_ox = p % g.w_out;
    }
    uint kk = KERNEL * KERNEL, r = k % kk;
    return tap(memo_b, k / kk, memo_oy, memo_ox, r / KERNEL, r % KERNEL);
}
void store_c(uint m, uint n, float v) {
    uint hw = g.h_out * g.w_out;
    uint i = ((n / hw) * g.c_out + m) * hw + n % hw;
    if ((g.flags & GEMM_FLAG_BIAS) != 0u) v += bias[m];
    if ((g.flags & GEMM_FLAG_ACCUMULATE) != 0u) v += y[i];
    y[i] = v;
}
#include "gemm_tile.glsl"

void main() {
    gemm_tile(g.c_out, g.batch * g.h_out * g.w_out, g.c_in * KERNEL * KERNEL);
}
