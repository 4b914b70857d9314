/* Recordings: command buffers filled once with dispatches and replayed. Barriers are placed from
 * the buffer ranges each dispatch reads and writes; timestamps follow each dispatch on request. */
#include <stdlib.h>
#include <string.h>

#include "gpu/internal.h"

#define SETS_PER_POOL 256
#define MAX_TIMESTAMPS 4096

typedef struct range {
    VkBuffer buffer;
    uint64_t begin, end;
} range;

typedef struct range_list {
    range *items;
    int count, cap;
} range_list;

/* A part of a recording that ends in a host call (vkg_rec_host_call). */
typedef struct part {
    VkCommandBuffer cb;
    vkg_host_fn fn;
    void *user;
} part;

struct vkg_rec {
    vkg_ctx *ctx;
    VkCommandBuffer cb; /* the part being recorded (the last one) */
    part *parts;        /* the parts before it */
    int part_count;
    VkFence fence;
    int pending;
    int failed;
    VkDescriptorPool *pools;
    int pool_count;
    int sets_in_pool;
    range_list written, read; /* since the last barrier */
    int dispatches, barriers;
    VkQueryPool queries;
    const char **names;  /* shader name of each timed dispatch */
    VkBufferView *views; /* texel-buffer views of the recorded dispatches */
    int view_count, view_cap;
    int timed;
};

static int add_range(range_list *l, VkBuffer buffer, uint64_t begin, uint64_t end) {
    if (l->count == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        range *grown = realloc(l->items, sizeof *grown * (size_t)cap);
        if (!grown) return vkg_set_error("out of host memory");
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = (range){buffer, begin, end};
    return 0;
}

static int overlaps(const range_list *l, VkBuffer buffer, uint64_t begin, uint64_t end) {
    for (int i = 0; i < l->count; i++)
        if (l->items[i].buffer == buffer && l->items[i].begin < end && begin < l->items[i].end)
            return 1;
    return 0;
}

static void barrier(vkg_rec *rec) {
    VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                         .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                         .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                          VK_ACCESS_TRANSFER_READ_BIT |
                                          VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags stages =
        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(rec->cb, stages, stages, 0, 1, &b, 0, NULL, 0, NULL);
    rec->written.count = 0;
    rec->read.count = 0;
    rec->barriers++;
}

/* A barrier is needed when this access reads or writes what was written since the last one,
 * or writes what was read since the last one. */
static int needs_barrier(vkg_rec *rec, const vkg_buf *b, int write) {
    VkBuffer buffer = (VkBuffer)b->buffer;
    uint64_t end = b->offset + b->size;
    return overlaps(&rec->written, buffer, b->offset, end) ||
           (write && overlaps(&rec->read, buffer, b->offset, end));
}

static int track(vkg_rec *rec, const vkg_buf *b, int write) {
    return add_range(write ? &rec->written : &rec->read, (VkBuffer)b->buffer, b->offset,
                     b->offset + b->size);
}

/* A new command buffer in rec->cb, begun and ordered after whatever ran before it. */
static VkResult begin_part(vkg_rec *rec) {
    VkCommandBufferAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = rec->ctx->cmd_pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                         .commandBufferCount = 1};
    VkResult r = vkAllocateCommandBuffers(rec->ctx->device, &alloc, &rec->cb);
    if (r != VK_SUCCESS) return r;
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    vkBeginCommandBuffer(rec->cb, &begin);
    barrier(rec);
    return VK_SUCCESS;
}

/* Ends rec->cb with every write made visible to the host and to later submits. */
static int end_part(vkg_rec *rec) {
    VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                         .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                         .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(rec->cb,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &b, 0, NULL, 0, NULL);
    VkResult r = vkEndCommandBuffer(rec->cb);
    if (r != VK_SUCCESS) return vkg_set_error("cannot end a recording: %s", vkg_result_string(r));
    return 0;
}

