#version 450
#extension GL_GOOGLE_include_directive : require
// Adam (Kingma & Ba 2014) over a whole parameter arena in one dispatch. The hyperparameters and
// the step count t come from a buffer, so a recorded step stays valid as they change:
//   g += wd * p (L2, when not decoupled);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps);  decoupled (AdamW): p -= lr * wd * p
// (eps outside the square root and both bias corrections, as torch.optim.Adam)
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

// 1 - beta^t as PyTorch computes it (in double on the host): not as 1 - pow(beta, t), which for
// beta near 1 cancels to a few digits (1 - 0.999 keeps 4 in float32, fewer where pow is an
// approximation: lavapipe's was 5e-5 off at t = 1), but as -expm1(t log beta), log beta from the
// atanh series of (beta - 1) / (beta + 1) (beta - 1 is exact) and expm1 from its own series
// while |t log beta| <= 0.5, where 1 - exp would cancel.
float bias_correction(float beta, float t) {
    if (beta <= 0.5) return 1.0 - pow(beta, t); // beta^t <= 1/2: no cancellation
    float u = (beta - 1.0) / (beta + 1.0), u2 = u * u, term = u, log_beta = 0.0;
    for (int k = 1; k < 24; k += 2) { // |u| < 1/3: 12 terms reach float precision
        log_beta += term / float(k);
        term *= u2;
    }
    float y = 2.0 * log_beta * t;
    if (y < -0.5) return 1.0 - exp(y);
    float sum = 0.0;
    term = y;
    for (int k = 1; k <= 10; k++) { // y^k / k!, |y| <= 1/2
        sum += term;
        term *= y / float(k + 1);
    }
    return -sum;
}

void main() {
    // read once: inside the loop every read of h would be a load again (the stores to param, m
    // and v might alias it), and on lavapipe each load is a loop over the lanes
    float lr = h.lr, beta1 = h.beta1, beta2 = h.beta2, eps = h.eps, wd = h.weight_decay;
    bool decoupled = h.decoupled != 0u;
    float t = float(max(h.step, 1u));
    float bc1 = bias_correction(beta1, t), bc2 = bias_correction(beta2, t);
    FOR_EACH_ELEMENT(i, p.count) {
        float w = param[i], g = grad[i];
        if (!decoupled) g += wd * w;
        else w -= lr * wd * w;
        float mi = beta1 * m[i] + (1.0 - beta1) * g;
        float vi = beta2 * v[i] + (1.0 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = w - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
    }
}
