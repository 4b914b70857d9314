/* Philox4x32-10 (Salmon et al., SC 2011) and the draws made from it, as in shaders/philox.glsl. */
#include <math.h>

#include "reference.h"

void ref_philox4x32(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
    uint32_t k[2] = {key_in[0], key_in[1]};
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t next[4] = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
        for (int i = 0; i < 4; i++) c[i] = next[i];
        k[0] += 0x9E3779B9u;
        k[1] += 0xBB67AE85u;
    }
    for (int i = 0; i < 4; i++) out[i] = c[i];
}

void ref_rng_bits(uint32_t seed, uint32_t stream, uint32_t step, uint32_t element,
                  uint32_t out[4]) {
    uint32_t ctr[4] = {element, step, 0, 0}, key[2] = {seed, stream};
    ref_philox4x32(ctr, key, out);
}

int ref_dropout_keep(uint32_t seed, uint32_t stream, uint32_t step, uint32_t element, float p) {
    uint32_t bits[4];
    ref_rng_bits(seed, stream, step, element, bits);
    return (bits[0] >> 8) >= (uint32_t)(p * 16777216.0f);
}

double ref_rng_uniform(uint32_t bits) {
    return (double)(bits >> 8) / 16777216.0;
}

double ref_rng_normal(uint32_t a, uint32_t b) {
    double u1 = ((double)(a >> 8) + 1.0) / 16777216.0;
    return sqrt(-2.0 * log(u1)) * cos(6.28318530717958647 * ref_rng_uniform(b));
}

/* A 4-round Feistel network on an even number of bits, cycle-walked into [0, n). */
uint32_t ref_permute_index(uint32_t x, uint32_t n, uint32_t seed, uint32_t epoch) {
    uint32_t bits = 2;
    while (bits < 32 && (1u << bits) < n) bits += 2;
    uint32_t half = bits / 2, mask = (1u << half) - 1;
    do {
        uint32_t l = x >> half, r = x & mask;
        for (uint32_t round = 0; round < 4; round++) {
            uint32_t ctr[4] = {r, round, epoch, 0}, key[2] = {seed, 0x5bd1e995u}, out[4];
            ref_philox4x32(ctr, key, out);
            uint32_t t = l ^ (out[0] & mask);
            l = r;
            r = t;
        }
        x = (l << half) | r;
    } while (x >= n);
    return x;
}
