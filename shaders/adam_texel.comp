#version 450
#extension GL_GOOGLE_include_directive : require
// Adam, the tensors read as rgba32f texels and written as floats (shaders/adam.glsl). Bindings 5,
// 6 and 7 view the ranges of 0, 2 and 3: an invocation reads its 4 parameters before it writes
// them, and no other invocation touches them.
#define TEXEL_READS 1
layout(std430, binding = 0) writeonly buffer Params { float param[]; };
layout(binding = 1, rgba32f) readonly uniform imageBuffer grad;
layout(std430, binding = 2) writeonly buffer M { float m[]; };
layout(std430, binding = 3) writeonly buffer V { float v[]; };
layout(binding = 5, rgba32f) readonly uniform imageBuffer param_texels;
layout(binding = 6, rgba32f) readonly uniform imageBuffer m_texels;
layout(binding = 7, rgba32f) readonly uniform imageBuffer v_texels;
#include "adam.glsl"
