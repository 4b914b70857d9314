#version 450
// counters[index] += delta, by one thread: the GPU advances its own step counter at the top of a
// recorded step, so the host never rewrites a value an in-flight step may still read.
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer Counter { uint counters[]; };
layout(push_constant) uniform P { uint index, delta; } p;

void main() {
    counters[p.index] += p.delta;
}
