// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation forward, x read as rgba32f texels (shaders/batchnorm_fwd.glsl).
#define TEXEL_READS 1
layout(binding = 0, rgba32f) readonly uniform imageBuffer x;
#include "batchnorm_fwd.glsl"
