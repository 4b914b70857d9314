#version 450
// FMA throughput microbenchmark. Each thread runs CHAINS independent FMA chains, each step of the
// loop unrolled UNROLL times, so the FMA latency (4 cycles on x86, 2 issue ports) is hidden and
// the loop's exec-mask bookkeeping (lavapipe) is amortised. On lavapipe 8 chains without
// unrolling reach well under half of what 16 chains unrolled 4x do; 32 chains or 8x unrolling
// add nothing (docs/PERF.md). Flops per thread: iterations * CHAINS * UNROLL * 2. The result is
// stored so nothing is optimised away.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(push_constant) uniform P { uint iterations; float seed; } p;

#define CHAINS 16
#define UNROLL 4

void main() {
    float a = p.seed + float(gl_LocalInvocationIndex) * 1e-7;
    float x[CHAINS];
    for (int c = 0; c < CHAINS; c++) x[c] = a + float(c);
    for (uint i = 0; i < p.iterations; i++) {
        // constant trip counts: both inner loops are fully unrolled by the compiler
        for (int u = 0; u < UNROLL; u++)
            for (int c = 0; c < CHAINS; c++) x[c] = fma(x[c], 0.9999, 0.0001);
    }
    float sum = 0.0;
    for (int c = 0; c < CHAINS; c++) sum += x[c];
    o[gl_GlobalInvocationID.x] = sum;
}
