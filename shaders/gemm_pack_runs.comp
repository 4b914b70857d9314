#version 450
#extension GL_GOOGLE_include_directive : require
// Packs an operand of a packed GEMM exactly as gemm_pack.comp does (the same push constants and
// the same texels), for the layouts where the source floats an invocation needs lie in runs of 4
// consecutive ones: it reads the source as rgba32f texels, a run at any alignment from two
// fetches, where gemm_pack.comp makes a load per float (on lavapipe a storage-buffer load is a
// loop over the SIMD lanes, a texel read one gather). MODE (specialization constant 2):
//   PACK_X_RUNS     txs = 1 and TX a multiple of 4: a packed texel's 4 k are 4 consecutive x of
//                   one source row (im2col of a kernel 4 wide);
//   PACK_PLANE_RUNS each kc's plane is TY * TX contiguous floats, a multiple of 4, with no
//                   padding: so are a texel's 4 k (an activation as the weight gradient's operand);
//   PACK_ROW_X      rx = 1 and nc a multiple of 4: rows 4i..4i+3 read 4 consecutive x at every k
//                   (im2col's transpose: rows (c, ky, kx)); an invocation packs those 4 rows;
//   PACK_ROW_BASE   nrc = nc = 1 and sb = 1: rows 4i..4i+3 start at 4 consecutive floats (a
//                   transposed matrix); likewise;
//   PACK_ROW_X2     rx = 2 and nc a multiple of 4: rows 4i..4i+3 read every other float of 8
//                   consecutive ones at every k (the channels-last input of a convolution by
//                   taps of stride 2); likewise, from 3 fetches.
// Floats outside the source (padding, x < 0 at its start) are fetched clamped and replaced by 0.
#include "gemm_contract.h"
#include "texel_floats.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint MODE = PACK_X_RUNS;
layout(binding = 0, rgba32f) readonly uniform imageBuffer src;
DEFINE_FLOATS_AT(src)
layout(std430, binding = 1) writeonly buffer Dst { vec4 dst[]; };
layout(push_constant) uniform Pack {
    uint rows, K, KT;
    uint nrc, nc;
    uint TY, TX, vy, vx;
    int y0, x0, ry, rx, tys, txs;
    uint sb, sc, H, W;
} p;

const uint CHUNK = PACK_CHUNK;
const bool ROWS4 = MODE == PACK_ROW_X || MODE == PACK_ROW_BASE || MODE == PACK_ROW_X2;
const int ROW_DX = MODE == PACK_ROW_X ? 1 : MODE == PACK_ROW_X2 ? 2 : 0; // x from row to row

// Floats a, a + 2, a + 4 and a + 6 of the source.
vec4 every_other_at(int a) {
    int t = a >> 2, last = imageSize(src) - 1;
    vec4 lo = imageLoad(src, clamp(t, 0, last)), mid = imageLoad(src, clamp(t + 1, 0, last)),
         hi = imageLoad(src, clamp(t + 2, 0, last));
    int sh = a & 3;
    return sh == 0   ? vec4(lo.xz, mid.xz)
           : sh == 1 ? vec4(lo.yw, mid.yw)
           : sh == 2 ? vec4(lo.z, mid.xz, hi.x)
                     : vec4(lo.w, mid.yw, hi.y);
}

bool inside(int v, uint n) { return v >= 0 && v < int(n); }

void main() {
    uint row = gl_GlobalInvocationID.x * (ROWS4 ? 4u : 1u), t0 = gl_GlobalInvocationID.y * CHUNK;
    if (row >= p.rows || t0 >= p.KT) return;
    uint nb = row / p.nrc, rr = row % p.nrc;
    int by = p.y0 + int(rr / p.nc) * p.ry, bx = p.x0 + int(rr % p.nc) * p.rx;
    int base = int(nb * p.sb);
    uint k = t0 * 4u, tyx = p.TY * p.TX;
    uint kc = k / tyx, ty = (k / p.TX) % p.TY, tx = k % p.TX;
    if (MODE == PACK_PLANE_RUNS) ty = 0u, tx = k % tyx; // tx runs over the whole plane
    for (uint t = t0; t < min(t0 + CHUNK, p.KT); t++) {
        if (!ROWS4) { // one texel: 4 consecutive floats
            int y = by + int(ty) * p.tys, x = bx + int(tx);
            vec4 v = floats_at(src, base + int(kc * p.sc) + y * int(p.W) + x);
            bvec4 ok;
            for (uint j = 0u; j < 4u; j++)
                ok[j] = k + j < p.K &&
                        (MODE == PACK_PLANE_RUNS || (ty < p.vy && tx + j < p.vx && inside(y, p.H) &&
                                                     inside(x + int(j), p.W)));
            dst[row * p.KT + t] = mix(vec4(0.0), v, ok);
            k += 4u;
            tx += 4u; // both row and plane are whole texels
            if (tx == (MODE == PACK_PLANE_RUNS ? tyx : p.TX)) {
                tx = 0u;
                ty++;
                if (MODE == PACK_PLANE_RUNS || ty == p.TY) {
                    ty = 0u;
                    kc++;
                }
            }
            continue;
        }
        // 4 rows: v[c][i] is row + i's float at k + c
        vec4 v[4];
        for (uint c = 0u; c < 4u; c++, k++) {
            int y = by + int(ty) * p.tys, x = bx + int(tx) * p.txs;
            int a = base + int(kc * p.sc) + y * int(p.W) + x;
            vec4 r = MODE == PACK_ROW_X2 ? every_other_at(a) : floats_at(src, a);
            bool all_rows = k < p.K && ty < p.vy && tx < p.vx && inside(y, p.H);
            bvec4 ok;
            for (uint i = 0u; i < 4u; i++)
                ok[i] = all_rows && inside(x + ROW_DX * int(i), p.W);
            v[c] = mix(vec4(0.0), r, ok);
            tx++;
            if (tx == p.TX) {
                tx = 0u;
                ty++;
                if (ty == p.TY) {
                    ty = 0u;
                    kc++;
                }
            }
        }
        for (uint i = 0u; i < 4u; i++)
            if (row + i < p.rows) dst[(row + i) * p.KT + t] = vec4(v[0][i], v[1][i], v[2][i], v[3][i]);
    }
}