vkg_rec *vkg_rec_begin(vkg_ctx *ctx, int timing) {
    vkg_rec *rec = calloc(1, sizeof *rec);
    if (!rec) {
        vkg_set_error("out of host memory");
        return NULL;
    }
    rec->ctx = ctx;
    VkResult r = begin_part(rec);
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (r == VK_SUCCESS) r = vkCreateFence(ctx->device, &fence, NULL, &rec->fence);
    if (r == VK_SUCCESS && timing) {
        VkQueryPoolCreateInfo q = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                   .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                   .queryCount = MAX_TIMESTAMPS};
        r = vkCreateQueryPool(ctx->device, &q, NULL, &rec->queries);
        rec->names = calloc(MAX_TIMESTAMPS, sizeof *rec->names);
    }
    if (r != VK_SUCCESS) {
        vkg_set_error("cannot start a recording: %s", vkg_result_string(r));
        vkg_rec_destroy(rec);
        return NULL;
    }
    rec->barriers = 0;
    if (rec->queries) {
        vkCmdResetQueryPool(rec->cb, rec->queries, 0, MAX_TIMESTAMPS);
        vkCmdWriteTimestamp(rec->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, rec->queries, 0);
        rec->timed = 1;
    }
    return rec;
}

vkg_ctx *vkg_rec_ctx(vkg_rec *rec) {
    return rec->ctx;
}

static VkDescriptorSet allocate_set(vkg_rec *rec, VkDescriptorSetLayout layout) {
    vkg_ctx *ctx = rec->ctx;
    if (rec->pool_count == 0 || rec->sets_in_pool == SETS_PER_POOL) {
        VkDescriptorPoolSize size[2] = {
            {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * VKG_MAX_BINDINGS},
            {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, SETS_PER_POOL * VKG_MAX_BINDINGS}};
        VkDescriptorPoolCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                           .maxSets = SETS_PER_POOL,
                                           .poolSizeCount = 2,
                                           .pPoolSizes = size};
        VkDescriptorPool *grown =
            realloc(rec->pools, sizeof *grown * (size_t)(rec->pool_count + 1));
        if (!grown) {
            vkg_set_error("out of host memory");
            return VK_NULL_HANDLE;
        }
        rec->pools = grown;
        VkResult r = vkCreateDescriptorPool(ctx->device, &info, NULL, &rec->pools[rec->pool_count]);
        if (r != VK_SUCCESS) {
            vkg_set_error("cannot create a descriptor pool: %s", vkg_result_string(r));
            return VK_NULL_HANDLE;
        }
        rec->pool_count++;
        rec->sets_in_pool = 0;
    }
    VkDescriptorSetAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                        .descriptorPool = rec->pools[rec->pool_count - 1],
                                        .descriptorSetCount = 1,
                                        .pSetLayouts = &layout};
    VkDescriptorSet set;
    VkResult r = vkAllocateDescriptorSets(ctx->device, &info, &set);
    if (r != VK_SUCCESS) {
        vkg_set_error("cannot allocate a descriptor set: %s", vkg_result_string(r));
        return VK_NULL_HANDLE;
    }
    rec->sets_in_pool++;
    return set;
}

static int fail(vkg_rec *rec) {
    rec->failed = 1;
    return -1;
}

/* An rgba32f view of a range (kept until the recording is destroyed). */
static VkBufferView texel_view(vkg_rec *rec, const char *shader, int binding, const vkg_buf *b) {
    vkg_ctx *ctx = rec->ctx;
    if (b->offset % ctx->texel_offset_alignment != 0 || b->size % 16 != 0 ||
        b->size / 16 > ctx->max_texel_elements) {
        vkg_set_error("kernel %s: binding %d (%llu bytes at %llu) cannot be an rgba32f texel "
                      "buffer on %s",
                      shader, binding, (unsigned long long)b->size, (unsigned long long)b->offset,
                      ctx->info.name);
        return VK_NULL_HANDLE;
    }
    if (rec->view_count == rec->view_cap) {
        int cap = rec->view_cap ? 2 * rec->view_cap : 16;
        VkBufferView *grown = realloc(rec->views, sizeof *grown * (size_t)cap);
        if (!grown) {
            vkg_set_error("out of host memory");
            return VK_NULL_HANDLE;
        }
        rec->views = grown;
        rec->view_cap = cap;
    }
    VkBufferViewCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                   .buffer = (VkBuffer)b->buffer,
                                   .format = VK_FORMAT_R32G32B32A32_SFLOAT,
                                   .offset = b->offset,
                                   .range = b->size};
    VkBufferView view;
    VkResult r = vkCreateBufferView(ctx->device, &info, NULL, &view);
    if (r != VK_SUCCESS) {
        vkg_set_error("kernel %s: cannot make a texel view: %s", shader, vkg_result_string(r));
        return VK_NULL_HANDLE;
    }
    rec->views[rec->view_count++] = view;
    return view;
}

