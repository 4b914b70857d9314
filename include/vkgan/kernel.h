/* The kernel interface of the GPU layer, for code that records its own compute dispatches (the
 * kernel library in src/nn, the window's frame in src/view): a dispatch names its shader by enum
 * and binds buffers; the shader's interface (how many bindings, which of them it writes, which
 * are texel buffers, the push-constant size) comes from its SPIR-V through the generated shader
 * table, so the host keeps no copy of it. No Vulkan types. */
#ifndef VKGAN_KERNEL_H
#define VKGAN_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "vkgan/gpu.h"
#include "vkgan/shader_ids.h" /* enum vkg_shader_id, generated from shaders/ at build time */

#define VKG_MAX_BINDINGS 8
#define VKG_MAX_SPEC 12
#define VKG_PUSH_BYTES 128

/* One embedded shader, its interface read from its SPIR-V when the project is built. */
typedef struct vkg_shader_info {
    const char *name;       /* the file name without .comp ("_sg" appended: subgroup variant) */
    const uint32_t *code;   /* SPIR-V words */
    size_t size;            /* bytes of code */
    int nbind;              /* bindings 0 .. nbind-1 of descriptor set 0 */
    unsigned write_mask;    /* bit i: binding i is writable in the shader (not `readonly`) */
    unsigned texel_mask;    /* bit i: binding i is a readonly rgba32f imageBuffer (texel buffer) */
    uint32_t push_size;     /* bytes of the push-constant block (0: none) */
    vkg_shader_id subgroup; /* its variant with subgroup arithmetic, or VKG_SHADER_NONE */
} vkg_shader_info;

/* The table entry of a shader; NULL for VKG_SHADER_NONE or an id out of range. */
const vkg_shader_info *vkg_shader_get(vkg_shader_id id);

/* One dispatch of a compute shader: what the kernel library hands to a recording. */
typedef struct vkg_kernel {
    vkg_shader_id shader;
    uint32_t spec[VKG_MAX_SPEC]; /* specialization constants 0 .. nspec-1 */
    int nspec;
    const vkg_buf *bufs[VKG_MAX_BINDINGS]; /* one for each binding the shader declares */
    const void *push; /* push_size bytes, as many as the shader's push-constant block */
    uint32_t push_size;
    uint32_t groups[3];
} vkg_kernel;

/* Binds buffer b at binding i of kernel k. Whether the shader writes it is the shader's own
 * declaration (vkg_shader_info.write_mask). */
#define VKG_BIND(k, i, b) ((k).bufs[(i)] = (b))

/* Records one dispatch (pipeline and descriptor set made here, once), with a barrier first when
 * a binding the shader reads or writes was written since the last barrier; -1 with an error set
 * (among them: a binding left without a buffer, push constants of another size than the
 * shader's). */
int vkg_rec_kernel(vkg_rec *rec, const vkg_kernel *kernel);
vkg_ctx *vkg_rec_ctx(vkg_rec *rec);

/* The limits of a binding read as an rgba32f texel buffer (imageBuffer): its element count, and
 * the alignment of its offset (at least the storage-buffer offset alignment). */
void vkg_ctx_texel_limits(const vkg_ctx *ctx, uint32_t *max_elements, uint64_t *offset_alignment);

#endif
