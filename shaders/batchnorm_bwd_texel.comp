// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Batch normalisation backward, x, dy and y read as rgba32f texels (shaders/batchnorm_bwd.glsl);
// not for the synchronised stages.
#define TEXEL_READS 1
layout(binding = 0, rgba32f) readonly uniform imageBuffer x;
layout(binding = 1, rgba32f) readonly uniform imageBuffer dy;
layout(binding = 7, rgba32f) readonly uniform imageBuffer act_out; // the folded activation's output
#include "batchnorm_bwd.glsl"