int vkg_rec_kernel(vkg_rec *rec, const vkg_kernel *k) {
    vkg_ctx *ctx = rec->ctx;
    if (rec->failed) return -1;
    const vkg_shader_info *shader = vkg_shader_get(k->shader);
    if (!shader)
        return vkg_set_error("a kernel without a shader (id %d)", (int)k->shader), fail(rec);
    if (k->push_size != shader->push_size || (k->push_size && !k->push))
        return vkg_set_error("kernel %s: %u bytes of push constants for the shader's %u",
                             shader->name, k->push_size, shader->push_size),
               fail(rec);
    for (int i = 0; i < 3; i++)
        if (k->groups[i] > ctx->max_groups[i])
            return vkg_set_error("kernel %s: %u workgroups along %c, more than %s dispatches (%u): "
                                 "a smaller batch or image fits",
                                 shader->name, k->groups[i], "xyz"[i], ctx -> info.name,
                                 ctx->max_groups[i]),
                   fail(rec);
    VkPipeline pipeline = vkg_pipeline_get(ctx, k->shader, k->spec, k->nspec);
    if (!pipeline) return fail(rec);
    int nbind = shader->nbind;
    unsigned written = shader->write_mask;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    if (vkg_layouts(ctx, nbind, shader->texel_mask, &set_layout, &layout) < 0) return fail(rec);
    VkDescriptorSet set = allocate_set(rec, set_layout);
    if (!set) return fail(rec);

    VkDescriptorBufferInfo infos[VKG_MAX_BINDINGS];
    VkBufferView views[VKG_MAX_BINDINGS];
    VkWriteDescriptorSet writes[VKG_MAX_BINDINGS];
    int need_barrier = 0;
    for (int i = 0; i < nbind; i++) {
        const vkg_buf *b = k->bufs[i];
        if (!b || !b->buffer || b->size == 0)
            return vkg_set_error("kernel %s: binding %d has no buffer", shader->name, i), fail(rec);
        if (b->offset % ctx->info.storage_offset_alignment != 0)
            return vkg_set_error("kernel %s: binding %d starts at byte %llu, not a multiple of "
                                 "%s's storage-buffer offset alignment (%llu)",
                                 shader->name, i, (unsigned long long)b->offset, ctx->info.name,
                                 (unsigned long long)ctx->info.storage_offset_alignment),
                   fail(rec);
        infos[i] = (VkDescriptorBufferInfo){(VkBuffer)b->buffer, b->offset, b->size};
        writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                           .dstSet = set,
                                           .dstBinding = (uint32_t)i,
                                           .descriptorCount = 1,
                                           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .pBufferInfo = &infos[i]};
        if ((shader->texel_mask >> i) & 1) {
            views[i] = texel_view(rec, shader->name, i, b);
            if (!views[i]) return fail(rec);
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
            writes[i].pBufferInfo = NULL;
            writes[i].pTexelBufferView = &views[i];
        }
        need_barrier |= needs_barrier(rec, b, (written >> i) & 1);
    }
    vkUpdateDescriptorSets(ctx->device, (uint32_t)nbind, writes, 0, NULL);
    if (need_barrier) barrier(rec);
    for (int i = 0; i < nbind; i++)
        if (track(rec, k->bufs[i], (written >> i) & 1) < 0) return fail(rec);

    vkCmdBindPipeline(rec->cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vkCmdBindDescriptorSets(rec->cb, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
    if (k->push_size)
        vkCmdPushConstants(rec->cb, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, k->push_size, k->push);
    vkCmdDispatch(rec->cb, k->groups[0], k->groups[1] ? k->groups[1] : 1,
                  k->groups[2] ? k->groups[2] : 1);
    rec->dispatches++;
    if (rec->queries && rec->timed < MAX_TIMESTAMPS) {
        rec->names[rec->timed] = shader->name;
        vkCmdWriteTimestamp(rec->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, rec->queries,
                            (uint32_t)rec->timed++);
    }
    return 0;
}

void vkg_rec_fill(vkg_rec *rec, const vkg_buf *dst, uint32_t word) {
    if (rec->failed) return;
    if (needs_barrier(rec, dst, 1)) barrier(rec);
    if (track(rec, dst, 1) < 0) {
        fail(rec);
        return;
    }
    vkCmdFillBuffer(rec->cb, (VkBuffer)dst->buffer, dst->offset, dst->size, word);
}

int vkg_rec_copy(vkg_rec *rec, const vkg_buf *src, const vkg_buf *dst) {
    if (rec->failed) return -1;
    if (src->size != dst->size)
        return vkg_set_error("copy: %llu bytes into a %llu-byte range",
                             (unsigned long long)src->size, (unsigned long long)dst->size),
               fail(rec);
    if (needs_barrier(rec, src, 0) || needs_barrier(rec, dst, 1)) barrier(rec);
    if (track(rec, src, 0) < 0 || track(rec, dst, 1) < 0) return fail(rec);
    VkBufferCopy region = {src->offset, dst->offset, src->size};
    vkCmdCopyBuffer(rec->cb, (VkBuffer)src->buffer, (VkBuffer)dst->buffer, 1, &region);
    return 0;
}

int vkg_rec_end(vkg_rec *rec) {
    return rec->failed ? -1 : end_part(rec);
}

int vkg_rec_host_call(vkg_rec *rec, vkg_host_fn fn, void *user) {
    if (rec->failed) return -1;
    part *grown = realloc(rec->parts, sizeof *grown * (size_t)(rec->part_count + 1));
    if (!grown) return vkg_set_error("out of host memory"), fail(rec);
    rec->parts = grown;
    if (end_part(rec) < 0) return fail(rec);
    rec->parts[rec->part_count++] = (part){rec->cb, fn, user};
    rec->cb = VK_NULL_HANDLE;
    VkResult r = begin_part(rec);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot continue a recording: %s", vkg_result_string(r)), fail(rec);
    return 0;
}

static int submit_cb(vkg_rec *rec, VkCommandBuffer cb, VkSemaphore wait, VkPipelineStageFlags stage,
                     VkSemaphore signal) {
    vkResetFences(rec->ctx->device, 1, &rec->fence);
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .waitSemaphoreCount = wait ? 1 : 0,
                           .pWaitSemaphores = &wait,
                           .pWaitDstStageMask = &stage,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cb,
                           .signalSemaphoreCount = signal ? 1 : 0,
                           .pSignalSemaphores = &signal};
    VkResult r = vkQueueSubmit(rec->ctx->queue, 1, &submit, rec->fence);
    if (r != VK_SUCCESS)
        return vkg_set_error("submitting work to %s failed: %s", rec->ctx->info.name,
                             vkg_result_string(r));
    rec->pending = 1;
    return 0;
}

