// The host-shader contract of the GEMM and convolution shaders: their specialization-constant ids,
// flag bits and per-invocation work, declared once. The shaders (gemm_tile.glsl,
// conv_geometry.glsl, gemm.comp, gemm_pack.comp, gemm_packed.comp, conv2d_*.comp) and the host
// (src/nn/gemm.c, src/nn/conv2d.c) include this file, so it holds #defines only.
#ifndef VKGAN_GEMM_CONTRACT_H
#define VKGAN_GEMM_CONTRACT_H

// specialization constants (the host's vkg_kernel.spec[id])
#define SPEC_THREADS 0 // workgroup size (local_size_x_id)
#define SPEC_BM 1      // tile rows of C a workgroup computes
#define SPEC_BN 2      // tile columns
#define SPEC_BK 3      // K advanced per shared-memory pass
#define SPEC_TM 4      // rows of a thread's register block
#define SPEC_TN 5      // columns of a thread's register block
#define SPEC_KERNEL 6  // convolution kernel size
#define SPEC_STRIDE 7  // convolution stride
#define SPEC_DIRECT 8  // operands read straight from the loaders (CPU devices)
#define SPEC_COUNT 9

// flags of gemm.comp's and the convolutions' push constants
#define GEMM_FLAG_BIAS 1u       // add the bias (gemm: bias[n / bias_div]; conv: bias[m])
#define GEMM_FLAG_ACCUMULATE 2u // add what the output holds
#define GEMM_FLAG_SPLIT 4u      // part z of a split-K sum to its own range (gemm_tile_part)

// work per invocation, which the host's dispatch sizes follow
#define PACK_CHUNK 16u   // gemm_pack.comp: texels of one row an invocation packs
// gemm_pack_runs.comp's layouts (its specialization constant MODE)
#define PACK_X_RUNS 1u    // a packed texel's 4 k are 4 consecutive x of one source row
#define PACK_PLANE_RUNS 2u // ... 4 consecutive floats of one contiguous (kc) plane
#define PACK_ROW_X 3u     // rows 4i..4i+3 read 4 consecutive x at every k
#define PACK_ROW_BASE 4u  // rows 4i..4i+3 start at 4 consecutive floats
#define PACK_ROW_X2 5u    // rows 4i..4i+3 read every other x of 8 at every k
#define THIN_SPAN 8u     // conv2d_bwd_input_thin.comp: pixels of a phase an invocation computes
#define THIN_CHANNELS 4u // conv2d_bwd_input_thin.comp: input channels a workgroup row computes

// flags of gemm_packed.comp (its specialization constant FLAGS)
#define PACKED_FLAG_BIAS_M 1u // add bias[m / bias_div]
#define PACKED_FLAG_ACCUMULATE 2u
#define PACKED_FLAG_BIAS_N 4u // add bias[n / bias_div]

#endif
