// The body of the packed GEMM for CPU devices (gemm_packed.comp: 8 columns an invocation;
// gemm_packed_n4.comp: 4; the includer declares the bindings and COLS):
// C[m, n] = sum_k A[m][k] * B[n][k], both operands packed by shaders/gemm_pack.comp with k
// contiguous and zero-padded to KT whole texels, read as rgba32f texel buffers. On lavapipe a
// texel read is a branch-free vectorised gather while a storage-buffer load is a per-lane loop
// with a bounds check (docs/PERF.md), so this reads both operands through texels: as image
// buffers (imageLoad), which gallivm inlines, not sampler buffers (texelFetch), whose fetches of
// any format but 8-bit RGBA it compiles as calls, spilling every accumulator around each. Each
// invocation keeps an 8 x COLS block of C in registers and advances K by 8 (two texels of each of
// its 8 rows of A and COLS rows of B, 64 * COLS FMAs) per loop iteration (an
// odd KT's last texel after the loop), with no conditionals inside the loop: padded k read
// zeros, out-of-range rows are clamped on load and skipped on store. Each texel's 16 fetches
// come just before its 4 k-steps, not all 32 at the top of the loop: with every fetched value
// live at once the block spilled far more, and the GEMMs took 1.5x as long (docs/PERF.md).
// 64 accumulators fit 32 vector registers (AVX-512); with 16 (AVX2) the host takes COLS 4
// (src/nn/gemm.c), whose 32 spill less (docs/PERF.md).
// Invocations along x take neighbouring COLS-column blocks (lanes of one SIMD vector share the A
// rows); workgroup y is the 8-row block.
// With ACT > 0 the activation ACT - 1 (shaders/activation.glsl) is applied to each output as it
// is stored, after the bias: a layer and the activation after it in one pass. The flags and the
// activation are specialization constants, not push constants: on lavapipe a branch on a push
// constant still runs its storage-buffer loads as masked loops over the lanes, so a GEMM with
// a short K (a weight gradient over a small batch) spent most of its time in the accumulate and
// bias loads it did not use (docs/PERF.md).
// The output index is m * csm + (n / d1) * cs1 + ((n % d1) / d2) * cs2 + (n % d2) * cs3 + offset,
// which covers a row-major matrix, an NCHW convolution output and one stride phase of a
// transposed convolution's output.
// Row n of B is texel row (n / b_nrc) * b_img + ((n % b_nrc) / b_nc) * b_row + n % b_nc + b_off
// of its buffer: row n itself for b_nrc = b_nc = N, b_img = b_row = b_off = 0, or a window of a
// larger packed grid, so that the stride phases of a transposed convolution read one packing of
// their input, each at its own offset (src/nn/conv2d.c).
// K comes in `taps` segments of KT texels: A's row m holds them one after another, and segment
// (ty, tx) = (tap / tap_w, tap % tap_w) reads B's rows ty * tap_row + tx further on. A
// convolution so reads its input packed once, channels-last, instead of once per kernel tap
// (im2col): B's rows are the input's pixels and each tap a shift of them (src/nn/conv2d.c).
#include "activation.glsl"
#include "gemm_contract.h"
layout(constant_id = 0) const uint FLAGS = 0u; // PACKED_FLAG_BIAS_M, _ACCUMULATE, _BIAS_N
layout(constant_id = 1) const uint ACT = 0u;   // 0: none; else 1 + the activation's kind
layout(push_constant) uniform Shape {
    uint M, N, KT;
    uint bias_div;
    uint csm, d1, d2, cs1, cs2, cs3, offset;
    float slope;
    uint b_nrc, b_nc, b_img, b_row, b_off;
    uint taps, tap_w, tap_row;
} p;

// The output index without its row term, and the column's bias, for the block's columns:
// computed once, not once per row (the divisions are scalar on a CPU device).
uint column[8];
float column_bias[8];
void columns(uint n0) {
    for (uint j = 0u; j < COLS; j++) {
        uint n = min(n0 + j, p.N - 1u);
        column[j] = (n / p.d1) * p.cs1 + ((n % p.d1) / p.d2) * p.cs2 + (n % p.d2) * p.cs3 + p.offset;
        column_bias[j] = (FLAGS & PACKED_FLAG_BIAS_N) != 0u ? bias[n / p.bias_div] : 0.0;
    }
}

// Row m of the block: columns n0 .. n0 + 3 from lo, n0 + 4 .. n0 + 7 from hi (COLS 8).
void store(uint m, uint n0, vec4 lo, vec4 hi) {
    if (m >= p.M) return;
    uint row = m * p.csm;
    float row_bias = (FLAGS & PACKED_FLAG_BIAS_M) != 0u ? bias[m / p.bias_div] : 0.0;
    for (uint j = 0u; j < COLS; j++) {
        if (n0 + j >= p.N) return;
        float v = j < 4u ? lo[j] : hi[j - 4u];
        uint i = row + column[j];
        if ((FLAGS & PACKED_FLAG_BIAS_M) != 0u) v += row_bias;
        if ((FLAGS & PACKED_FLAG_BIAS_N) != 0u) v += column_bias[j];
        if ((FLAGS & PACKED_FLAG_ACCUMULATE) != 0u) v += c[i];
        if (ACT != 0u) v = activate(v, ACT - 1u, p.slope);
        c[i] = v;
    }
}

