/* Private structures of the GPU layer, shared by its files only (src/gpu/). */
#ifndef VKGAN_GPU_INTERNAL_H
#define VKGAN_GPU_INTERNAL_H

#include <volk.h>

#include "vkgan/gpu.h"
#include "vkgan/kernel.h"

typedef struct vkg_pipeline {
    vkg_shader_id shader;
    uint32_t spec[VKG_MAX_SPEC];
    int nspec;
    VkPipeline pipeline;
} vkg_pipeline;

struct vkg_ctx {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    int present; /* made for a window: VK_KHR_swapchain, a presenting queue */
    VkCommandPool cmd_pool;
    VkPhysicalDeviceMemoryProperties memory;
    vkg_device_info info;
    int use_subgroups;
    int direct_tiles;
    int vector_registers;            /* vkg_ctx_vector_registers */
    int packed_gemm;                 /* vkg_ctx_uses_packed_gemm */
    uint32_t max_texel_elements;     /* maxTexelBufferElements */
    uint64_t texel_offset_alignment; /* minTexelBufferOffsetAlignment */
    uint32_t max_groups[3];          /* maxComputeWorkGroupCount */

    int validation;
    int validation_count;
    char last_validation[1024];

    VkDescriptorSetLayout set_layout[VKG_MAX_BINDINGS + 1]; /* index: number of bindings */
    VkPipelineLayout pipe_layout[VKG_MAX_BINDINGS + 1];
    /* layouts with texel-buffer bindings, made on first use: (count, texel mask) -> layout */
    struct texel_layout {
        int nbind;
        unsigned mask;
        VkDescriptorSetLayout set;
        VkPipelineLayout pipe;
    } texel_layouts[8];
    int texel_layout_count;
    VkPipelineCache pipeline_cache;
    char pipeline_cache_path[1024];
    vkg_pipeline *pipelines;
    int pipeline_count, pipeline_cap;

    VkBuffer scratch[16]; /* the last is current; earlier ones may be bound by recordings */
    VkDeviceMemory scratch_memory[16];
    int scratch_count;
    uint64_t scratch_size;

    VkBuffer staging;
    VkDeviceMemory staging_memory;
    void *staging_map;
    uint64_t staging_size;
};

/* For presentation (present.c): the recording's command buffer (for image commands), and a
 * submit that waits for `wait` (at `stage`) and signals `signal` (either may be VK_NULL_HANDLE). */
VkCommandBuffer vkg_rec_command_buffer(vkg_rec *rec);
int vkg_rec_submit_signalling(vkg_rec *rec, VkSemaphore wait, VkPipelineStageFlags stage,
                              VkSemaphore signal);
/* Records a barrier before a transfer that reads `buf` if a dispatch wrote it since the last
 * barrier (the hazard tracking of vkg_rec_kernel), and counts it as read. */
int vkg_rec_transfer_read(vkg_rec *rec, const vkg_buf *buf);

/* Returns (creating on first use) the pipeline for a shader and its specialization constants;
 * its layout is that of the shader's bindings (vkg_layouts with its nbind and texel_mask). */
VkPipeline vkg_pipeline_get(vkg_ctx *ctx, vkg_shader_id shader, const uint32_t *spec, int nspec);
/* The descriptor-set and pipeline layouts for `nbind` bindings of which those in `texel_mask`
 * are storage texel buffers (the rest storage buffers); 0 when they cannot be made. */
int vkg_layouts(vkg_ctx *ctx, int nbind, unsigned texel_mask, VkDescriptorSetLayout *set,
                VkPipelineLayout *pipe);
int vkg_pipelines_init(vkg_ctx *ctx);
void vkg_pipelines_destroy(vkg_ctx *ctx);

/* Memory type index with the wanted flags (preferring `preferred` too), or -1. */
int vkg_memory_type(const vkg_ctx *ctx, uint32_t type_bits, VkMemoryPropertyFlags required,
                    VkMemoryPropertyFlags preferred);
/* Creates a buffer with its own memory (used for staging and arena blocks). */
int vkg_buffer_create(vkg_ctx *ctx, uint64_t bytes, VkMemoryPropertyFlags required,
                      VkMemoryPropertyFlags preferred, VkBuffer *buffer, VkDeviceMemory *memory);
/* One-line description of a VkResult. */
const char *vkg_result_string(VkResult result);
/* Runs a one-time command buffer filled by `fill`, and waits for it. */
int vkg_run_once(vkg_ctx *ctx, void (*fill)(VkCommandBuffer, void *), void *user);

#endif
