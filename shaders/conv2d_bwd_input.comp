#version 450
#extension GL_GOOGLE_include_directive : require
// The gradient of conv2d with respect to its input, as implicit GEMM (also the forward pass of
// conv_transpose2d):
//   dx[b,ci,iy,ix] = bias[ci] + sum w[co,ci,ky,kx] * dy[b,co,oy,ox] over oy*s - p + ky = iy, ...
// Only taps with ky = (iy + p) mod s (+ multiples of s) can be valid, so the input pixels are
// split by phase (iy mod s, ix mod s) = workgroup z, and each phase is its own GEMM over only its
// taps: M = c_in, N = batch * (pixels of the phase), K = c_out * TAPS * TAPS.
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
#include "conv_geometry.glsl"

// Taps of a phase: ky = first_ky + STRIDE * ty for ty < taps_y. K is laid out over the
// constant TAPS x TAPS (TAPS = ceil(KERNEL / STRIDE)) so it divides by constants; taps past
// taps_y or taps_x read a zero weight.
const uint TAPS = (KERNEL + STRIDE - 1) / STRIDE;
uint phase_y, phase_x;   // this workgroup's phase
uint rows, cols;         // pixels of the phase along y and x
uint first_ky, first_kx; // the first valid tap of the phase
uint taps_y, taps_x;     // valid taps along y and x

float input_at(uint b, uint c, int iy, int ix) {
    return 0.0; // unused: this direction gathers from the output grid
}
float load_a(uint m, uint k) {
    uint t = k % (TAPS * TAPS), ty = t / TAPS, tx = t % TAPS;
    if (ty >= taps_y || tx >= taps_x) return 0.0;
    uint ky = first_ky + ty * STRIDE, kx = first_kx + tx * STRIDE;
    return w[(((k / (TAPS * TAPS)) * g.c_in + m) * KERNEL + ky) * KERNEL + kx];
}
// A thread loads the same tile column n at every K step: its decomposition is kept.
uint memo_n = 0xffffffffu, memo_b, memo_iy, memo_ix;
void decompose(uint n) {
    if (n == memo_n) return;
    uint pixels = rows * cols, p = n % pixels;
    memo_n = n, memo_b = n / pixels;
    memo_iy = phase_y + (p / cols) * STRIDE, memo_ix = phase_x + (p % cols) * STRIDE;
}
float load_b(uint k, uint n) {
    uint t = k % (TAPS * TAPS), ty = t / TAPS, tx = t % TAPS;
    if (ty >= taps_y || tx >= taps_x) return 0.0;
    decompose(n);
    int oy = int(memo_iy + g.pad) - int(first_ky + ty * STRIDE);
    int ox = int(memo_ix + g.pad) - int(first_kx + tx * STRIDE);
    if (oy < 0 || ox < 0) return 0.0;
    oy /= int(STRIDE), ox /= int(STRIDE); // exact: the phase picks the taps
    if (uint(oy) >= g.h_out || uint(ox) >= g.w_out) return 0.0;
    uint co = k / (TAPS * TAPS);
    return dy[((memo_b * g.c_out + co) * g.h_out + uint(oy)) * g.w_out + uint(ox)];
}
void store_c(uint m, uint n, float v) {
    decompose(n);
    uint i = ((memo_b * g.c_in + m) * g.h_in + memo_iy) * g.w_in + memo_ix;
    if ((g.flags & GEMM_FLAG_BIAS) != 0u) v += bias[m];
    if ((g.flags & GEMM_FLAG_ACCUMULATE) != 0u) v += dx[i];
    dx[i] = v;
}
#include "gemm_tile.glsl"

void main() {
    uint s = STRIDE;
    phase_y = gl_WorkGroupID.z / s;
    phase_x = gl_WorkGroupID.z % s;
    rows = phase_y < g.h_in ? (g.h_in - phase_y + s - 1) / s : 0u;
    cols = phase_x < g.w_in ? (g.w_in - phase_x + s - 1) / s : 0u;
    first_ky = (phase_y + g.pad) % s;
    first_kx = (phase_x + g.pad) % s;
    taps_y = first_ky < KERNEL ? (KERNEL - first_ky + s - 1) / s : 0u;
    taps_x = first_kx < KERNEL ? (KERNEL - first_kx + s - 1) / s : 0u;
    uint N = g.batch * rows * cols;
    if (gl_WorkGroupID.x * BN >= N) return; // the whole workgroup leaves together
    if (taps_y * taps_x == 0u) {
        // no tap reaches these pixels: the gradient is zero (plus the bias)
        const uint threads = (BM / TM) * (BN / TN);
        for (uint e = gl_LocalInvocationIndex; e < BM * BN; e += threads) {
            uint m = gl_WorkGroupID.y * BM + e / BN, n = gl_WorkGroupID.x * BN + e % BN;
            if (m < g.c_in && n < N) store_c(m, n, 0.0);
        }
        return;
    }
    gemm_tile(g.c_in, N, g.c_out * TAPS * TAPS);
}
