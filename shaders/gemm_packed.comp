#version 450
#extension GL_GOOGLE_include_directive : require
// Packed GEMM for CPU devices: C[m, n] = sum_k A[m][k] * B[n][k], both operands packed by
// shaders/gemm_pack.comp with k contiguous and zero-padded to KT texels (a multiple of 2), read
// as rgba32f texel buffers. On lavapipe a texel fetch is a branch-free vectorised gather while a
// storage-buffer load is a per-lane loop with a bounds check (docs/PERF.md), so this reads both
// operands through texels. Each invocation keeps an 8 x 8 block of C in registers and advances K
// by 8 (two texels of each of its 8 rows of A and 8 rows of B, 512 FMAs) per loop iteration, with
// no conditionals inside the loop: padded k read zeros, out-of-range rows are clamped on load and
// skipped on store. Invocations along x take neighbouring 8-column blocks (lanes of one SIMD
// vector share the A rows); workgroup y is the 8-row block.
// With act > 0 the activation act - 1 (shaders/activation.glsl) is applied to each output as it
// is stored, after the bias: a layer and the activation after it in one pass.
// The output index is m * csm + (n / d1) * cs1 + ((n % d1) / d2) * cs2 + (n % d2) * cs3 + offset,
// which covers a row-major matrix, an NCHW convolution output and one stride phase of a
// transposed convolution's output.
#include "activation.glsl"
#include "gemm_contract.h"
layout(local_size_x = 64) in;
layout(binding = 0) uniform samplerBuffer A;
layout(binding = 1) uniform samplerBuffer B;
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer C { float c[]; };
layout(push_constant) uniform Shape {
    uint M, N, KT;
    uint flags; // PACKED_FLAG_BIAS_M, PACKED_FLAG_ACCUMULATE, PACKED_FLAG_BIAS_N
    uint bias_div;
    uint csm, d1, d2, cs1, cs2, cs3, offset;
    uint act; // 0: none; else 1 + the activation's kind
    float slope;
} p;

// The output index without its row term, and the column's bias, for the block's 8 columns:
// computed once, not once per row (the divisions are scalar on a CPU device).
uint column[8];
float column_bias[8];
void columns(uint n0) {
    for (uint j = 0u; j < 8u; j++) {
        uint n = min(n0 + j, p.N - 1u);
        column[j] = (n / p.d1) * p.cs1 + ((n % p.d1) / p.d2) * p.cs2 + (n % p.d2) * p.cs3 + p.offset;
        column_bias[j] = (p.flags & PACKED_FLAG_BIAS_N) != 0u ? bias[n / p.bias_div] : 0.0;
    }
}

// Row m of the block: columns n0 .. n0 + 3 from lo, n0 + 4 .. n0 + 7 from hi.
void store(uint m, uint n0, vec4 lo, vec4 hi) {
    if (m >= p.M) return;
    uint row = m * p.csm;
    float row_bias = (p.flags & PACKED_FLAG_BIAS_M) != 0u ? bias[m / p.bias_div] : 0.0;
    for (uint j = 0u; j < 8u; j++) {
        if (n0 + j >= p.N) return;
        float v = j < 4u ? lo[j] : hi[j - 4u];
        uint i = row + column[j];
        if ((p.flags & PACKED_FLAG_BIAS_M) != 0u) v += row_bias;
        if ((p.flags & PACKED_FLAG_BIAS_N) != 0u) v += column_bias[j];
        if ((p.flags & PACKED_FLAG_ACCUMULATE) != 0u) v += c[i];
        if (p.act != 0u) v = activate(v, p.act - 1u, p.slope);
        c[i] = v;
    }
}