// One k-step: component s of the fetched texels, c{r}{l,h} += a{r}.s * (b{0..3}.s, b{4..7}.s).
#if COLS == 8
#define ROW(r, s) c##r##l = fma(vec4(a##r.s), bl, c##r##l); c##r##h = fma(vec4(a##r.s), bh, c##r##h);
#define B_HIGH(s) vec4 bh = vec4(b4.s, b5.s, b6.s, b7.s);
#define AB(r, ua, ub) vec4 a##r = imageLoad(A, ra##r + ua), b##r = imageLoad(B, rb##r + ub);
#else
#define ROW(r, s) c##r##l = fma(vec4(a##r.s), bl, c##r##l);
#define B_HIGH(s)
#define AB(r, ua, ub) vec4 a##r = imageLoad(A, ra##r + ua);
#endif
#define KSTEP(s) { \
        vec4 bl = vec4(b0.s, b1.s, b2.s, b3.s); B_HIGH(s) \
        ROW(0, s) ROW(1, s) ROW(2, s) ROW(3, s) ROW(4, s) ROW(5, s) ROW(6, s) ROW(7, s) }
// Texel ua of the block's rows of A and ub of B's, then its four k-steps in k order.
#define TEXEL(ua, ub) { \
        vec4 a0 = imageLoad(A, ra0 + ua), b0 = imageLoad(B, rb0 + ub); \
        vec4 a1 = imageLoad(A, ra1 + ua), b1 = imageLoad(B, rb1 + ub); \
        vec4 a2 = imageLoad(A, ra2 + ua), b2 = imageLoad(B, rb2 + ub); \
        vec4 a3 = imageLoad(A, ra3 + ua), b3 = imageLoad(B, rb3 + ub); \
        AB(4, ua, ub) AB(5, ua, ub) AB(6, ua, ub) AB(7, ua, ub) \
        KSTEP(x) KSTEP(y) KSTEP(z) KSTEP(w) }

// The first texel of B's row n (n clamped to the last row).
int b_row(uint n) {
    n = min(n, p.N - 1u);
    return int(((n / p.b_nrc) * p.b_img + ((n % p.b_nrc) / p.b_nc) * p.b_row + n % p.b_nc +
                p.b_off) * p.KT);
}

void main() {
    uint n0 = gl_GlobalInvocationID.x * COLS, m0 = gl_WorkGroupID.y * 8u;
    if (n0 >= p.N) return;
    uint row_a = p.taps * p.KT; // texels of a row of A
    int ra0 = int(min(m0 + 0u, p.M - 1u) * row_a), rb0 = b_row(n0 + 0u);
    int ra1 = int(min(m0 + 1u, p.M - 1u) * row_a), rb1 = b_row(n0 + 1u);
    int ra2 = int(min(m0 + 2u, p.M - 1u) * row_a), rb2 = b_row(n0 + 2u);
    int ra3 = int(min(m0 + 3u, p.M - 1u) * row_a), rb3 = b_row(n0 + 3u);
    int ra4 = int(min(m0 + 4u, p.M - 1u) * row_a), rb4 = b_row(n0 + 4u);
    int ra5 = int(min(m0 + 5u, p.M - 1u) * row_a), rb5 = b_row(n0 + 5u);
    int ra6 = int(min(m0 + 6u, p.M - 1u) * row_a), rb6 = b_row(n0 + 6u);
    int ra7 = int(min(m0 + 7u, p.M - 1u) * row_a), rb7 = b_row(n0 + 7u);
    vec4 c0l = vec4(0.0), c0h = vec4(0.0);
    vec4 c1l = vec4(0.0), c1h = vec4(0.0);
    vec4 c2l = vec4(0.0), c2h = vec4(0.0);
    vec4 c3l = vec4(0.0), c3h = vec4(0.0);
    vec4 c4l = vec4(0.0), c4h = vec4(0.0);
    vec4 c5l = vec4(0.0), c5h = vec4(0.0);
    vec4 c6l = vec4(0.0), c6h = vec4(0.0);
    vec4 c7l = vec4(0.0), c7h = vec4(0.0);
    int pairs = int(p.KT & ~1u), last = int(p.KT) - 1;
    for (uint tap = 0u; tap < p.taps; tap++) {
        int at = int(tap * p.KT), bt = int(((tap / p.tap_w) * p.tap_row + tap % p.tap_w) * p.KT);
        for (int t = 0; t < pairs; t += 2) {
            TEXEL(at + t, bt + t)
            TEXEL(at + t + 1, bt + t + 1)
        }
        if ((p.KT & 1u) != 0u) TEXEL(at + last, bt + last)
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
