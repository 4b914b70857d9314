#version 450
#extension GL_GOOGLE_include_directive : require
// A training batch in shuffled-epoch order: example b of step s is sample g = s * batch + b of
// the stream; epoch g / rows, position g % rows, row permute(position, seed, epoch). Every row is
// seen once per epoch and the order follows from the step alone (exact resume, no stored order).
// One workgroup per example. Data in uint8 (0..255, scaled to [-1, 1]) or float, in one range
// or, for datasets larger than one binding may be, two: rows from `split` on are in the second.
#include "philox.glsl"
#include "permute.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Counter { uint counters[]; };
layout(std430, binding = 1) readonly buffer Data { uint words[]; }; // bytes, or float bits
layout(std430, binding = 2) writeonly buffer Out { float o[]; };
layout(std430, binding = 3) readonly buffer Data2 { uint words2[]; };
layout(push_constant) uniform P {
    uint seed, step_base, step_index, has_counter;
    uint rows, row, is_u8, split;
    uint total, first; // data-parallel ranks: the global batch, the examples before this share
} p;

uint word(uint w, bool second) {
    return second ? words2[w] : words[w];
}

void main() {
    uint b = gl_WorkGroupID.x;
    uint step = p.step_base + (p.has_counter != 0u ? counters[p.step_index] : 0u);
    uint g = step * p.total + p.first + b;
    uint r = permute_index(g % p.rows, p.rows, p.seed, g / p.rows);
    bool second = r >= p.split;
    if (second) r -= p.split;
    for (uint i = gl_LocalInvocationIndex; i < p.row; i += 64u) {
        uint e = r * p.row + i;
        float v = p.is_u8 != 0u ? float((word(e >> 2, second) >> ((e & 3u) * 8u)) & 255u) / 127.5 - 1.0
                                : uintBitsToFloat(word(e, second));
        o[b * p.row + i] = v;
    }
}
