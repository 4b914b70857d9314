// variants: subgroup
#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax cross-entropy over rows of K logits, in one workgroup (batches of a classifier):
//   p_ik = exp(x_ik - max_k x_ik) / sum_k exp(x_ik - max_k x_ik)
//   out[0] (+)= sum_i -log p_i,label_i   out[1] (+)= rows whose argmax is their label
//   out[2 + k] (+)= rows whose argmax is k (the predicted-class histogram)
//   dx_ik = grad_scale * (p_ik - [k == label_i]) / N
// Without labels only the histogram is written; without a gradient dx is left alone.
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer Logits { float x[]; };
layout(std430, binding = 1) readonly buffer Labels { float label[]; };
layout(std430, binding = 2) buffer Out { float o[]; };
layout(std430, binding = 3) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint rows, classes;
    float grad_scale;
    uint has_labels, has_grad, accumulate;
} p;

shared uint hist[64];
shared uint correct;

void main() {
    uint tid = gl_LocalInvocationIndex;
    for (uint k = tid; k < p.classes; k += REDUCE_THREADS) hist[k] = 0u;
    if (tid == 0u) correct = 0u;
    barrier();
    float loss = 0.0;
    for (uint i = tid; i < p.rows; i += REDUCE_THREADS) {
        uint base = i * p.classes, best = 0u;
        float top = x[base];
        for (uint k = 1u; k < p.classes; k++)
            if (x[base + k] > top) top = x[base + k], best = k;
        float sum = 0.0;
        for (uint k = 0u; k < p.classes; k++) sum += exp(x[base + k] - top);
        atomicAdd(hist[best], 1u);
        uint want = p.has_labels != 0u ? uint(clamp(label[i], 0.0, float(p.classes - 1u))) : 0u;
        if (p.has_labels != 0u) {
            loss += log(sum) - (x[base + want] - top);
            if (best == want) atomicAdd(correct, 1u);
        }
        if (p.has_grad != 0u)
            for (uint k = 0u; k < p.classes; k++) {
                float hot = p.has_labels != 0u && k == want ? 1.0 : 0.0;
                float q = exp(x[base + k] - top) / sum - hot;
                dx[base + k] = p.grad_scale * q / float(p.rows);
            }
    }
    loss = workgroup_sum(loss); // its barriers also order the shared counters
    if (tid == 0u) {
        o[0] = (p.accumulate != 0u ? o[0] : 0.0) + loss;
        o[1] = (p.accumulate != 0u ? o[1] : 0.0) + float(correct);
    }
    for (uint k = tid; k < p.classes; k += REDUCE_THREADS)
        o[2u + k] = (p.accumulate != 0u ? o[2u + k] : 0.0) + float(hist[k]);
}
