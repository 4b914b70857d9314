#version 450
#extension GL_GOOGLE_include_directive : require
// The gradient of conv2d with respect to its input, as implicit GEMM (also the forward pass of
// conv_transpose2d): M = c_in, N = batch*h_in*w_in, K = c_out*k*k.
// dx[b,ci,iy,ix] = bias[ci] + sum_{co,ky,kx} w[co,ci,ky,kx] * dy[b,co,oy,ox]
//   over the taps with oy*s - p + ky = iy and ox*s - p + kx = ix.
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
#include "conv_geometry.glsl"

float input_at(uint b, uint c, int iy, int ix) {
    return 0.0; // unused: this direction gathers from the output grid
}
float load_a(uint m, uint k) {
    uint kk = g.kernel * g.kernel;
    return w[((k / kk) * g.c_in + m) * kk + k % kk];
}
float load_b(uint k, uint n) {
    uint kk = g.kernel * g.kernel, hw = g.h_in * g.w_in;
    uint co = k / kk, r = k % kk, b = n / hw, p = n % hw;
    int ty = int(p / g.w_in) + int(g.pad) - int(r / g.kernel);
    int tx = int(p % g.w_in) + int(g.pad) - int(r % g.kernel);
    if (ty < 0 || tx < 0) return 0.0;
    uint oy = uint(ty) / g.stride, ox = uint(tx) / g.stride;
    if (uint(ty) % g.stride != 0u || uint(tx) % g.stride != 0u || oy >= g.h_out || ox >= g.w_out)
        return 0.0;
    return dy[((b * g.c_out + co) * g.h_out + oy) * g.w_out + ox];
}
void store_c(uint m, uint n, float v) {
    uint hw = g.h_in * g.w_in;
    uint i = ((n / hw) * g.c_in + m) * hw + n % hw;
    if ((g.flags & FLAG_BIAS) != 0u) v += bias[m];
    if ((g.flags & FLAG_ACCUMULATE) != 0u) v += dx[i];
    dx[i] = v;
}
#include "gemm_tile.glsl"

void main() {
    gemm_tile(g.c_in, g.batch * g.h_in * g.w_in, g.c_out * g.kernel * g.kernel);
}
