// The key of a random stream: Philox key (seed, stream), counter (element, step, 0, 0) where
// step = step_base + counter_buffer[step_index] when the flag has_counter is set. A recorded
// command buffer thus draws fresh numbers every step once the GPU advances its step counter.
layout(std430, binding = 0) readonly buffer Counter { uint counters[]; };
layout(push_constant) uniform Key {
    uint seed, stream, step_base, step_index, has_counter;
    uint count;
    float a, b; // kernel parameters (see each shader)
    uint mode;
    float c, d, e; // more kernel parameters
    uint first;    // elements before this process's share of a global batch (data-parallel ranks)
} key;

uint rng_step() {
    return key.step_base + (key.has_counter != 0u ? counters[key.step_index] : 0u);
}
uvec4 rng_bits(uint element, uint step) {
    return philox4x32(uvec4(key.first + element, step, 0u, 0u), uvec2(key.seed, key.stream));
}
