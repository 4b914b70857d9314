/* Helpers shared by the kernel library's files. */
#ifndef VKGAN_NN_KERNEL_H
#define VKGAN_NN_KERNEL_H

#include "gpu/internal.h"
#include "vkgan/nn.h"

/* Workgroups for an elementwise kernel of 256 threads with a grid-stride loop: one element a
 * thread on a GPU; on a CPU device, where each workgroup costs microseconds, a few fat ones. */
uint32_t vkg_elementwise_groups(vkg_rec *rec, size_t count);
/* Sets up a reduction kernel (shaders including reduce.glsl): the shader name, with the subgroup
 * variant's suffix when the device uses subgroups, and the workgroup size. `name` holds the name.
 */
void vkg_reduction_kernel(vkg_rec *rec, const char *base, char *name, size_t size, vkg_kernel *k);
/* Specialization constants of the tiled GEMM core (threads, BM, BN, BK, TM, TN), picked from the
 * device's limits and the problem's M; sets k->spec, k->nspec and k->groups for M x N. */
void vkg_gemm_setup(vkg_rec *rec, uint32_t M, uint32_t N, vkg_kernel *k);
/* The strided GEMM of shaders/gemm.comp:
 * C[m,n] (+)= bias[n / bias_div] + sum_k A[m*sam + k*sak] * B[k*sbk + n*sbn]. */
typedef struct vkg_gemm_shape {
    uint32_t M, N, K, sam, sak, sbk, sbn, flags, bias_div;
} vkg_gemm_shape;
#define VKG_GEMM_BIAS 1u
#define VKG_GEMM_ACCUMULATE 2u
int vkg_gemm(vkg_rec *rec, vkg_gemm_shape shape, const vkg_buf *a, const vkg_buf *b,
             const vkg_buf *bias, const vkg_buf *c);
/* Fails (with the op's name) when a tensor does not hold `count` elements. */
int vkg_check_count(const char *op, const char *what, const vkg_tensor *t, size_t count);
/* Binds buffer b at binding i of kernel k, marking it written when `writes` is set. */
#define VKG_BIND(k, i, b, writes) ((k).bufs[(i)] = (b), (k).write_mask |= (writes) ? 1u << (i) : 0u)

#endif
