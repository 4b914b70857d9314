// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Minibatch standard deviation (Karras et al. 2018): x is [N, C, HW], F = C * HW features.
// s_f = sqrt(var_n(x[n, f]) + eps) (biased variance), m = mean_f s_f, and y = [x, m] with m as
// one more channel, constant over the batch and the map, so D can see the batch's diversity.
//   mode 0 (one workgroup): saved = [mean_f (F), s_f (F), m, -]
//   mode 1 (elementwise):   y[n, c, i] = c < C ? x[n, c, i] : m
//   mode 2 (one workgroup): saved[2F + 1] = dm = sum of dy over the extra channel
//   mode 3 (elementwise):   dx[n, f] = dy[n, f] + dm / F * (x[n, f] - mean_f) / (N s_f)
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; }; // y (mode 1) or dy (modes 2, 3)
layout(std430, binding = 2) buffer Saved { float saved[]; };
layout(std430, binding = 3) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint batch, channels, hw, mode;
    float eps;
} p;

void main() {
    uint tid = gl_LocalInvocationIndex, F = p.channels * p.hw, N = p.batch;
    uint stride = gl_NumWorkGroups.x * REDUCE_THREADS, first = gl_WorkGroupID.x * REDUCE_THREADS + tid;
    uint out_row = (p.channels + 1u) * p.hw;
    if (p.mode == 0u) {
        float total = 0.0;
        for (uint f = tid; f < F; f += REDUCE_THREADS) {
            float mean = 0.0;
            for (uint n = 0u; n < N; n++) mean += x[n * F + f];
            mean /= float(N);
            float v = 0.0;
            for (uint n = 0u; n < N; n++) {
                float d = x[n * F + f] - mean;
                v += d * d;
            }
            float s = sqrt(v / float(N) + p.eps);
            saved[f] = mean;
            saved[F + f] = s;
            total += s;
        }
        total = workgroup_sum(total);
        if (tid == 0u) saved[2u * F] = total / float(F);
    } else if (p.mode == 1u) {
        float m = saved[2u * F];
        for (uint i = first; i < N * out_row; i += stride) {
            uint n = i / out_row, j = i % out_row;
            y[i] = j < F ? x[n * F + j] : m;
        }
    } else if (p.mode == 2u) {
        float s = 0.0;
        for (uint i = tid; i < N * p.hw; i += REDUCE_THREADS)
            s += y[(i / p.hw) * out_row + F + i % p.hw];
        s = workgroup_sum(s);
        if (tid == 0u) saved[2u * F + 1u] = s;
    } else {
        float scale = saved[2u * F + 1u] / (float(F) * float(N));
        for (uint i = first; i < N * F; i += stride) {
            uint n = i / F, f = i % F;
            dx[i] = y[n * out_row + f] + scale * (x[i] - saved[f]) / saved[F + f];
        }
    }
}
