#version 450
#extension GL_GOOGLE_include_directive : require
// Random fills from the counter-based RNG:
//   mode 0: y = a + b * z            (normal: weight init, latent vectors)
//   mode 1: y = x + b * sigma * z    (add gaussian noise; sigma = x-independent scale in
//                                     scales[0], e.g. a decaying instance-noise level)
//   mode 2: y = a + (b - a) * u      (uniform in [a, b))
//   mode 3: y = u2 < e ? c + (d - c) * u : a + (b - a) * u
//                                    (D's targets: own range [a, b], with probability e
//                                     flipped to the other class's range [c, d])
#include "elementwise.glsl"
#include "philox.glsl"
#include "rng_key.glsl"
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer Scale { float scales[]; };

void main() {
    uint step = rng_step();
    FOR_EACH_ELEMENT(i, key.count) {
        uvec4 r = rng_bits(i, step);
        if (key.mode == 0u) y[i] = key.a + key.b * rng_normal(r.x, r.y);
        else if (key.mode == 1u) y[i] = x[i] + key.b * scales[0] * rng_normal(r.x, r.y);
        else if (key.mode == 2u) y[i] = key.a + (key.b - key.a) * rng_uniform(r.x);
        else {
            float u = rng_uniform(r.x);
            y[i] = rng_uniform(r.y) < key.e ? key.c + (key.d - key.c) * u
                                            : key.a + (key.b - key.a) * u;
        }
    }
}
