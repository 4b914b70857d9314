/* Helpers shared by the kernel library's files. */
#ifndef VKGAN_NN_KERNEL_H
#define VKGAN_NN_KERNEL_H

#include "gemm_contract.h" /* shaders/: spec ids and flags shared with the GEMM shaders */
#include "vkgan/kernel.h"
#include "vkgan/nn.h"

/* Workgroups for an elementwise kernel of 256 threads with a grid-stride loop: one element a
 * thread on a GPU; on a CPU device, where each workgroup costs microseconds, a few fat ones. */
uint32_t vkg_elementwise_groups(vkg_rec *rec, size_t count);
/* Sets up a reduction kernel (shaders including reduce.glsl): the shader, or its subgroup variant
 * when the device uses subgroups, and the workgroup size. */
void vkg_reduction_kernel(vkg_rec *rec, vkg_shader_id base, vkg_kernel *k);
/* Specialization constants of the tiled GEMM core (threads, BM, BN, BK, TM, TN), picked from the
 * device's limits and the problem's M; sets k->spec, k->nspec and k->groups for M x N. */
void vkg_gemm_setup(vkg_rec *rec, uint32_t M, uint32_t N, vkg_kernel *k);
/* The strided GEMM of shaders/gemm.comp:
 * C[m,n] (+)= bias[n / bias_div] + sum_k A[m*sam + k*sak] * B[k*sbk + n*sbn]. */
typedef struct vkg_gemm_shape {
    uint32_t M, N, K, sam, sak, sbk, sbn, flags, bias_div;
} vkg_gemm_shape;
int vkg_gemm(vkg_rec *rec, vkg_gemm_shape shape, const vkg_buf *a, const vkg_buf *b,
             const vkg_buf *bias, const vkg_buf *c);
/* An activation for a forward kernel to apply to its output as it stores it (the layer and the
 * activation after it in one pass; only the packed GEMMs of CPU devices can): act 0 for none,
 * else 1 + its vkg_activation, slope the leaky ReLU's. Where the kernel that runs cannot, it
 * writes its output to `pre` instead and the caller runs the activation (vkg_fused_forward). */
typedef struct vkg_epilogue {
    uint32_t act;
    float slope;
    const vkg_buf *pre;
} vkg_epilogue;
/* Fills *ep for activation `kind` (slope: the leaky ReLU's), `pre` its fallback output, after
 * checking that kind is an activation and pre holds as many elements as y; -1 naming op. */
int vkg_epilogue_init(const char *op, vkg_activation kind, float slope, const vkg_tensor *pre,
                      const vkg_tensor *y, vkg_epilogue *ep);
/* Where a kernel that cannot apply ep's activation writes: y, or ep->pre when there is one. */
static inline const vkg_buf *vkg_unfused_out(const vkg_epilogue *ep, const vkg_buf *y) {
    return ep && ep->act ? ep->pre : y;
}
/* What a function recording such a kernel returns: -1 on error (rc < 0), 1 when y holds the
 * final output (no activation), 0 when the caller's activation pass is still to run. */
static inline int vkg_unfused(int rc, const vkg_epilogue *ep) {
    return rc < 0 ? -1 : !(ep && ep->act);
}
/* vkg_gemm with an epilogue (NULL: none): 1 when C holds the activated output, 0 when the GEMM
 * wrote ep->pre without it, -1 on error. */
int vkg_gemm_ep(vkg_rec *rec, vkg_gemm_shape shape, const vkg_buf *a, const vkg_buf *b,
                const vkg_buf *bias, const vkg_buf *c, const vkg_epilogue *ep);
/* The end of a vkg_*_act_forward: after a kernel recorded with an epilogue returned `fused` (1:
 * y holds act(layer output); 0: `pre` holds the layer output), records the activation pass
 * pre -> y where it is still to do. Returns 0, or -1. */
int vkg_fused_forward(vkg_rec *rec, int fused, const vkg_epilogue *ep, const vkg_tensor *pre,
                      const vkg_tensor *y);
