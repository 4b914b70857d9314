/* Compute pipelines from the embedded SPIR-V, made once per (shader, specialization), and the
 * on-disk pipeline cache keyed by device UUID and driver version. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/internal.h"

struct vkg_shader_blob {
    const char *name;
    const uint32_t *code;
    size_t size;
};
extern const struct vkg_shader_blob vkg_shader_table[];

static const struct vkg_shader_blob *find_shader(const char *name) {
    for (const struct vkg_shader_blob *s = vkg_shader_table; s->name; s++)
        if (strcmp(s->name, name) == 0) return s;
    return NULL;
}

const char *vkg_shader_name(const char *name) {
    const struct vkg_shader_blob *s = find_shader(name);
    return s ? s->name : "?";
}

static int mkdir_p(const char *path) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* $XDG_CACHE_HOME/vkgan (or ~/.cache/vkgan)/pipelines-<uuid>-<driver version>.bin */
static void cache_path(vkg_ctx *ctx) {
    const char *base = getenv("XDG_CACHE_HOME");
    char dir[900];
    if (base && *base)
        snprintf(dir, sizeof dir, "%s/vkgan", base);
    else if (getenv("HOME"))
        snprintf(dir, sizeof dir, "%s/.cache/vkgan", getenv("HOME"));
    else
        return;
    char uuid[33];
    for (int i = 0; i < 16; i++) snprintf(uuid + 2 * i, 3, "%02x", ctx->info.uuid[i]);
    snprintf(ctx->pipeline_cache_path, sizeof ctx->pipeline_cache_path, "%s/pipelines-%s-%08x.bin",
             dir, uuid, ctx->info.driver_version);
    if (mkdir_p(dir) != 0) ctx->pipeline_cache_path[0] = 0; /* no cache, not an error */
}

/* Reads the cache file; the driver checks its header (vendor, device, pipelineCacheUUID) and
 * starts empty when it belongs to another device or driver. */
static void *read_cache(vkg_ctx *ctx, size_t *size) {
    *size = 0;
    FILE *f = ctx->pipeline_cache_path[0] ? fopen(ctx->pipeline_cache_path, "rb") : NULL;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = n >= 32 ? malloc((size_t)n) : NULL;
    if (data && fread(data, 1, (size_t)n, f) == (size_t)n) {
        *size = (size_t)n;
    } else {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

static void write_cache(vkg_ctx *ctx) {
    if (!ctx->pipeline_cache_path[0] || !ctx->pipeline_cache || ctx->pipeline_count == 0) return;
    size_t size = 0;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, NULL) != VK_SUCCESS) return;
    void *data = malloc(size);
    if (!data) return;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, data) == VK_SUCCESS) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.tmp%d", ctx->pipeline_cache_path, (int)getpid());
        FILE *f = fopen(tmp, "wb");
        int ok = f && fwrite(data, 1, size, f) == size;
        if (f) ok = (fflush(f) == 0) & (fsync(fileno(f)) == 0) & (fclose(f) == 0) && ok;
        if (ok) ok = rename(tmp, ctx->pipeline_cache_path) == 0;
        if (!ok) remove(tmp);
    }
    free(data);
}

/* A descriptor set layout of nbind bindings (binding i a uniform texel buffer where bit i of
 * texel_mask is set, else a storage buffer) and its pipeline layout (with the push constants). */
static int create_layouts(vkg_ctx *ctx, int nbind, unsigned texel_mask, VkDescriptorSetLayout *set,
                          VkPipelineLayout *pipe) {
    VkDescriptorSetLayoutBinding bindings[VKG_MAX_BINDINGS];
    for (int i = 0; i < nbind; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = (uint32_t)i,
            .descriptorType = (texel_mask >> i) & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                    : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo info = {.sType =
                                                VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                            .bindingCount = (uint32_t)nbind,
                                            .pBindings = bindings};
    VkResult r = vkCreateDescriptorSetLayout(ctx->device, &info, NULL, set);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot create a descriptor set layout: %s", vkg_result_string(r));
    VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, VKG_PUSH_BYTES};
    VkPipelineLayoutCreateInfo layout = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                         .setLayoutCount = 1,
                                         .pSetLayouts = set,
                                         .pushConstantRangeCount = 1,
                                         .pPushConstantRanges = &push};
    r = vkCreatePipelineLayout(ctx->device, &layout, NULL, pipe);
    if (r != VK_SUCCESS) {
        vkDestroyDescriptorSetLayout(ctx->device, *set, NULL);
        *set = VK_NULL_HANDLE;
        return vkg_set_error("cannot create a pipeline layout: %s", vkg_result_string(r));
    }
    return 0;
}

int vkg_pipelines_init(vkg_ctx *ctx) {
    for (int n = 0; n <= VKG_MAX_BINDINGS; n++)
        if (create_layouts(ctx, n, 0, &ctx->set_layout[n], &ctx->pipe_layout[n]) < 0) return -1;
    cache_path(ctx);
    size_t size;
    void *data = read_cache(ctx, &size);
    VkPipelineCacheCreateInfo info = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                      .initialDataSize = size,
                                      .pInitialData = data};
    VkResult r = vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    if (r != VK_SUCCESS && data) { /* a cache the driver rejects: start empty */
        info.initialDataSize = 0;
        info.pInitialData = NULL;
        r = vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    }
    free(data);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot create a pipeline cache: %s", vkg_result_string(r));
    return 0;
}

