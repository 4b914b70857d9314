/* vkgan GPU layer: device, memory arenas, tensors, recorded command buffers, timing. */
#ifndef VKGAN_GPU_H
#define VKGAN_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "vkgan/error.h"

typedef struct vkg_ctx vkg_ctx;
typedef struct vkg_arena vkg_arena;
typedef struct vkg_rec vkg_rec;

/* What `vkgan devices` shows about one physical device. */
typedef struct vkg_device_info {
    char name[256];
    const char *type; /* "discrete", "integrated", "virtual", "cpu", "other" */
    char driver_name[256];
    char driver_info[256];
    uint32_t driver_version;
    uint32_t api_version;
    uint8_t uuid[16];
    int heap_count;
    uint64_t heap_size[16];
    int heap_device_local[16];
    uint32_t subgroup_size;
    int subgroup_arithmetic; /* subgroup add in compute shaders */
    uint32_t shared_memory;  /* bytes of shared memory per workgroup */
    uint32_t max_workgroup_invocations;
    uint64_t max_storage_buffer_range;
    uint64_t storage_offset_alignment;
    int fp16, int8, cooperative_matrix;
    float timestamp_period_ns;
} vkg_device_info;

enum { VKG_GEMM_AUTO = 0, VKG_GEMM_PACKED = 1, VKG_GEMM_TILED = 2 };

typedef struct vkg_ctx_options {
    const char *device; /* NULL: best device; else an index or a substring of the name */
    int validation;     /* -1: from VKGAN_VALIDATION; 0 off; 1 on (with synchronization checks) */
    int quiet;          /* do not print the "software device" note */
    int force_shared_reductions; /* ignore subgroup arithmetic (tests the fallback path) */
    int force_shared_tiles;      /* GEMM tiles through shared memory even on a CPU device */
    /* Convolutions and dense layers as packed GEMMs read through rgba32f texel buffers (the
     * fast path on CPU devices, see shaders/gemm_packed.comp): VKG_GEMM_AUTO (0) uses them on
     * CPU devices, or as the environment variable VKGAN_GEMM (packed or tiled) says, and
     * vkg_ctx_create fails when it says anything else; VKG_GEMM_PACKED on any device that
     * supports them; VKG_GEMM_TILED never. */
    int gemm_path;
    /* On a CPU device, the vector registers its compiled kernels have (0: the host's; lavapipe
     * compiles for the CPU it runs on: 32 with AVX-512VL, else 16). Register-hungry kernels are
     * chosen only where they fit (vkg_ctx_vector_registers); tests set it to reach both. */
    int vector_registers;
    /* A window (vkgan train --view): the instance extensions its surface needs, and a test of
     * whether a queue family of a device can present to it (GLFW's presentation-support query,
     * taking VkInstance, VkPhysicalDevice, family). With `present` set, the device is made with
     * VK_KHR_swapchain and its queue is one that computes and presents. */
    const char *const *instance_extensions;
    int instance_extension_count;
    int (*present)(void *instance, void *physical_device, uint32_t family);
} vkg_ctx_options;

/* Enumerates devices (deduplicated by UUID) without creating a logical device. */
int vkg_list_devices(vkg_device_info *out, int max, int *count);
/* Whether `device` (as vkg_ctx_options.device: an index or a part of a name) picks a device,
 * found without opening one: 0 (also for NULL and ""); 1 when it names none, with vkg_error()
 * listing the devices there are (a usage error for a program to report); -1 with vkg_error()
 * when there are none or they cannot be listed. */
int vkg_device_check(const char *device);
/* How much a device type (vkg_device_info.type) is preferred, higher first: discrete >
 * integrated > virtual > cpu > other; the order vkg_ctx_create picks by. */
int vkg_device_type_rank(const char *type);

/* Creates the instance, picks a device (discrete > integrated > virtual > cpu) and creates it. */
vkg_ctx *vkg_ctx_create(const vkg_ctx_options *opts);
/* Waits for the device and destroys the context; returns the validation messages its
 * destruction raised (with validation on, an object left undestroyed), 0 without validation. */
int vkg_ctx_destroy(vkg_ctx *ctx);
const vkg_device_info *vkg_ctx_device(const vkg_ctx *ctx);
/* Validation messages (errors and warnings) reported since the context was made. */
int vkg_ctx_validation_count(const vkg_ctx *ctx);
const char *vkg_ctx_last_validation_message(const vkg_ctx *ctx);
/* Whether reductions use subgroup arithmetic (else the shared-memory fallback). */
int vkg_ctx_uses_subgroups(const vkg_ctx *ctx);
/* Whether GEMM tiles load operands directly (CPU devices) rather than through shared memory. */
int vkg_ctx_uses_direct_tiles(const vkg_ctx *ctx);
/* Whether convolutions and dense layers run as packed texel-buffer GEMMs (vkg_ctx_options). */
int vkg_ctx_uses_packed_gemm(const vkg_ctx *ctx);
/* The vector registers of a CPU device's compiled kernels (vkg_ctx_options.vector_registers);
 * 0 on other devices. */
