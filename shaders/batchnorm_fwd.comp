// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation forward, x read as floats (shaders/batchnorm_fwd.glsl).
layout(std430, binding = 0) readonly buffer X { float x[]; };
#include "batchnorm_fwd.glsl"
