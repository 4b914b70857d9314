// A pseudo-random permutation of [0, n) keyed by (seed, epoch), computed per index with no
// stored state: a 4-round balanced Feistel network on the smallest even number of bits that
// covers n (a bijection on [0, 2^bits)), with cycle walking: values >= n are permuted again
// until they land inside [0, n). Starting inside, the walk must return inside, so it ends.
// Requires philox.glsl.
uint permute_index(uint x, uint n, uint seed, uint epoch) {
    uint bits = 2u;
    while (bits < 32u && (1u << bits) < n) bits += 2u;
    uint half_bits = bits / 2u, mask = (1u << half_bits) - 1u;
    do {
        uint l = x >> half_bits, r = x & mask;
        for (uint round = 0u; round < 4u; round++) {
            uint f = philox4x32(uvec4(r, round, epoch, 0u), uvec2(seed, 0x5bd1e995u)).x & mask;
            uint t = l ^ f;
            l = r;
            r = t;
        }
        x = (l << half_bits) | r;
    } while (x >= n);
    return x;
}