void main() {
    uint n0 = gl_GlobalInvocationID.x * 8u, m0 = gl_WorkGroupID.y * 8u;
    if (n0 >= p.N) return;
    int ra0 = int(min(m0 + 0u, p.M - 1u) * p.KT), rb0 = int(min(n0 + 0u, p.N - 1u) * p.KT);
    int ra1 = int(min(m0 + 1u, p.M - 1u) * p.KT), rb1 = int(min(n0 + 1u, p.N - 1u) * p.KT);
    int ra2 = int(min(m0 + 2u, p.M - 1u) * p.KT), rb2 = int(min(n0 + 2u, p.N - 1u) * p.KT);
    int ra3 = int(min(m0 + 3u, p.M - 1u) * p.KT), rb3 = int(min(n0 + 3u, p.N - 1u) * p.KT);
    int ra4 = int(min(m0 + 4u, p.M - 1u) * p.KT), rb4 = int(min(n0 + 4u, p.N - 1u) * p.KT);
    int ra5 = int(min(m0 + 5u, p.M - 1u) * p.KT), rb5 = int(min(n0 + 5u, p.N - 1u) * p.KT);
    int ra6 = int(min(m0 + 6u, p.M - 1u) * p.KT), rb6 = int(min(n0 + 6u, p.N - 1u) * p.KT);
    int ra7 = int(min(m0 + 7u, p.M - 1u) * p.KT), rb7 = int(min(n0 + 7u, p.N - 1u) * p.KT);
    vec4 c0l = vec4(0.0), c0h = vec4(0.0);
    vec4 c1l = vec4(0.0), c1h = vec4(0.0);
    vec4 c2l = vec4(0.0), c2h = vec4(0.0);
    vec4 c3l = vec4(0.0), c3h = vec4(0.0);
    vec4 c4l = vec4(0.0), c4h = vec4(0.0);
    vec4 c5l = vec4(0.0), c5h = vec4(0.0);
    vec4 c6l = vec4(0.0), c6h = vec4(0.0);
    vec4 c7l = vec4(0.0), c7h = vec4(0.0);
    for (int t = 0; t < int(p.KT); t += 2) {
        vec4 a00 = texelFetch(A, ra0 + t + 0), b00 = texelFetch(B, rb0 + t + 0);
        vec4 a10 = texelFetch(A, ra1 + t + 0), b10 = texelFetch(B, rb1 + t + 0);
        vec4 a20 = texelFetch(A, ra2 + t + 0), b20 = texelFetch(B, rb2 + t + 0);
        vec4 a30 = texelFetch(A, ra3 + t + 0), b30 = texelFetch(B, rb3 + t + 0);
        vec4 a40 = texelFetch(A, ra4 + t + 0), b40 = texelFetch(B, rb4 + t + 0);
        vec4 a50 = texelFetch(A, ra5 + t + 0), b50 = texelFetch(B, rb5 + t + 0);
        vec4 a60 = texelFetch(A, ra6 + t + 0), b60 = texelFetch(B, rb6 + t + 0);
        vec4 a70 = texelFetch(A, ra7 + t + 0), b70 = texelFetch(B, rb7 + t + 0);
        vec4 a01 = texelFetch(A, ra0 + t + 1), b01 = texelFetch(B, rb0 + t + 1);
        vec4 a11 = texelFetch(A, ra1 + t + 1), b11 = texelFetch(B, rb1 + t + 1);
        vec4 a21 = texelFetch(A, ra2 + t + 1), b21 = texelFetch(B, rb2 + t + 1);
        vec4 a31 = texelFetch(A, ra3 + t + 1), b31 = texelFetch(B, rb3 + t + 1);
        vec4 a41 = texelFetch(A, ra4 + t + 1), b41 = texelFetch(B, rb4 + t + 1);
        vec4 a51 = texelFetch(A, ra5 + t + 1), b51 = texelFetch(B, rb5 + t + 1);
        vec4 a61 = texelFetch(A, ra6 + t + 1), b61 = texelFetch(B, rb6 + t + 1);
        vec4 a71 = texelFetch(A, ra7 + t + 1), b71 = texelFetch(B, rb7 + t + 1);
        { // k step x of texel 0
            vec4 bl = vec4(b00.x, b10.x, b20.x, b30.x);
            vec4 bh = vec4(b40.x, b50.x, b60.x, b70.x);
            c0l = fma(vec4(a00.x), bl, c0l); c0h = fma(vec4(a00.x), bh, c0h);
            c1l = fma(vec4(a10.x), bl, c1l); c1h = fma(vec4(a10.x), bh, c1h);
            c2l = fma(vec4(a20.x), bl, c2l); c2h = fma(vec4(a20.x), bh, c2h);
            c3l = fma(vec4(a30.x), bl, c3l); c3h = fma(vec4(a30.x), bh, c3h);
            c4l = fma(vec4(a40.x), bl, c4l); c4h = fma(vec4(a40.x), bh, c4h);
            c5l = fma(vec4(a50.x), bl, c5l); c5h = fma(vec4(a50.x), bh, c5h);
            c6l = fma(vec4(a60.x), bl, c6l); c6h = fma(vec4(a60.x), bh, c6h);
            c7l = fma(vec4(a70.x), bl, c7l); c7h = fma(vec4(a70.x), bh, c7h);
        }
        { // k step y of texel 0
            vec4 bl = vec4(b00.y, b10.y, b20.y, b30.y);
            vec4 bh = vec4(b40.y, b50.y, b60.y, b70.y);
            c0l = fma(vec4(a00.y), bl, c0l); c0h = fma(vec4(a00.y), bh, c0h);
            c1l = fma(vec4(a10.y), bl, c1l); c1h = fma(vec4(a10.y), bh, c1h);
            c2l = fma(vec4(a20.y), bl, c2l); c2h = fma(vec4(a20.y), bh, c2h);
            c3l = fma(vec4(a30.y), bl, c3l); c3h = fma(vec4(a30.y), bh, c3h);
            c4l = fma(vec4(a40.y), bl, c4l); c4h = fma(vec4(a40.y), bh, c4h);
            c5l = fma(vec4(a50.y), bl, c5l); c5h = fma(vec4(a50.y), bh, c5h);
            c6l = fma(vec4(a60.y), bl, c6l); c6h = fma(vec4(a60.y), bh, c6h);
            c7l = fma(vec4(a70.y), bl, c7l); c7h = fma(vec4(a70.y), bh, c7h);
        }
        { // k step z of texel 0
            vec4 bl = vec4(b00.z, b10.z, b20.z, b30.z);
            vec4 bh = vec4(b40.z, b50.z, b60.z, b70.z);
            c0l = fma(vec4(a00.z), bl, c0l); c0h = fma(vec4(a00.z), bh, c0h);
            c1l = fma(vec4(a10.z), bl, c1l); c1h = fma(vec4(a10.z), bh, c1h);
            c2l = fma(vec4(a20.z), bl, c2l); c2h = fma(vec4(a20.z), bh, c2h);
            c3l = fma(vec4(a30.z), bl, c3l); c3h = fma(vec4(a30.z), bh, c3h);
            c4l = fma(vec4(a40.z), bl, c4l); c4h = fma(vec4(a40.z), bh, c4h);
            c5l = fma(vec4(a50.z), bl, c5l); c5h = fma(vec4(a50.z), bh, c5h);
            c6l = fma(vec4(a60.z), bl, c6l); c6h = fma(vec4(a60.z), bh, c6h);
            c7l = fma(vec4(a70.z), bl, c7l); c7h = fma(vec4(a70.z), bh, c7h);
        }
        { // k step w of texel 0
            vec4 bl = vec4(b00.w, b10.w, b20.w, b30.w);
            vec4 bh = vec4(b40.w, b50.w, b60.w, b70.w);
            c0l = fma(vec4(a00.w), bl, c0l); c0h = fma(vec4(a00.w), bh, c0h);
            c1l = fma(vec4(a10.w), bl, c1l); c1h = fma(vec4(a10.w), bh, c1h);
            c2l = fma(vec4(a20.w), bl, c2l); c2h = fma(vec4(a20.w), bh, c2h);
            c3l = fma(vec4(a30.w), bl, c3l); c3h = fma(vec4(a30.w), bh, c3h);
            c4l = fma(vec4(a40.w), bl, c4l); c4h = fma(vec4(a40.w), bh, c4h);
            c5l = fma(vec4(a50.w), bl, c5l); c5h = fma(vec4(a50.w), bh, c5h);
            c6l = fma(vec4(a60.w), bl, c6l); c6h = fma(vec4(a60.w), bh, c6h);
            c7l = fma(vec4(a70.w), bl, c7l); c7h = fma(vec4(a70.w), bh, c7h);
        }
        { // k step x of texel 1
            vec4 bl = vec4(b01.x, b11.x, b21.x, b31.x);
            vec4 bh = vec4(b41.x, b51.x, b61.x, b71.x);
            c0l = fma(vec4(a01.x), bl, c0l); c0h = fma(vec4(a01.x), bh, c0h);
            c1l = fma(vec4(a11.x), bl, c1l); c1h = fma(vec4(a11.x), bh, c1h);
            c2l = fma(vec4(a21.x), bl, c2l); c2h = fma(vec4(a21.x), bh, c2h);
            c3l = fma(vec4(a31.x), bl, c3l); c3h = fma(vec4(a31.x), bh, c3h);
            c4l = fma(vec4(a41.x), bl, c4l); c4h = fma(vec4(a41.x), bh, c4h);
            c5l = fma(vec4(a51.x), bl, c5l); c5h = fma(vec4(a51.x), bh, c5h);
            c6l = fma(vec4(a61.x), bl, c6l); c6h = fma(vec4(a61.x), bh, c6h);
            c7l = fma(vec4(a71.x), bl, c7l); c7h = fma(vec4(a71.x), bh, c7h);
        }
        { // k step y of texel 1
            vec4 bl = vec4(b01.y, b11.y, b21.y, b31.y);
            vec4 bh = vec4(b41.y, b51.y, b61.y, b71.y);
            c0l = fma(vec4(a01.y), bl, c0l); c0h = fma(vec4(a01.y), bh, c0h);
            c1l = fma(vec4(a11.y), bl, c1l); c1h = fma(vec4(a11.y), bh, c1h);
            c2l = fma(vec4(a21.y), bl, c2l); c2h = fma(vec4(a21.y), bh, c2h);
            c3l = fma(vec4(a31.y), bl, c3l); c3h = fma(vec4(a31.y), bh, c3h);
            c4l = fma(vec4(a41.y), bl, c4l); c4h = fma(vec4(a41.y), bh, c4h);
            c5l = fma(vec4(a51.y), bl, c5l); c5h = fma(vec4(a51.y), bh, c5h);
            c6l = fma(vec4(a61.y), bl, c6l); c6h = fma(vec4(a61.y), bh, c6h);
            c7l = fma(vec4(a71.y), bl, c7l); c7h = fma(vec4(a71.y), bh, c7h);
        }
        { // k step z of texel 1
            vec4 bl = vec4(b01.z, b11.z, b21.z, b31.z);
            vec4 bh = vec4(b41.z, b51.z, b61.z, b71.z);
            c0l = fma(vec4(a01.z), bl, c0l); c0h = fma(vec4(a01.z), bh, c0h);
            c1l = fma(vec4(a11.z), bl, c1l); c1h = fma(vec4(a11.z), bh, c1h);
            c2l = fma(vec4(a21.z), bl, c2l); c2h = fma(vec4(a21.z), bh, c2h);
            c3l = fma(vec4(a31.z), bl, c3l); c3h = fma(vec4(a31.z), bh, c3h);
            c4l = fma(vec4(a41.z), bl, c4l); c4h = fma(vec4(a41.z), bh, c4h);
            c5l = fma(vec4(a51.z), bl, c5l); c5h = fma(vec4(a51.z), bh, c5h);
            c6l = fma(vec4(a61.z), bl, c6l); c6h = fma(vec4(a61.z), bh, c6h);
            c7l = fma(vec4(a71.z), bl, c7l); c7h = fma(vec4(a71.z), bh, c7h);
        }
        { // k step w of texel 1
            vec4 bl = vec4(b01.w, b11.w, b21.w, b31.w);
            vec4 bh = vec4(b41.w, b51.w, b61.w, b71.w);
            c0l = fma(vec4(a01.w), bl, c0l); c0h = fma(vec4(a01.w), bh, c0h);
            c1l = fma(vec4(a11.w), bl, c1l); c1h = fma(vec4(a11.w), bh, c1h);
            c2l = fma(vec4(a21.w), bl, c2l); c2h = fma(vec4(a21.w), bh, c2h);
            c3l = fma(vec4(a31.w), bl, c3l); c3h = fma(vec4(a31.w), bh, c3h);
            c4l = fma(vec4(a41.w), bl, c4l); c4h = fma(vec4(a41.w), bh, c4h);
            c5l = fma(vec4(a51.w), bl, c5l); c5h = fma(vec4(a51.w), bh, c5h);
            c6l = fma(vec4(a61.w), bl, c6l); c6h = fma(vec4(a61.w), bh, c6h);
            c7l = fma(vec4(a71.w), bl, c7l); c7h = fma(vec4(a71.w), bh, c7h);
        }
    }
    columns(n0);
    store(m0 + 0u, n0, c0l, c0h);
    store(m0 + 1u, n0, c1l, c1h);
    store(m0 + 2u, n0, c2l, c2h);
    store(m0 + 3u, n0, c3l, c3h);
    store(m0 + 4u, n0, c4l, c4h);
    store(m0 + 5u, n0, c5l, c5h);
    store(m0 + 6u, n0, c6l, c6h);
    store(m0 + 7u, n0, c7l, c7h);
}
