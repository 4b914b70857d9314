#version 450
// The scalars of a training step into a host-visible ring: slot = step % slots holds
// [loss D real, D(x), loss D fake, D(G(z)), loss G, D(G(z)) after D's update, step, 0], so the
// host reads a finished step's values in place while later steps run.
layout(local_size_x = 1) in;
layout(std430, binding = 0) readonly buffer Counter { uint counters[]; };
layout(std430, binding = 1) readonly buffer L0 { float d_real[]; };
layout(std430, binding = 2) readonly buffer L1 { float d_fake[]; };
layout(std430, binding = 3) readonly buffer L2 { float g[]; };
layout(std430, binding = 4) writeonly buffer Ring { float ring[]; };
layout(push_constant) uniform P {
    uint index, slots;
} p;

void main() {
    uint step = counters[p.index], at = (step % p.slots) * 8u;
    ring[at] = d_real[0];
    ring[at + 1u] = d_real[1];
    ring[at + 2u] = d_fake[0];
    ring[at + 3u] = d_fake[1];
    ring[at + 4u] = g[0];
    ring[at + 5u] = g[1];
    ring[at + 6u] = uintBitsToFloat(step);
    ring[at + 7u] = 0.0;
}
