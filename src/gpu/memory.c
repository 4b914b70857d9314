/* Device memory: arenas of a few large buffers, sub-allocated; staging copies to and from them. */
#include <stdlib.h>
#include <string.h>

#include "gpu/internal.h"

#define MIB (1024.0 * 1024.0)
#define STAGING_BYTES (16u << 20)
#define MAX_BLOCKS 64

struct vkg_arena {
    vkg_ctx *ctx;
    uint64_t block_bytes;
    VkBuffer buffer[MAX_BLOCKS];
    VkDeviceMemory memory[MAX_BLOCKS];
    uint64_t size[MAX_BLOCKS];
    uint64_t used[MAX_BLOCKS];
    void *map[MAX_BLOCKS]; /* mapped arenas: each block's host address */
    int blocks, mapped;
};

int vkg_memory_type(const vkg_ctx *ctx, uint32_t type_bits, VkMemoryPropertyFlags required,
                    VkMemoryPropertyFlags preferred) {
    int fallback = -1;
    for (uint32_t i = 0; i < ctx->memory.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = ctx->memory.memoryTypes[i].propertyFlags;
        if (!(type_bits & (1u << i)) || (f & required) != required) continue;
        if ((f & preferred) == preferred) return (int)i;
        if (fallback < 0) fallback = (int)i;
    }
    return fallback;
}

static uint64_t heap_size_of_type(const vkg_ctx *ctx, int type) {
    return ctx->memory.memoryHeaps[ctx->memory.memoryTypes[type].heapIndex].size;
}

int vkg_buffer_create(vkg_ctx *ctx, uint64_t bytes, VkMemoryPropertyFlags required,
                      VkMemoryPropertyFlags preferred, VkBuffer *buffer, VkDeviceMemory *memory) {
    *buffer = VK_NULL_HANDLE;
    *memory = VK_NULL_HANDLE;
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vkCreateBuffer(ctx->device, &info, NULL, buffer);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot create a buffer of %.1f MiB: %s", bytes / MIB,
                             vkg_result_string(r));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, *buffer, &req);
    int type = vkg_memory_type(ctx, req.memoryTypeBits, required, preferred);
    if (type < 0) {
        vkDestroyBuffer(ctx->device, *buffer, NULL);
        *buffer = VK_NULL_HANDLE;
        return vkg_set_error("%s has no suitable memory type for a buffer", ctx->info.name);
    }
    uint64_t heap = heap_size_of_type(ctx, type);
    if (req.size > heap) {
        vkDestroyBuffer(ctx->device, *buffer, NULL);
        *buffer = VK_NULL_HANDLE;
        return vkg_set_error("out of device memory: %.1f MiB requested, the memory heap of %s "
                             "holds %.1f MiB",
                             req.size / MIB, ctx->info.name, heap / MIB);
    }
    VkMemoryAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = req.size,
                                  .memoryTypeIndex = (uint32_t)type};
    r = vkAllocateMemory(ctx->device, &alloc, NULL, memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(ctx->device, *buffer, NULL);
        *buffer = VK_NULL_HANDLE;
        *memory = VK_NULL_HANDLE;
        return vkg_set_error("out of device memory: allocating %.1f MiB on %s failed (%s)",
                             req.size / MIB, ctx->info.name, vkg_result_string(r));
    }
    vkBindBufferMemory(ctx->device, *buffer, *memory, 0);
    return 0;
}

static uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

int vkg_ctx_scratch(vkg_ctx *ctx, uint64_t bytes, vkg_buf *out) {
    if (bytes > ctx->info.max_storage_buffer_range)
        return vkg_set_error("scratch of %.1f MiB is larger than %s can bind", bytes / MIB,
                             ctx->info.name);
    if (bytes > ctx->scratch_size) {
        if (ctx->scratch_count == 16) return vkg_set_error("scratch buffer grown too often");
        /* whole texels, as vkg_arena_alloc reserves */
        uint64_t size = align_up(bytes > 2 * ctx->scratch_size ? bytes : 2 * ctx->scratch_size, 16);
        if (size > ctx->info.max_storage_buffer_range) size = ctx->info.max_storage_buffer_range;
        int i = ctx->scratch_count;
        if (vkg_buffer_create(ctx, size, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &ctx->scratch[i],
                              &ctx->scratch_memory[i]) < 0)
            return -1;
        ctx->scratch_count++;
        ctx->scratch_size = size;
    }
    *out = (vkg_buf){(void *)ctx->scratch[ctx->scratch_count - 1], 0, bytes};
    return 0;
}