int vkg_rec_submit(vkg_rec *rec) {
    return vkg_rec_submit_signalling(rec, VK_NULL_HANDLE, 0, VK_NULL_HANDLE);
}

int vkg_rec_submit_signalling(vkg_rec *rec, VkSemaphore wait, VkPipelineStageFlags stage,
                              VkSemaphore signal) {
    if (rec->failed) return vkg_set_error("cannot submit a recording that failed");
    if (rec->pending && vkg_rec_wait(rec) < 0) return -1;
    for (int i = 0; i < rec->part_count; i++) { /* each part, then its host call */
        const part *p = &rec->parts[i];
        if (submit_cb(rec, p->cb, i == 0 ? wait : VK_NULL_HANDLE, stage, VK_NULL_HANDLE) < 0 ||
            vkg_rec_wait(rec) < 0 || p->fn(p->user) < 0)
            return -1;
    }
    return submit_cb(rec, rec->cb, rec->part_count ? VK_NULL_HANDLE : wait, stage, signal);
}

int vkg_rec_wait(vkg_rec *rec) {
    if (!rec->pending) return 0;
    VkResult r = vkWaitForFences(rec->ctx->device, 1, &rec->fence, VK_TRUE, 600ull * 1000000000);
    rec->pending = 0;
    if (r == VK_TIMEOUT)
        return vkg_set_error("%s did not finish the work within 10 minutes", rec->ctx->info.name);
    if (r != VK_SUCCESS)
        return vkg_set_error("waiting for %s failed: %s", rec->ctx->info.name,
                             vkg_result_string(r));
    return 0;
}

