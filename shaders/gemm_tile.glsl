// Tiled GEMM core with register blocking: C[M,N] = sum_k A(m,k) B(k,n).
// The including shader defines load_a(m, k), load_b(k, n) and store_c(m, n, value) before
// including this file, so one core serves dense layers and every implicit-GEMM convolution.
// A workgroup computes a BM x BN tile of C; each of its (BM/TM)*(BN/TN) threads keeps a TM x TN
// block of accumulators in registers. K advances BK at a time through shared memory.
// Workgroup (x, y) covers columns x*BN.. and rows y*BM..
// With DIRECT (chosen for CPU devices, where shared memory is ordinary cached memory and a
// barrier is a costly context switch) each thread reads its operands straight from the loaders,
// BK at a time, column by column so a loader's per-column index arithmetic is reused.
#include "gemm_contract.h"
layout(local_size_x_id = SPEC_THREADS) in;
layout(constant_id = SPEC_BM) const uint BM = 64;
layout(constant_id = SPEC_BN) const uint BN = 64;
layout(constant_id = SPEC_BK) const uint BK = 16;
layout(constant_id = SPEC_TM) const uint TM = 4;
layout(constant_id = SPEC_TN) const uint TN = 4;
layout(constant_id = SPEC_DIRECT) const bool DIRECT = false;

shared float tile_a[BK * BM];
shared float tile_b[BK * BN];

void gemm_tile_direct(uint M, uint N, uint k_begin, uint K) {
    const uint tid = gl_LocalInvocationIndex;
    const uint tn = tid % (BN / TN);
    const uint tm = tid / (BN / TN);
    // rows m0 + i (a thread's own), columns n0 + j * (BN / TN): neighbouring threads (SIMD lanes
    // on a CPU) read neighbouring columns
    const uint m0 = gl_WorkGroupID.y * BM + tm * TM;
    const uint n0 = gl_WorkGroupID.x * BN + tn;
    const uint ns = BN / TN;
    float acc[TM][TN];
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;
    for (uint k0 = k_begin; k0 < K; k0 += BK) {
        float a[BK][TM], b[BK][TN];
        for (uint j = 0; j < TN; j++)
            for (uint kk = 0; kk < BK; kk++)
                b[kk][j] = (n0 + j * ns < N && k0 + kk < K) ? load_b(k0 + kk, n0 + j * ns) : 0.0;
        for (uint i = 0; i < TM; i++)
            for (uint kk = 0; kk < BK; kk++)
                a[kk][i] = (m0 + i < M && k0 + kk < K) ? load_a(m0 + i, k0 + kk) : 0.0;
        for (uint kk = 0; kk < BK; kk++)
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[kk][i], b[kk][j], acc[i][j]);
    }
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++)
            if (m0 + i < M && n0 + j * ns < N) store_c(m0 + i, n0 + j * ns, acc[i][j]);
}

// C[m, n] over k in [k_begin, K) (a split-K part when k_begin > 0 or K is short of the full K).
void gemm_tile_range(uint M, uint N, uint k_begin, uint K) {
    if (DIRECT) {
        gemm_tile_direct(M, N, k_begin, K);
        return;
    }
    const uint threads = (BM / TM) * (BN / TN);
    const uint tid = gl_LocalInvocationIndex;
    const uint tn = tid % (BN / TN);
    const uint tm = tid / (BN / TN);
    const uint m0 = gl_WorkGroupID.y * BM;
    const uint n0 = gl_WorkGroupID.x * BN;

    float acc[TM][TN];
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    for (uint k0 = k_begin; k0 < K; k0 += BK) {
        for (uint e = tid; e < BK * BM; e += threads) {
            uint m = m0 + e % BM, k = k0 + e / BM;
            tile_a[e] = (m < M && k < K) ? load_a(m, k) : 0.0;
        }
        for (uint e = tid; e < BK * BN; e += threads) {
            uint n = n0 + e % BN, k = k0 + e / BN;
            tile_b[e] = (n < N && k < K) ? load_b(k, n) : 0.0;
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            float a[TM], b[TN];
            for (uint i = 0; i < TM; i++) a[i] = tile_a[kk * BM + tm + i * (BM / TM)];
            for (uint j = 0; j < TN; j++) b[j] = tile_b[kk * BN + tn + j * (BN / TN)];
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }
    for (uint i = 0; i < TM; i++) {
        uint m = m0 + tm + i * (BM / TM);
        for (uint j = 0; j < TN; j++) {
            uint n = n0 + tn + j * (BN / TN);
            if (m < M && n < N) store_c(m, n, acc[i][j]);
        }
    }
}

void gemm_tile(uint M, uint N, uint K) {
    gemm_tile_range(M, N, 0u, K);
}

// Split-K: the sum over K cut into gl_NumWorkGroups.z parts of whole BK steps, workgroup z
// computing part z (one part, the whole sum, when z is 1). A part past the end of K stores zeros.
void gemm_tile_part(uint M, uint N, uint K) {
    uint parts = gl_NumWorkGroups.z;
    uint chunk = ((K + parts - 1) / parts + BK - 1) / BK * BK;
    uint k_begin = gl_WorkGroupID.z * chunk;
    gemm_tile_range(M, N, k_begin, min(K, k_begin + chunk));
}
