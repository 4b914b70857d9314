// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Binary cross-entropy with logits, mean over the batch, in one workgroup:
//   l_i = max(x,0) - x*t + log(1 + exp(-|x|))   (stable form of -t log s(x) - (1-t) log(1-s(x)))
//   out[0] = mean l_i, out[1] = mean sigmoid(x_i),  dx_i = grad_scale * (sigmoid(x_i) - t_i) / N
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer Logits { float x[]; };
layout(std430, binding = 1) readonly buffer Targets { float t[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };
layout(std430, binding = 3) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint count;
    float grad_scale;
} p;

float sigmoid(float v) {
    return v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
}

void main() {
    uint tid = gl_LocalInvocationIndex;
    float loss = 0.0, prob = 0.0;
    for (uint i = tid; i < p.count; i += REDUCE_THREADS) {
        float v = x[i], s = sigmoid(v);
        loss += max(v, 0.0) - v * t[i] + log(1.0 + exp(-abs(v)));
        prob += s;
        dx[i] = p.grad_scale * (s - t[i]) / float(p.count);
    }
    loss = workgroup_sum(loss);
    prob = workgroup_sum(prob);
    if (tid == 0u) {
        o[0] = loss / float(p.count);
        o[1] = prob / float(p.count);
    }
}