int vkg_ctx_vector_registers(const vkg_ctx *ctx);

/* A storage-buffer range: the unit every kernel reads and writes. */
typedef struct vkg_buf {
    void *buffer; /* VkBuffer */
    uint64_t offset;
    uint64_t size;
} vkg_buf;

/* A device range of at least `bytes` for a kernel's intermediate results (split-K partial sums).
 * Every call returns the start of the same buffer (grown as needed; retired buffers live until
 * the context ends), so the recording's hazard tracking orders its users. */
int vkg_ctx_scratch(vkg_ctx *ctx, uint64_t bytes, vkg_buf *out);

/* A tensor is a view: a buffer range plus an NCHW fp32 shape (unused trailing dims are 1). */
typedef struct vkg_tensor {
    vkg_buf buf;
    int n, c, h, w;
} vkg_tensor;

static inline size_t vkg_tensor_count(const vkg_tensor *t) {
    return (size_t)t->n * t->c * t->h * t->w;
}

/* A memory arena: one or a few large device allocations, sub-allocated by a bump pointer. */
vkg_arena *vkg_arena_create(vkg_ctx *ctx, uint64_t block_bytes);
void vkg_arena_destroy(vkg_arena *arena);
/* Allocates `bytes` (aligned for storage-buffer offsets) in the arena. */
int vkg_arena_alloc(vkg_arena *arena, uint64_t bytes, vkg_buf *out);
int vkg_tensor_alloc(vkg_arena *arena, int n, int c, int h, int w, vkg_tensor *out);
/* A sub-view of `t`: elements [first, first + count) reshaped to n, c, h, w. */
vkg_tensor vkg_tensor_view(const vkg_tensor *t, size_t first, int n, int c, int h, int w);
uint64_t vkg_arena_used(const vkg_arena *arena);
vkg_ctx *vkg_arena_ctx(const vkg_arena *arena);
/* An arena in host-visible, coherent memory, mapped for its lifetime: kernels write results the
 * host reads in place once the recording that wrote them has finished (no transfer, no wait for
 * later work). vkg_arena_host gives a buffer's host address (NULL for other arenas). */
vkg_arena *vkg_arena_create_mapped(vkg_ctx *ctx, uint64_t block_bytes);
void *vkg_arena_host(const vkg_arena *arena, const vkg_buf *buf);

/* Blocking copies between host memory and a buffer range, through a staging buffer. */
int vkg_upload(vkg_ctx *ctx, const vkg_buf *dst, const void *src, uint64_t bytes);
int vkg_download(vkg_ctx *ctx, const vkg_buf *src, void *dst, uint64_t bytes);
int vkg_tensor_upload(vkg_ctx *ctx, const vkg_tensor *t, const float *src);
int vkg_tensor_download(vkg_ctx *ctx, const vkg_tensor *t, float *dst);

/* A recording: a command buffer filled once by kernel calls and submitted any number of times.
 * Barriers are inserted only where a dispatch touches a range an earlier one wrote (or writes a
 * range an earlier one read). With timing on, a timestamp follows every dispatch. */
vkg_rec *vkg_rec_begin(vkg_ctx *ctx, int timing);
int vkg_rec_end(vkg_rec *rec);
int vkg_rec_submit(vkg_rec *rec);
int vkg_rec_wait(vkg_rec *rec);
int vkg_rec_run(vkg_rec *rec); /* submit + wait */
/* Whether the last submit has finished (never waits). */
int vkg_rec_done(vkg_rec *rec);
void vkg_rec_destroy(vkg_rec *rec);
int vkg_rec_dispatch_count(const vkg_rec *rec);
int vkg_rec_barrier_count(const vkg_rec *rec);
/* Per-dispatch GPU times in milliseconds of the last completed submit; returns the count. */
int vkg_rec_timings(vkg_rec *rec, double *ms, const char **names, int max);
/* The GPU time in milliseconds of the last completed submit of a timed recording, from its first
 * timestamp to its last (two query reads); 0 with *ms = 0 when it has no timed dispatch. */
int vkg_rec_span_ms(vkg_rec *rec, double *ms);

/* A host call between two parts of a recording (data-parallel training sums gradients across
 * processes there): the commands recorded so far end a part. Submitting the recording then
 * runs its parts in order, waiting for each and calling fn(user) on the host before the next
 * is queued (the submit returns once the last part is queued); fn's -1 (with vkg_error) stops
 * the submit there. Every write before the call is visible to the host in fn, and fn's writes
 * to host-visible memory to the commands after it. Timestamps run on across the parts. */
typedef int (*vkg_host_fn)(void *user);
int vkg_rec_host_call(vkg_rec *rec, vkg_host_fn fn, void *user);

/* Fills a range with a 32-bit pattern (recorded as vkCmdFillBuffer). */
void vkg_rec_fill(vkg_rec *rec, const vkg_buf *dst, uint32_t word);
/* Copies src to dst (ranges of the same size; recorded as vkCmdCopyBuffer). */
int vkg_rec_copy(vkg_rec *rec, const vkg_buf *src, const vkg_buf *dst);

#endif
