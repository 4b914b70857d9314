// Geometry of a 2D convolution, shared by the three implicit-GEMM convolution shaders.
// "out" is the convolution's output grid, "in" its input grid (for a transposed convolution the
// host swaps the roles: its input is the "out" grid here). Weights are [c_out][c_in][k][k].
// Kernel size and stride are specialization constants, so the index arithmetic divides by
// constants (a multiply and shift) instead of by runtime values.
#include "gemm_contract.h"
layout(constant_id = SPEC_KERNEL) const uint KERNEL = 4;
layout(constant_id = SPEC_STRIDE) const uint STRIDE = 2;
layout(push_constant) uniform Geometry {
    uint batch;
    uint c_out, h_out, w_out;
    uint c_in, h_in, w_in;
    uint pad;
    uint flags; // GEMM_FLAG_BIAS: add bias[m]; GEMM_FLAG_ACCUMULATE: add what the output holds
} g;

float input_at(uint b, uint c, int y, int x);

// The input pixel under kernel tap (ky, kx) of output pixel (oy, ox), or 0 in the padding.
float tap(uint b, uint c, uint oy, uint ox, uint ky, uint kx) {
    int y = int(oy * STRIDE + ky) - int(g.pad);
    int x = int(ox * STRIDE + kx) - int(g.pad);
    if (y < 0 || x < 0 || y >= int(g.h_in) || x >= int(g.w_in)) return 0.0;
    return input_at(b, c, y, x);
}
