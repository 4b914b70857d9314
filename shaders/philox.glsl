// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
// a counter-based RNG, so any element's random bits follow from (key, counter) with no state.
uvec4 philox4x32(uvec4 ctr, uvec2 key) {
    for (int round = 0; round < 10; round++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
        ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
        key += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return ctr;
}

// Uniform in [0, 1) with 24 bits.
float rng_uniform(uint bits) {
    return float(bits >> 8) * (1.0 / 16777216.0);
}

// Standard normal from two words (Box-Muller; the first uniform is moved into (0, 1]).
float rng_normal(uint a, uint b) {
    float u1 = (float(a >> 8) + 1.0) * (1.0 / 16777216.0);
    float u2 = rng_uniform(b);
    return sqrt(-2.0 * log(u1)) * cos(6.28318530717958647 * u2);
}
