#version 450
#extension GL_GOOGLE_include_directive : require
// The gradient of conv2d with respect to its input (also conv_transpose2d's forward pass) when
// the input has few channels (the host sends up to 4, an image's: D's first layer backward and
// G's last layer forward; with 32 vector registers up to 16, the narrow layers of the CPU-sized
// models too: src/nn/conv2d.c), for CPU devices.
// The GEMM there has few rows and every value of dy it reads is used once per row, so the
// packed path spends its time packing and the tiled kernels on index arithmetic and loads.
// Here an invocation computes 8 neighbouring pixels of one stride phase (workgroup z, as in
// conv2d_bwd_input.comp) for 4 input channels (workgroup y): per output channel and tap row it
// loads the 7 + TAPS values of dy those 8 pixels share, then TAPS weights per input channel, and
// adds TAPS * 8 products per input channel, with no division in the loop.
//   dx[b,ci,iy,ix] = bias[ci] + sum w[co,ci,ky,kx] * dy[b,co,oy,ox] over oy*s - p + ky = iy, ...
layout(local_size_x = 64) in;
// dy as rgba32f texels: a storage-buffer load is a loop over the SIMD lanes on lavapipe, and the
// row of dy each invocation reads is consecutive floats (docs/PERF.md)
layout(binding = 0, rgba32f) readonly uniform imageBuffer DY;
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
#include "conv_geometry.glsl"

const uint TAPS = (KERNEL + STRIDE - 1) / STRIDE; // taps of a phase along one axis, at most
const uint SPAN = THIN_SPAN;                       // pixels an invocation computes
const uint MAX_IN = THIN_CHANNELS;                 // input channels (from m0) computed
const uint ROW = SPAN + TAPS - 1u;                 // values of dy a tap row reads
const uint ROW_TEXELS = (ROW + 6u) / 4u;           // texels holding them at any alignment

void main() {
    uint s = STRIDE;
    uint phase_y = gl_WorkGroupID.z / s, phase_x = gl_WorkGroupID.z % s;
    uint rows = phase_y < g.h_in ? (g.h_in - phase_y + s - 1u) / s : 0u;
    uint cols = phase_x < g.w_in ? (g.w_in - phase_x + s - 1u) / s : 0u;
    uint spans = (cols + SPAN - 1u) / SPAN;
    uint id = gl_GlobalInvocationID.x;
    if (id >= g.batch * rows * spans) return;
    uint b = id / (rows * spans), r = (id / spans) % rows, c0 = (id % spans) * SPAN;
    // the phase's taps: ky = first_ky + STRIDE * ty for ty < taps_y (the same for the whole
    // workgroup), reaching dy row oy = r + base_y - ty
    uint first_ky = (phase_y + g.pad) % s, first_kx = (phase_x + g.pad) % s;
    uint taps_y = first_ky < KERNEL ? (KERNEL - first_ky + s - 1u) / s : 0u;
    uint taps_x = first_kx < KERNEL ? (KERNEL - first_kx + s - 1u) / s : 0u;
    int base_y = int((phase_y + g.pad - first_ky) / s) + int(r);
    int base_x = int((phase_x + g.pad - first_kx) / s) + int(c0) - int(TAPS - 1u);
    uint m0 = gl_WorkGroupID.y * MAX_IN; // the first of this workgroup's input channels
    float acc[MAX_IN][SPAN];
    for (uint m = 0u; m < MAX_IN; m++)
        for (uint j = 0u; j < SPAN; j++) acc[m][j] = 0.0;
    uint plane = g.h_out * g.w_out;
    for (uint co = 0u; co < g.c_out; co++) {
        uint from = (b * g.c_out + co) * plane;
        for (uint ty = 0u; ty < TAPS; ty++) {
            int oy = base_y - int(ty);
            if (ty >= taps_y) break;
            // dy[oy][base_x + e], e < SPAN + TAPS - 1: pixel j with tap tx reads e = j + TAPS-1-tx
            // value e is float o + e of dy: component (o & 3) + e of the texels from o >> 2 (a
            // floor division: o is negative in the padding); values outside dy's grid are 0
            float row[ROW], f[ROW_TEXELS * 4u];
            bool oy_ok = oy >= 0 && oy < int(g.h_out);
            int o = int(from) + oy * int(g.w_out) + base_x, last = imageSize(DY) - 1;
            for (uint t = 0u; t < ROW_TEXELS; t++) {
                vec4 v = imageLoad(DY, clamp((o >> 2) + int(t), 0, last));
                f[4u * t] = v.x, f[4u * t + 1u] = v.y, f[4u * t + 2u] = v.z, f[4u * t + 3u] = v.w;
            }
            uint sh = uint(o & 3);
            for (uint e = 0u; e < ROW; e++) {
                int ox = base_x + int(e);
                bool ok = oy_ok && ox >= 0 && ox < int(g.w_out);
                float v = sh == 0u ? f[e] : sh == 1u ? f[e + 1u] : sh == 2u ? f[e + 2u] : f[e + 3u];
                row[e] = ok ? v : 0.0;
            }
            uint ky = first_ky + ty * s;
            for (uint m = 0u; m < MAX_IN; m++) {
                if (m0 + m >= g.c_in) break;
                uint wrow = ((co * g.c_in + m0 + m) * KERNEL + ky) * KERNEL;
                for (uint tx = 0u; tx < TAPS; tx++) {
                    if (tx >= taps_x) break;
                    float wv = w[wrow + first_kx + tx * s];
                    for (uint j = 0u; j < SPAN; j++)
                        acc[m][j] = fma(wv, row[j + TAPS - 1u - tx], acc[m][j]);
                }
            }
        }
    }
    uint iy = phase_y + r * s;
    for (uint m = 0u; m < MAX_IN; m++) {
        if (m0 + m >= g.c_in) break;
        uint at = ((b * g.c_in + m0 + m) * g.h_in + iy) * g.w_in;
        for (uint j = 0u; j < SPAN; j++) {
            if (c0 + j >= cols) break;
            uint i = at + phase_x + (c0 + j) * s;
            float v = acc[m][j];
            if ((g.flags & GEMM_FLAG_BIAS) != 0u) v += bias[m0 + m];
            if ((g.flags & GEMM_FLAG_ACCUMULATE) != 0u) v += dx[i];
            dx[i] = v;
        }
    }
}
