#version 450
// FMA throughput microbenchmark: each thread runs 8 independent chains of `iterations` FMAs
// (16 flops per inner step per chain pair); the result is stored so nothing is optimised away.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(push_constant) uniform P { uint iterations; float seed; } p;

void main() {
    float a = p.seed + float(gl_LocalInvocationIndex) * 1e-7;
    float x0 = a, x1 = a + 1.0, x2 = a + 2.0, x3 = a + 3.0;
    float x4 = a + 4.0, x5 = a + 5.0, x6 = a + 6.0, x7 = a + 7.0;
    for (uint i = 0; i < p.iterations; i++) {
        x0 = fma(x0, 0.9999, 0.0001); x1 = fma(x1, 0.9999, 0.0001);
        x2 = fma(x2, 0.9999, 0.0001); x3 = fma(x3, 0.9999, 0.0001);
        x4 = fma(x4, 0.9999, 0.0001); x5 = fma(x5, 0.9999, 0.0001);
        x6 = fma(x6, 0.9999, 0.0001); x7 = fma(x7, 0.9999, 0.0001);
    }
    o[gl_GlobalInvocationID.x] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}