vkg_arena *vkg_arena_create(vkg_ctx *ctx, uint64_t block_bytes) {
    vkg_arena *a = calloc(1, sizeof *a);
    if (!a) {
        vkg_set_error("out of host memory");
        return NULL;
    }
    a->ctx = ctx;
    a->block_bytes = block_bytes ? block_bytes : (256u << 20);
    return a;
}

vkg_arena *vkg_arena_create_mapped(vkg_ctx *ctx, uint64_t block_bytes) {
    vkg_arena *a = vkg_arena_create(ctx, block_bytes ? block_bytes : (1u << 20));
    if (a) a->mapped = 1;
    return a;
}

void *vkg_arena_host(const vkg_arena *a, const vkg_buf *b) {
    for (int i = 0; a->mapped && i < a->blocks; i++)
        if ((void *)a->buffer[i] == b->buffer) return (char *)a->map[i] + b->offset;
    return NULL;
}

void vkg_arena_destroy(vkg_arena *a) {
    if (!a) return;
    for (int i = 0; i < a->blocks; i++) {
        vkDestroyBuffer(a->ctx->device, a->buffer[i], NULL);
        vkFreeMemory(a->ctx->device, a->memory[i], NULL);
    }
    free(a);
}

static int add_block(vkg_arena *a, uint64_t bytes) {
    if (a->blocks == MAX_BLOCKS)
        return vkg_set_error("memory arena full: %d blocks of %.1f MiB already allocated",
                             MAX_BLOCKS, a->block_bytes / MIB);
    int i = a->blocks;
    VkMemoryPropertyFlags required =
        a->mapped ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT : 0;
    VkMemoryPropertyFlags preferred =
        a->mapped ? VK_MEMORY_PROPERTY_HOST_CACHED_BIT : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    if (vkg_buffer_create(a->ctx, bytes, required, preferred, &a->buffer[i], &a->memory[i]) < 0)
        return -1;
    if (a->mapped) {
        VkResult r = vkMapMemory(a->ctx->device, a->memory[i], 0, VK_WHOLE_SIZE, 0, &a->map[i]);
        if (r != VK_SUCCESS) {
            vkDestroyBuffer(a->ctx->device, a->buffer[i], NULL);
            vkFreeMemory(a->ctx->device, a->memory[i], NULL);
            return vkg_set_error("cannot map host-visible memory: %s", vkg_result_string(r));
        }
    }
    a->size[i] = bytes;
    a->used[i] = 0;
    a->blocks++;
    return 0;
}

int vkg_arena_alloc(vkg_arena *a, uint64_t bytes, vkg_buf *out) {
    const vkg_device_info *d = &a->ctx->info;
    if (bytes == 0) return vkg_set_error("cannot allocate an empty buffer");
    if (bytes > d->max_storage_buffer_range)
        return vkg_set_error("a buffer of %.1f MiB is larger than %s can bind "
                             "(maxStorageBufferRange %.1f MiB)",
                             bytes / MIB, d->name, d->max_storage_buffer_range / MIB);
    uint64_t align = d->storage_offset_alignment > 16 ? d->storage_offset_alignment : 16;
    /* whole 16-byte texels are reserved, so that a range rounded up to them stays in the
     * allocation (vkg_texel_floats) */
    bytes = align_up(bytes, 4);
    uint64_t reserved = align_up(bytes, 16);
    int b = a->blocks - 1;
    if (b < 0 || align_up(a->used[b], align) + reserved > a->size[b]) {
        uint64_t block = reserved > a->block_bytes ? reserved : a->block_bytes;
        if (add_block(a, block) < 0) return -1;
        b = a->blocks - 1;
    }
    uint64_t offset = align_up(a->used[b], align);
    a->used[b] = offset + reserved;
    *out = (vkg_buf){.buffer = (void *)a->buffer[b], .offset = offset, .size = bytes};
    return 0;
}

vkg_ctx *vkg_arena_ctx(const vkg_arena *a) {
    return a->ctx;
}

uint64_t vkg_arena_used(const vkg_arena *a) {
    uint64_t total = 0;
    for (int i = 0; i < a->blocks; i++) total += a->used[i];
    return total;
}

int vkg_tensor_alloc(vkg_arena *a, int n, int c, int h, int w, vkg_tensor *out) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return vkg_set_error("invalid tensor shape %dx%dx%dx%d", n, c, h, w);
    uint64_t bytes = (uint64_t)n * c * h * w * sizeof(float);
    if (vkg_arena_alloc(a, bytes, &out->buf) < 0) return -1;
    out->n = n, out->c = c, out->h = h, out->w = w;
    return 0;
}

