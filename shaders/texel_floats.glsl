// The 4 floats from float a of an rgba32f texel buffer, a at any alignment (a floor division:
// a may be negative in a padding), from the two texels holding them. Texels outside the buffer
// are fetched clamped: the caller masks the floats that lie outside it.
vec4 floats_at(samplerBuffer t, int a) {
    int first = a >> 2, last = textureSize(t) - 1;
    vec4 lo = texelFetch(t, clamp(first, 0, last)), hi = texelFetch(t, clamp(first + 1, 0, last));
    int sh = a & 3;
    return sh == 0   ? lo
           : sh == 1 ? vec4(lo.yzw, hi.x)
           : sh == 2 ? vec4(lo.zw, hi.xy)
                     : vec4(lo.w, hi.xyz);
}
