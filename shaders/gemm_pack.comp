#version 450
#extension GL_GOOGLE_include_directive : require
// Packs one operand of a packed GEMM (shaders/gemm_packed.comp): P[row][k], k contiguous, K
// zero-padded to KT * 4, written as rgba32f texels. One formula covers every
// operand of the convolutions (im2col of the input, the weights, the phase-split transposed
// direction, the weight gradient's operands) and of the strided dense GEMMs:
//   row = (nb, nr, nc)  with nb = row / nrc, nr = (row % nrc) / nc, nc = row % nc
//   k   = (kc, ty, tx)  with kc = k / (TY * TX), ty = (k / TX) % TY, tx = k % TX
//   y = y0 + nr * ry + ty * tys,  x = x0 + nc * rx + tx * txs
//   P[row][k] = src[nb * sb + kc * sc + y * W + x]  if k < K, ty < vy, tx < vx and (y, x) is
//               inside the H x W grid; else 0 (the padding, and taps a stride phase skips).
// An invocation packs CHUNK texels of one row, stepping (kc, ty, tx) without divisions. A
// workgroup is 64 invocations, LX rows by 64 / LX chunks (LX a specialization constant: the
// operand's row count rounded up to 8, 16, 32 or 64), so an operand of few rows leaves few lanes
// idle and its long rows are split into chunks across the rest.
#include "gemm_contract.h"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { vec4 dst[]; };
layout(push_constant) uniform Pack {
    uint rows, K, KT;
    uint nrc, nc;
    uint TY, TX, vy, vx;
    int y0, x0, ry, rx, tys, txs;
    uint sb, sc, H, W;
} p;

const uint CHUNK = PACK_CHUNK;

void main() {
    uint row = gl_GlobalInvocationID.x, t0 = gl_GlobalInvocationID.y * CHUNK;
    if (row >= p.rows || t0 >= p.KT) return;
    uint nb = row / p.nrc, rr = row % p.nrc;
    int by = p.y0 + int(rr / p.nc) * p.ry, bx = p.x0 + int(rr % p.nc) * p.rx;
    uint base = nb * p.sb;
    uint k = t0 * 4u, tyx = p.TY * p.TX;
    uint kc = k / tyx, ty = (k / p.TX) % p.TY, tx = k % p.TX;
    for (uint t = t0; t < min(t0 + CHUNK, p.KT); t++) {
        vec4 v;
        for (uint c = 0; c < 4u; c++, k++) {
            int y = by + int(ty) * p.tys, x = bx + int(tx) * p.txs;
            bool ok = k < p.K && ty < p.vy && tx < p.vx && y >= 0 && x >= 0 && y < int(p.H) &&
                      x < int(p.W);
            // the load is unconditional (index 0 when outside) so lanes do not diverge
            float s = src[ok ? base + kc * p.sc + uint(y) * p.W + uint(x) : 0u];
            v[c] = ok ? s : 0.0;
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
        dst[row * p.KT + t] = v;
    }
}
