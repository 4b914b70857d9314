#version 450
// A schedule on the GPU: out[0] = start * max(0, 1 - counters[index] / steps), so a recorded
// step reads a level (e.g. the instance-noise sigma) that decays without host writes.
layout(local_size_x = 1) in;
layout(std430, binding = 0) readonly buffer Counter { uint counters[]; };
layout(std430, binding = 1) writeonly buffer Out { float level[]; };
layout(push_constant) uniform P {
    uint index;
    float start, steps;
} p;

void main() {
    level[0] = p.start * max(0.0, 1.0 - float(counters[p.index]) / p.steps);
}
