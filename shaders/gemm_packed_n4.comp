#version 450
#extension GL_GOOGLE_include_directive : require
// Packed GEMM for CPU devices, 8 x 4 blocks: for CPUs of 16 vector registers, where the 8 x 8
// block of gemm_packed.comp spills (shaders/gemm_packed.glsl).
#define COLS 4
layout(local_size_x = 64) in;
layout(binding = 0, rgba32f) readonly uniform imageBuffer A;
layout(binding = 1, rgba32f) readonly uniform imageBuffer B;
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer C { float c[]; };
#include "gemm_packed.glsl"
