#version 450
#extension GL_GOOGLE_include_directive : require
// Adam (Kingma & Ba 2014) over a whole parameter arena in one dispatch. The hyperparameters and
// the step count t come from a buffer, so a recorded step stays valid as they change:
//   g += wd * p (L2, when not decoupled);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps);  decoupled (AdamW): p -= lr * wd * p
#include "elementwise.glsl"
layout(std430, binding = 0) buffer Params { float param[]; };
layout(std430, binding = 1) readonly buffer Grads { float grad[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer Hyper {
    float lr, beta1, beta2, eps, weight_decay;
    uint decoupled;
    uint step;
} h;
layout(push_constant) uniform P { uint count; } p;

void main() {
    float t = float(max(h.step, 1u));
    float bc1 = 1.0 - pow(h.beta1, t), bc2 = 1.0 - pow(h.beta2, t);
    FOR_EACH_ELEMENT(i, p.count) {
        float w = param[i], g = grad[i];
        if (h.decoupled == 0u) g += h.weight_decay * w;
        else w -= h.lr * h.weight_decay * w;
        float mi = h.beta1 * m[i] + (1.0 - h.beta1) * g;
        float vi = h.beta2 * v[i] + (1.0 - h.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = w - h.lr * (mi / bc1) / (sqrt(vi / bc2) + h.eps);
    }
}