/* Records k, a tiled GEMM kernel (shaders including gemm_tile.glsl and calling gemm_tile_part)
 * whose groups vkg_gemm_setup set for `outputs` = M x N outputs and whose push constants hold
 * *flags, with its output bound at binding `slot` to `out`. When its tiles are too few to fill
 * the device and K is long, the K sum is split over workgroup z: the parts go to the context's
 * scratch buffer (GEMM_FLAG_SPLIT) and shaders/gemm_sum_splits.comp adds them to `out` in a fixed
 * order (so the result does not depend on scheduling; GEMM_FLAG_ACCUMULATE adds out's values
 * first). *flags is left as it was. -1 with the error set when recording fails. */
int vkg_rec_split_k(vkg_rec *rec, vkg_kernel *k, uint32_t *flags, int slot, const vkg_buf *out,
                    uint64_t outputs, uint32_t K);
/* Fails (with the op's name) when a tensor does not hold `count` elements. */
int vkg_check_count(const char *op, const char *what, const vkg_tensor *t, size_t count);

/* One operand of a packed GEMM as shaders/gemm_pack.comp reads it (see its header comment):
 * rows x K values from a source tensor, packed k-contiguous and zero-padded. */
typedef struct vkg_pack {
    uint32_t rows, K, KT; /* KT is filled in by vkg_packed_gemms */
    uint32_t nrc, nc;
    uint32_t TY, TX, vy, vx;
    int32_t y0, x0, ry, rx, tys, txs;
    uint32_t sb, sc, H, W;
} vkg_pack;

/* A plain matrix operand: element (row, k) at src[row * row_stride + k * k_stride]. */
vkg_pack vkg_pack_matrix(uint32_t rows, uint32_t K, uint32_t row_stride, uint32_t k_stride);

/* Which packed row the GEMM reads as B's row n: (n / nrc) * img + ((n % nrc) / nc) * row +
 * n % nc + off (shaders/gemm_packed.comp); nrc = nc = N and the rest 0 give row n. */
typedef struct vkg_row_map {
    uint32_t nrc, nc, img, row, off;
} vkg_row_map;

/* C[m, n] = sum_k A(m, k) B(n, k) (+ bias, + C) with both operands packed first, for CPU devices
 * (shaders/gemm_packed.comp). The output index is that of its push constants; flags and act go
 * to it as specialization constants (a pipeline for each combination used). */
typedef struct vkg_packed_gemm {
    vkg_pack a, b; /* M = a.rows / taps, N = b.rows; a.K == b.K */
    /* NULL, or the operand packed in b's place (once for all the GEMMs of a call that point to
     * the same vkg_pack), whose rows each GEMM reads through b_map; b then gives only N and K.
     * The stride phases of a transposed convolution share their input's packing so. */
    vkg_pack *b_shared;
    vkg_row_map b_map;
    /* 0 or 1, or K in `taps` segments of a.K: A's packed rows are (m, tap), and segment
     * (tap / tap_w, tap % tap_w) reads B's rows (through b_map) (tap / tap_w) * tap_row +
     * tap % tap_w further on: a convolution over its input packed once (src/nn/conv2d.c). */
    uint32_t taps, tap_w, tap_row;
    const vkg_buf *a_src, *b_src, *bias, *c;
    uint32_t flags; /* PACKED_FLAG_BIAS_M, PACKED_FLAG_ACCUMULATE, PACKED_FLAG_BIAS_N */
    uint32_t bias_div, csm, d1, d2, cs1, cs2, cs3, offset;
    uint32_t act; /* as vkg_epilogue's: applied to C as it is stored */
    float slope;
} vkg_packed_gemm;

/* Records `count` packed GEMMs (their packed operands side by side in the scratch buffer, so
 * they need no barriers between them). Returns 1 when recorded, 0 when the packed path does not
 * apply (not chosen for this device, or an operand too large for a texel buffer or the scratch
 * buffer: the caller uses the tiled kernels), -1 on error. */
int vkg_packed_gemms(vkg_rec *rec, vkg_packed_gemm *g, int count);

/* b, which a kernel reads as floats through an rgba32f texel buffer: *view is b with its size
 * rounded up to whole texels (vkg_arena_alloc reserves them, so a view from a texel-aligned
 * offset stays in its allocation; the floats past b's end are never used). Returns 1, or 0 when
 * the device has no texel buffers for packed GEMMs or b's offset or size does not allow one. */
int vkg_texel_floats(vkg_rec *rec, const vkg_buf *b, vkg_buf *view);

#endif
