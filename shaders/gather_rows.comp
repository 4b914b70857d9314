#version 450
#extension GL_GOOGLE_include_directive : require
// A batch of real examples drawn uniformly (with replacement) from the dataset on the GPU:
// out[b, :] = data[r(b), :], r(b) = philox((b, step, 0, 0), (seed, stream)).x mod rows.
#include "elementwise.glsl"
#include "philox.glsl"
layout(std430, binding = 0) readonly buffer Counter { uint counters[]; };
layout(std430, binding = 1) readonly buffer Data { float data[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };
layout(push_constant) uniform P {
    uint seed, stream, step_base, step_index, has_counter;
    uint rows, row, total;
} p;

void main() {
    uint step = p.step_base + (p.has_counter != 0u ? counters[p.step_index] : 0u);
    FOR_EACH_ELEMENT(i, p.total) {
        uint b = i / p.row;
        uint r = philox4x32(uvec4(b, step, 0u, 0u), uvec2(p.seed, p.stream)).x % p.rows;
        o[i] = data[r * p.row + i % p.row];
    }
}
