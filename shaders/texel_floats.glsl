// DEFINE_FLOATS_AT(t) defines floats_at_t(a): the 4 floats from float a of the rgba32f image
// buffer t, a at any alignment (a floor division: a may be negative in a padding), from the two
// texels holding them; floats_at(t, a) calls it. Texels outside the buffer are read clamped: the
// caller masks the floats that lie outside it. A macro, not a function of t: GLSL cannot pass an
// image with its format to a function, and imageLoad needs the format.
#define DEFINE_FLOATS_AT(t)                                                                        \
    vec4 floats_at_##t(int a) {                                                                    \
        int first = a >> 2, last = imageSize(t) - 1;                                               \
        vec4 lo = imageLoad(t, clamp(first, 0, last)), hi = imageLoad(t, clamp(first + 1, 0, last)); \
        int sh = a & 3;                                                                            \
        return sh == 0   ? lo                                                                      \
               : sh == 1 ? vec4(lo.yzw, hi.x)                                                      \
               : sh == 2 ? vec4(lo.zw, hi.xy)                                                      \
                         : vec4(lo.w, hi.xyz);                                                     \
    }
#define floats_at(t, a) floats_at_##t(a)