vkg_tensor vkg_tensor_view(const vkg_tensor *t, size_t first, int n, int c, int h, int w) {
    vkg_tensor v = {.buf = t->buf, .n = n, .c = c, .h = h, .w = w};
    v.buf.offset += first * sizeof(float);
    v.buf.size = (uint64_t)n * c * h * w * sizeof(float);
    return v;
}

int vkg_run_once(vkg_ctx *ctx, void (*fill)(VkCommandBuffer, void *), void *user) {
    VkCommandBufferAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = ctx->cmd_pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                         .commandBufferCount = 1};
    VkCommandBuffer cb;
    VkResult r = vkAllocateCommandBuffers(ctx->device, &alloc, &cb);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot allocate a command buffer: %s", vkg_result_string(r));
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    vkBeginCommandBuffer(cb, &begin);
    fill(cb, user);
    vkEndCommandBuffer(cb);
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    vkCreateFence(ctx->device, &fence_info, NULL, &fence);
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    r = vkQueueSubmit(ctx->queue, 1, &submit, fence);
    if (r == VK_SUCCESS) r = vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, 600ull * 1000000000);
    vkDestroyFence(ctx->device, fence, NULL);
    vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &cb);
    if (r != VK_SUCCESS)
        return vkg_set_error("a transfer on %s failed: %s", ctx->info.name, vkg_result_string(r));
    return 0;
}

static int ensure_staging(vkg_ctx *ctx) {
    if (ctx->staging) return 0;
    if (vkg_buffer_create(
            ctx, STAGING_BYTES,
            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
            VK_MEMORY_PROPERTY_HOST_CACHED_BIT, &ctx->staging, &ctx->staging_memory) < 0)
        return -1;
    ctx->staging_size = STAGING_BYTES;
    VkResult r =
        vkMapMemory(ctx->device, ctx->staging_memory, 0, VK_WHOLE_SIZE, 0, &ctx->staging_map);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot map the staging buffer: %s", vkg_result_string(r));
    return 0;
}

typedef struct copy_job {
    VkBuffer src, dst;
    VkBufferCopy region;
} copy_job;

/* Orders the copy after earlier compute/transfer writes and before later reads. */
static void record_copy(VkCommandBuffer cb, void *user) {
    copy_job *job = user;
    VkMemoryBarrier before = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
    vkCmdCopyBuffer(cb, job->src, job->dst, 1, &job->region);
    VkMemoryBarrier after = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                             .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                             .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                         &after, 0, NULL, 0, NULL);
}

static int check_range(const vkg_buf *b, uint64_t bytes) {
    if (!b->buffer) return vkg_set_error("copy to or from an unallocated buffer");
    if (bytes > b->size)
        return vkg_set_error("copy of %llu bytes exceeds the %llu-byte buffer range",
                             (unsigned long long)bytes, (unsigned long long)b->size);
    return 0;
}

int vkg_upload(vkg_ctx *ctx, const vkg_buf *dst, const void *src, uint64_t bytes) {
    if (check_range(dst, bytes) < 0 || ensure_staging(ctx) < 0) return -1;
    for (uint64_t done = 0; done < bytes;) {
        uint64_t n = bytes - done < ctx->staging_size ? bytes - done : ctx->staging_size;
        memcpy(ctx->staging_map, (const char *)src + done, n);
        copy_job job = {ctx->staging, (VkBuffer)dst->buffer, {0, dst->offset + done, n}};
        if (vkg_run_once(ctx, record_copy, &job) < 0) return -1;
        done += n;
    }
    return 0;
}

int vkg_download(vkg_ctx *ctx, const vkg_buf *src, void *dst, uint64_t bytes) {
    if (check_range(src, bytes) < 0 || ensure_staging(ctx) < 0) return -1;
    for (uint64_t done = 0; done < bytes;) {
        uint64_t n = bytes - done < ctx->staging_size ? bytes - done : ctx->staging_size;
        copy_job job = {(VkBuffer)src->buffer, ctx->staging, {src->offset + done, 0, n}};
        if (vkg_run_once(ctx, record_copy, &job) < 0) return -1;
        memcpy((char *)dst + done, ctx->staging_map, n);
        done += n;
    }
    return 0;
}

int vkg_tensor_upload(vkg_ctx *ctx, const vkg_tensor *t, const float *src) {
    return vkg_upload(ctx, &t->buf, src, vkg_tensor_count(t) * sizeof(float));
}

int vkg_tensor_download(vkg_ctx *ctx, const vkg_tensor *t, float *dst) {
    return vkg_download(ctx, &t->buf, dst, vkg_tensor_count(t) * sizeof(float));
}
