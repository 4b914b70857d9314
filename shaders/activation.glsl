// The activations of shaders/activation_fwd.comp, shared with the kernels that apply one as they
// store (shaders/gemm_packed.comp), so a fused activation gives the same floats as its own pass:
// relu (0), leaky relu (1, negative slope `slope`), tanh (2), sigmoid (3).
float activate(float v, uint kind, float slope) {
    if (kind == 0u) return max(v, 0.0);
    if (kind == 1u) return v > 0.0 ? v : slope * v;
    if (kind == 2u) return tanh(v);
    return v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
}