int vkg_layouts(vkg_ctx *ctx, int nbind, unsigned texel_mask, VkDescriptorSetLayout *set,
                VkPipelineLayout *pipe) {
    if (texel_mask == 0) {
        *set = ctx->set_layout[nbind];
        *pipe = ctx->pipe_layout[nbind];
        return 0;
    }
    for (int i = 0; i < ctx->texel_layout_count; i++) {
        struct texel_layout *t = &ctx->texel_layouts[i];
        if (t->nbind == nbind && t->mask == texel_mask) {
            *set = t->set;
            *pipe = t->pipe;
            return 0;
        }
    }
    int max = (int)(sizeof ctx->texel_layouts / sizeof *ctx->texel_layouts);
    if (ctx->texel_layout_count == max) return vkg_set_error("too many texel-buffer layouts");
    struct texel_layout *t = &ctx->texel_layouts[ctx->texel_layout_count];
    if (create_layouts(ctx, nbind, texel_mask, &t->set, &t->pipe) < 0) return -1;
    t->nbind = nbind;
    t->mask = texel_mask;
    ctx->texel_layout_count++;
    *set = t->set;
    *pipe = t->pipe;
    return 0;
}

void vkg_pipelines_destroy(vkg_ctx *ctx) {
    write_cache(ctx);
    for (int i = 0; i < ctx->pipeline_count; i++)
        vkDestroyPipeline(ctx->device, ctx->pipelines[i].pipeline, NULL);
    free(ctx->pipelines);
    if (ctx->pipeline_cache) vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    for (int i = 0; i < ctx->texel_layout_count; i++) {
        vkDestroyPipelineLayout(ctx->device, ctx->texel_layouts[i].pipe, NULL);
        vkDestroyDescriptorSetLayout(ctx->device, ctx->texel_layouts[i].set, NULL);
    }
    for (int n = 0; n <= VKG_MAX_BINDINGS; n++) {
        if (ctx->pipe_layout[n]) vkDestroyPipelineLayout(ctx->device, ctx->pipe_layout[n], NULL);
        if (ctx->set_layout[n]) vkDestroyDescriptorSetLayout(ctx->device, ctx->set_layout[n], NULL);
    }
}

static VkPipeline create_pipeline(vkg_ctx *ctx, const struct vkg_shader_blob *blob,
                                  const uint32_t *spec, int nspec, int nbind, unsigned mask) {
    VkDescriptorSetLayout set;
    VkPipelineLayout pipe_layout;
    if (vkg_layouts(ctx, nbind, mask, &set, &pipe_layout) < 0) return VK_NULL_HANDLE;
    VkShaderModuleCreateInfo module_info = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                            .codeSize = blob->size,
                                            .pCode = blob->code};
    VkShaderModule module;
    VkResult r = vkCreateShaderModule(ctx->device, &module_info, NULL, &module);
    if (r != VK_SUCCESS) {
        vkg_set_error("cannot load shader %s: %s", blob->name, vkg_result_string(r));
        return VK_NULL_HANDLE;
    }
    VkSpecializationMapEntry entries[VKG_MAX_SPEC];
    for (int i = 0; i < nspec; i++)
        entries[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(i * 4), 4};
    VkSpecializationInfo spec_info = {(uint32_t)nspec, entries, (size_t)nspec * 4, spec};
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = module,
                  .pName = "main",
                  .pSpecializationInfo = nspec ? &spec_info : NULL},
        .layout = pipe_layout};
    VkPipeline pipeline = VK_NULL_HANDLE;
    r = vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &info, NULL, &pipeline);
    vkDestroyShaderModule(ctx->device, module, NULL);
    if (r != VK_SUCCESS) {
        vkg_set_error("cannot create the pipeline for shader %s: %s", blob->name,
                      vkg_result_string(r));
        return VK_NULL_HANDLE;
    }
    return pipeline;
}

VkPipeline vkg_pipeline_get(vkg_ctx *ctx, const char *shader, const uint32_t *spec, int nspec,
                            int nbind, unsigned texel_mask) {
    for (int i = 0; i < ctx->pipeline_count; i++) {
        vkg_pipeline *p = &ctx->pipelines[i];
        if (p->nspec == nspec && p->nbind == nbind && p->texel_mask == texel_mask &&
            strcmp(p->shader, shader) == 0 &&
            memcmp(p->spec, spec, sizeof(uint32_t) * (size_t)nspec) == 0)
            return p->pipeline;
    }
    const struct vkg_shader_blob *blob = find_shader(shader);
    if (!blob) {
        vkg_set_error("no embedded shader named %s", shader);
        return VK_NULL_HANDLE;
    }
    if (ctx->pipeline_count == ctx->pipeline_cap) {
        int cap = ctx->pipeline_cap ? 2 * ctx->pipeline_cap : 32;
        vkg_pipeline *grown = realloc(ctx->pipelines, sizeof *grown * (size_t)cap);
        if (!grown) {
            vkg_set_error("out of host memory");
            return VK_NULL_HANDLE;
        }
        ctx->pipelines = grown;
        ctx->pipeline_cap = cap;
    }
    VkPipeline pipeline = create_pipeline(ctx, blob, spec, nspec, nbind, texel_mask);
    if (!pipeline) return VK_NULL_HANDLE;
    vkg_pipeline *p = &ctx->pipelines[ctx->pipeline_count++];
    memset(p, 0, sizeof *p);
    snprintf(p->shader, sizeof p->shader, "%s", shader);
    memcpy(p->spec, spec, sizeof(uint32_t) * (size_t)nspec);
    p->nspec = nspec;
    p->nbind = nbind;
    p->texel_mask = texel_mask;
    p->pipeline = pipeline;
    return pipeline;
}
