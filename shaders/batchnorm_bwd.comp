// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation backward, x, dy and y read as floats (shaders/batchnorm_bwd.glsl).
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
// synchronised: [sum dy[C], sum dy * xhat[C]]; with an activation folded in: its output
layout(std430, binding = 7) buffer Sums { float sums[]; };
#define act_out sums
#include "batchnorm_bwd.glsl"
