// Adam (Kingma & Ba 2014) over a whole parameter arena in one dispatch. The hyperparameters and
// the step count t come from a buffer, so a recorded step stays valid as they change:
//   g += wd * p (L2, when not decoupled);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps);  decoupled (AdamW): p -= lr * wd * p
// (eps outside the square root and both bias corrections, as torch.optim.Adam)
// The body of adam.comp (every tensor read as floats) and adam_texel.comp (TEXEL_READS: on CPU
// devices, read as rgba32f texels, 4 parameters an iteration; on lavapipe a storage-buffer load
// is a loop over the SIMD lanes). The includer declares the bindings.
#include "elementwise.glsl"
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

// One update of w, m and v from gradient g, for one parameter (float) or four (vec4).
#define ADAM_UPDATE(T)                                                                             \
    void adam_update(inout T w, T g, inout T mi, inout T vi, float lr, float beta1, float beta2,   \
                     float eps, float wd, bool decoupled, float bc1, float bc2) {                  \
        if (!decoupled) g += wd * w;                                                               \
        else w -= lr * wd * w;                                                                     \
        mi = beta1 * mi + (1.0 - beta1) * g;                                                       \
        vi = beta2 * vi + (1.0 - beta2) * g * g;                                                   \
        w = w - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);                                          \
    }
ADAM_UPDATE(float)
ADAM_UPDATE(vec4)

void main() {
    // read once: inside the loop every read of h would be a load again (the stores to param, m
    // and v might alias it), and on lavapipe each load is a loop over the lanes
    float lr = h.lr, beta1 = h.beta1, beta2 = h.beta2, eps = h.eps, wd = h.weight_decay;
    bool decoupled = h.decoupled != 0u;
    float t = float(max(h.step, 1u));
    float bc1 = bias_correction(beta1, t), bc2 = bias_correction(beta2, t);
#ifdef TEXEL_READS
    FOR_EACH_ELEMENT(r, (p.count + 3u) / 4u) {
        int q = int(r);
        vec4 w = imageLoad(param_texels, q), mi = imageLoad(m_texels, q),
             vi = imageLoad(v_texels, q);
        adam_update(w, imageLoad(grad, q), mi, vi, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2);
        for (uint k = 0u, i = 4u * r; k < 4u; k++, i++)
            if (i < p.count) {
                m[i] = mi[k];
                v[i] = vi[k];
                param[i] = w[k];
            }
    }
#else
    FOR_EACH_ELEMENT(i, p.count) {
        float w = param[i], mi = m[i], vi = v[i];
        adam_update(w, grad[i], mi, vi, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2);
        m[i] = mi;
        v[i] = vi;
        param[i] = w;
    }
#endif
}
