#version 450
#extension GL_GOOGLE_include_directive : require
// The gradient of conv2d with respect to its weights, as implicit GEMM (also that of
// conv_transpose2d with the grids swapped): M = c_out, N = c_in*k*k, K = batch*h_out*w_out.
// dw[co,ci,ky,kx] = sum_{b,oy,ox} dy[b,co,oy,ox] * x[b,ci,oy*s-p+ky,ox*s-p+kx]
// K is long (a whole batch of pixels) and M x N often small, so K may be split over workgroup z
// (GEMM_FLAG_SPLIT): part z of the sum goes to dw[z * M * N + ...] (a scratch range then), and
// shaders/gemm_sum_splits.comp adds the parts in a fixed order.
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DW { float dw[]; };
#include "conv_geometry.glsl"

float input_at(uint b, uint c, int iy, int ix) {
    return x[((b * g.c_in + c) * g.h_in + iy) * g.w_in + ix];
}
float load_a(uint m, uint k) {
    uint hw = g.h_out * g.w_out;
    return dy[((k / hw) * g.c_out + m) * hw + k % hw];
}
float load_b(uint k, uint n) {
    uint kk = KERNEL * KERNEL, hw = g.h_out * g.w_out;
    uint r = n % kk, p = k % hw;
    return tap(k / hw, n / kk, p / g.w_out, p % g.w_out, r / KERNEL, r % KERNEL);
}
void store_c(uint m, uint n, float v) {
    uint N = g.c_in * KERNEL * KERNEL, i = m * N + n;
    if ((g.flags & GEMM_FLAG_SPLIT) != 0u) {
        dw[gl_WorkGroupID.z * g.c_out * N + i] = v;
        return;
    }
    if ((g.flags & GEMM_FLAG_ACCUMULATE) != 0u) v += dw[i];
    dw[i] = v;
}
#include "gemm_tile.glsl"

void main() {
    gemm_tile_part(g.c_out, g.c_in * KERNEL * KERNEL, g.batch * g.h_out * g.w_out);
}