int vkg_rec_done(vkg_rec *rec) {
    if (rec->pending && vkGetFenceStatus(rec->ctx->device, rec->fence) == VK_SUCCESS)
        rec->pending = 0;
    return !rec->pending;
}

VkCommandBuffer vkg_rec_command_buffer(vkg_rec *rec) {
    return rec->cb;
}

int vkg_rec_transfer_read(vkg_rec *rec, const vkg_buf *buf) {
    if (rec->failed) return -1;
    if (needs_barrier(rec, buf, 0)) barrier(rec);
    return track(rec, buf, 0) < 0 ? fail(rec) : 0;
}

int vkg_rec_run(vkg_rec *rec) {
    return vkg_rec_submit(rec) < 0 ? -1 : vkg_rec_wait(rec);
}

int vkg_rec_dispatch_count(const vkg_rec *rec) {
    return rec->dispatches;
}

int vkg_rec_barrier_count(const vkg_rec *rec) {
    return rec->barriers;
}

int vkg_rec_span_ms(vkg_rec *rec, double *ms) {
    *ms = 0;
    if (!rec->queries || rec->timed < 2) return 0;
    uint64_t first, last;
    VkQueryResultFlags wait = VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT;
    VkResult r = vkGetQueryPoolResults(rec->ctx->device, rec->queries, 0, 1, sizeof first, &first,
                                       sizeof first, wait);
    if (r == VK_SUCCESS)
        r = vkGetQueryPoolResults(rec->ctx->device, rec->queries, (uint32_t)rec->timed - 1, 1,
                                  sizeof last, &last, sizeof last, wait);
    if (r != VK_SUCCESS) return vkg_set_error("cannot read timestamps: %s", vkg_result_string(r));
    *ms = (double)(last - first) * rec->ctx->info.timestamp_period_ns * 1e-6;
    return 0;
}

int vkg_rec_timings(vkg_rec *rec, double *ms, const char **names, int max) {
    if (!rec->queries || rec->timed < 2) return 0;
    int n = rec->timed;
    uint64_t *stamps = calloc((size_t)n, sizeof *stamps);
    if (!stamps) return vkg_set_error("out of host memory");
    VkResult r = vkGetQueryPoolResults(rec->ctx->device, rec->queries, 0, (uint32_t)n,
                                       sizeof *stamps * (size_t)n, stamps, sizeof *stamps,
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    int count = 0;
    if (r == VK_SUCCESS) {
        double period = rec->ctx->info.timestamp_period_ns;
        for (int i = 1; i < n && count < max; i++, count++) {
            ms[count] = (double)(stamps[i] - stamps[i - 1]) * period * 1e-6;
            if (names) names[count] = rec->names[i];
        }
    }
    free(stamps);
    if (r != VK_SUCCESS) return vkg_set_error("cannot read timestamps: %s", vkg_result_string(r));
    return count;
}

void vkg_rec_destroy(vkg_rec *rec) {
    if (!rec) return;
    vkg_ctx *ctx = rec->ctx;
    if (rec->pending) vkWaitForFences(ctx->device, 1, &rec->fence, VK_TRUE, UINT64_MAX);
    for (int i = 0; i < rec->pool_count; i++)
        vkDestroyDescriptorPool(ctx->device, rec->pools[i], NULL);
    if (rec->queries) vkDestroyQueryPool(ctx->device, rec->queries, NULL);
    for (int i = 0; i < rec->view_count; i++) vkDestroyBufferView(ctx->device, rec->views[i], NULL);
    free(rec->views);
    if (rec->fence) vkDestroyFence(ctx->device, rec->fence, NULL);
    if (rec->cb) vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &rec->cb);
    for (int i = 0; i < rec->part_count; i++)
        vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &rec->parts[i].cb);
    free(rec->parts);
    free(rec->pools);
    free(rec->written.items);
    free(rec->read.items);
    free(rec->names);
    free(rec);
}
