#version 450
#extension GL_GOOGLE_include_directive : require
// Adam, every tensor read as floats (shaders/adam.glsl).
layout(std430, binding = 0) buffer Params { float param[]; };
layout(std430, binding = 1) readonly buffer Grads { float grad[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
#include "adam.glsl"
