/* Instance, device enumeration and choice, logical device, validation messages. */
#include <ctype.h>
#ifdef VKGAN_SANITIZE
#include <dlfcn.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/internal.h"

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

const char *vkg_result_string(VkResult result) {
    switch (result) {
    case VK_SUCCESS:
        return "success";
    case VK_TIMEOUT:
        return "timed out";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
        return "out of host memory";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        return "out of device memory";
    case VK_ERROR_INITIALIZATION_FAILED:
        return "initialization failed";
    case VK_ERROR_DEVICE_LOST:
        return "device lost";
    case VK_ERROR_LAYER_NOT_PRESENT:
        return "layer not present";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
        return "extension not present";
    case VK_ERROR_FEATURE_NOT_PRESENT:
        return "feature not present";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
        return "incompatible driver";
    case VK_ERROR_TOO_MANY_OBJECTS:
        return "too many objects";
    case VK_ERROR_FRAGMENTED_POOL:
        return "fragmented pool";
    case VK_ERROR_OUT_OF_POOL_MEMORY:
        return "out of pool memory";
    default:
        return "unexpected Vulkan error";
    }
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
              const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    vkg_ctx *ctx = user;
    (void)type;
    if (!(severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)))
        return VK_FALSE;
    ctx->validation_count++;
    snprintf(ctx->last_validation, sizeof ctx->last_validation, "%s", data->pMessage);
    fprintf(stderr, "vkgan: validation: %s\n", data->pMessage);
    return VK_FALSE;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, NULL);
    VkLayerProperties *layers = calloc(n ? n : 1, sizeof *layers);
    vkEnumerateInstanceLayerProperties(&n, layers);
    int found = 0;
    for (uint32_t i = 0; i < n; i++) found |= strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

static int has_device_extension(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL);
    VkExtensionProperties *ext = calloc(n ? n : 1, sizeof *ext);
    vkEnumerateDeviceExtensionProperties(phys, NULL, &n, ext);
    int found = 0;
    for (uint32_t i = 0; i < n; i++) found |= strcmp(ext[i].extensionName, name) == 0;
    free(ext);
    return found;
}

#ifdef VKGAN_SANITIZE
/* Sanitizer builds only: keeps lavapipe and the validation layer loaded after the loader closes
 * them, so LeakSanitizer can name their allocations (tools/lsan.supp suppresses them). */
static void pin_driver_libraries(void) {
    const char *names[] = {"libvulkan_lvp.so", "libVkLayer_khronos_validation.so"};
    for (int i = 0; i < 2; i++) dlopen(names[i], RTLD_NOW | RTLD_NODELETE);
}
#endif

static int create_instance(vkg_ctx *ctx, int validation, const vkg_ctx_options *opts) {
#ifdef VKGAN_SANITIZE
    pin_driver_libraries();
#endif
    VkResult r = volkInitialize();
    if (r != VK_SUCCESS)
        return vkg_set_error("no Vulkan loader found (libvulkan.so.1): install it with "
                             "'apt-get install libvulkan1 mesa-vulkan-drivers'");
    uint32_t version = 0;
    vkEnumerateInstanceVersion(&version);
    if (version < VK_API_VERSION_1_1)
        return vkg_set_error("the Vulkan loader supports only Vulkan %u.%u; vkgan needs 1.1",
                             VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version));
    if (validation && !has_layer(VALIDATION_LAYER))
        return vkg_set_error("VKGAN_VALIDATION is on but %s is not installed: "
                             "'apt-get install vulkan-validationlayers'",
                             VALIDATION_LAYER);

    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "vkgan",
                             .pEngineName = "vkgan",
                             .apiVersion = VK_API_VERSION_1_2};
    const char *layers[] = {VALIDATION_LAYER};
    const char *extensions[16];
    uint32_t extension_count = 0;
    if (validation) extensions[extension_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    for (int i = 0; opts && i < opts->instance_extension_count && extension_count < 16; i++)
        extensions[extension_count++] = opts->instance_extensions[i];
    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = enables};
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pNext = validation ? &features : NULL,
                                 .pApplicationInfo = &app,
                                 .enabledLayerCount = validation ? 1 : 0,
                                 .ppEnabledLayerNames = layers,
                                 .enabledExtensionCount = extension_count,
                                 .ppEnabledExtensionNames = extensions};
    r = vkCreateInstance(&info, NULL, &ctx->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return vkg_set_error("no Vulkan device found: the loader found no usable driver "
                             "('apt-get install mesa-vulkan-drivers' gives the CPU device "
                             "lavapipe; check VK_DRIVER_FILES)");
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot create a Vulkan instance: %s", vkg_result_string(r));
    volkLoadInstanceOnly(ctx->instance);

    if (validation) {
        VkDebugUtilsMessengerCreateInfoEXT m = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_validation,
            .pUserData = ctx};
        r = vkCreateDebugUtilsMessengerEXT(ctx->instance, &m, NULL, &ctx->messenger);
        if (r != VK_SUCCESS)
            return vkg_set_error("cannot create the validation messenger: %s",
                                 vkg_result_string(r));
    }
    return 0;
}

static const char *type_name(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "cpu";
    default:
        return "other";
    }
}

int vkg_device_type_rank(const char *type) {
    const char *order[] = {"other", "cpu", "virtual", "integrated", "discrete"};
    for (int i = 0; i < 5; i++)
        if (strcmp(type, order[i]) == 0) return i;
    return 0;
}

static void describe(VkPhysicalDevice phys, vkg_device_info *d) {
    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES,
                                       .pNext = &driver};
    VkPhysicalDeviceSubgroupProperties sub = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &id};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &sub};
    vkGetPhysicalDeviceProperties2(phys, &props);
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                       .pNext = &f16};
    vkGetPhysicalDeviceFeatures2(phys, &feats);
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(phys, &mem);

    memset(d, 0, sizeof *d);
    const VkPhysicalDeviceProperties *p = &props.properties;
    snprintf(d->name, sizeof d->name, "%s", p->deviceName);
    d->type = type_name(p->deviceType);
    snprintf(d->driver_name, sizeof d->driver_name, "%s", driver.driverName);
    snprintf(d->driver_info, sizeof d->driver_info, "%s", driver.driverInfo);
    d->driver_version = p->driverVersion;
    d->api_version = p->apiVersion;
    memcpy(d->uuid, id.deviceUUID, 16);
    d->heap_count = (int)mem.memoryHeapCount < 16 ? (int)mem.memoryHeapCount : 16;
    for (int i = 0; i < d->heap_count; i++) {
        d->heap_size[i] = mem.memoryHeaps[i].size;
        d->heap_device_local[i] = !!(mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    }
    d->subgroup_size = sub.subgroupSize;
    d->subgroup_arithmetic = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    d->shared_memory = p->limits.maxComputeSharedMemorySize;
    d->max_workgroup_invocations = p->limits.maxComputeWorkGroupInvocations;
    d->max_storage_buffer_range = p->limits.maxStorageBufferRange;
    d->storage_offset_alignment = p->limits.minStorageBufferOffsetAlignment;
    d->fp16 = f16.shaderFloat16;
    d->int8 = f16.shaderInt8;
    d->cooperative_matrix = has_device_extension(phys, "VK_KHR_cooperative_matrix") ||
                            has_device_extension(phys, "VK_NV_cooperative_matrix");
    d->timestamp_period_ns = p->limits.timestampPeriod;
}

/* The GEMM path VKGAN_GEMM asks for: VKG_GEMM_AUTO when it is unset or empty, -1 (with the
 * error set) when it names no path. */
static int gemm_path_env(void) {
    const char *env = getenv("VKGAN_GEMM");
    if (!env || !*env) return VKG_GEMM_AUTO;
    if (strcmp(env, "packed") == 0) return VKG_GEMM_PACKED;
    if (strcmp(env, "tiled") == 0) return VKG_GEMM_TILED;
    return vkg_set_error("VKGAN_GEMM=%s: expected packed or tiled (or unset: the device's choice)",
                         env);
}

/* Packed GEMMs read their operands as rgba32f storage texel buffers: the format must support
 * them. Chosen on CPU devices (where a texel read is vectorised and a storage-buffer load is
 * not), on request elsewhere, or as VKGAN_GEMM says when the options leave it to the default. */
static void texel_support(vkg_ctx *ctx, const vkg_ctx_options *opts) {
    VkFormatProperties f;
    vkGetPhysicalDeviceFormatProperties(ctx->phys, VK_FORMAT_R32G32B32A32_SFLOAT, &f);
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(ctx->phys, &p);
    ctx->max_texel_elements = p.limits.maxTexelBufferElements;
    for (int i = 0; i < 3; i++) ctx->max_groups[i] = p.limits.maxComputeWorkGroupCount[i];
    ctx->texel_offset_alignment = p.limits.minTexelBufferOffsetAlignment;
    if (ctx->texel_offset_alignment < ctx->info.storage_offset_alignment)
        ctx->texel_offset_alignment = ctx->info.storage_offset_alignment;
    int supported = (f.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT) != 0 &&
                    ctx->max_texel_elements >= 65536;
    int path = opts ? opts->gemm_path : VKG_GEMM_AUTO;
    if (path == VKG_GEMM_AUTO) path = gemm_path_env();
    if (path == VKG_GEMM_AUTO) path = strcmp(ctx->info.type, "cpu") == 0 ? VKG_GEMM_PACKED : 0;
    ctx->packed_gemm = supported && path == VKG_GEMM_PACKED;
}

/* The vector registers LLVM has for lavapipe's kernels on this host: Mesa's gallivm compiles
 * for the CPU it runs on (lp_bld_misc.cpp enables AVX-512VL where present), so its 256-bit
 * vectors use ymm0-31 with AVX-512VL and ymm0-15 with AVX2 alone. */
static int host_vector_registers(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vl") ? 32 : 16;
#else
    return 16; /* 128-bit NEON pairs its 32 registers for 256-bit vectors */
#endif
}

static int compute_queue_family(VkPhysicalDevice phys) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    int found = -1;
    for (uint32_t i = 0; i < n && found < 0; i++)
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && q[i].timestampValidBits > 0) found = (int)i;
    for (uint32_t i = 0; i < n && found < 0; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) found = (int)i;
    free(q);
    return found;
}

/* The usable devices (Vulkan 1.1+, a compute queue), one per deviceUUID. */
static int enumerate(VkInstance instance, VkPhysicalDevice *phys, vkg_device_info *info, int max) {
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(instance, &n, NULL);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot enumerate Vulkan devices: %s", vkg_result_string(r));
    VkPhysicalDevice *all = calloc(n ? n : 1, sizeof *all);
    vkEnumeratePhysicalDevices(instance, &n, all);
    int count = 0;
    for (uint32_t i = 0; i < n && count < max; i++) {
        vkg_device_info d;
        describe(all[i], &d);
        if (d.api_version < VK_API_VERSION_1_1 || compute_queue_family(all[i]) < 0) continue;
        int duplicate = 0;
        for (int j = 0; j < count; j++) duplicate |= memcmp(info[j].uuid, d.uuid, 16) == 0;
        if (duplicate) continue;
        phys[count] = all[i];
        info[count++] = d;
    }
    free(all);
    return count;
}

int vkg_list_devices(vkg_device_info *out, int max, int *count) {
    vkg_ctx tmp = {0};
    if (create_instance(&tmp, 0, NULL) < 0) return -1;
    VkPhysicalDevice phys[32];
    vkg_device_info info[32];
    int n = enumerate(tmp.instance, phys, info, 32);
    vkDestroyInstance(tmp.instance, NULL);
    if (n < 0) return -1;
    *count = n < max ? n : max;
    memcpy(out, info, sizeof *out * (size_t)*count);
    return 0;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return n == 0;
}

/* The device `wanted` (an index or a part of a name) picks among n > 0; -1 with vkg_error()
 * saying which devices there are when it names none. */
static int find(const vkg_device_info *info, int n, const char *wanted) {
    char *end;
    long index = strtol(wanted, &end, 10);
    int numeric = *end == 0;
    if (numeric && index >= 0 && index < n) return (int)index;
    for (int i = 0; !numeric && i < n; i++)
        if (contains_nocase(info[i].name, wanted)) return i;
    char list[640] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(list);
        if (used > sizeof list - 80) {
            snprintf(list + used, sizeof list - used, ", ...");
            break;
        }
        snprintf(list + used, sizeof list - used, "%s[%d] %s", i ? ", " : "", i, info[i].name);
    }
    return vkg_set_error("--device %s: %s; there %s %d device%s: %s (see 'vkgan devices')", wanted,
                         numeric ? "no such device index" : "no device's name contains it",
                         n == 1 ? "is" : "are", n, n == 1 ? "" : "s", list);
}

static int choose(const vkg_device_info *info, int n, const char *wanted) {
    if (n == 0)
        return vkg_set_error(
            "no Vulkan device found: install a driver "
            "('apt-get install mesa-vulkan-drivers' gives the CPU device lavapipe)");
    if (wanted && *wanted) return find(info, n, wanted);
    int best = 0;
    for (int i = 1; i < n; i++)
        if (vkg_device_type_rank(info[i].type) > vkg_device_type_rank(info[best].type)) best = i;
    return best;
}

int vkg_device_check(const char *device) {
    if (!device || !*device) return 0;
    vkg_device_info info[32];
    int n = 0;
    if (vkg_list_devices(info, 32, &n) < 0) return -1;
    if (n == 0) return choose(info, n, device); /* no device at all: that error */
    return find(info, n, device) < 0 ? 1 : 0;
}

/* A family that computes and can present to the window (graphics families first: on every
 * desktop driver they present). */
static int present_queue_family(vkg_ctx *ctx, const vkg_ctx_options *opts) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &n, q);
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++) {
            VkQueueFlags want = VK_QUEUE_COMPUTE_BIT | (pass == 0 ? VK_QUEUE_GRAPHICS_BIT : 0);
            if ((q[i].queueFlags & want) == want && q[i].timestampValidBits > 0 &&
                opts->present(ctx->instance, ctx->phys, i))
                return (int)i;
        }
    return vkg_set_error("%s cannot present to the window (no queue family both computes and "
                         "presents); train without --view, or pick another --device",
                         ctx->info.name);
}

static int create_device(vkg_ctx *ctx, const vkg_ctx_options *opts) {
    int present = opts && opts->present;
    int family = present ? present_queue_family(ctx, opts) : compute_queue_family(ctx->phys);
    if (family < 0) return -1;
    ctx->queue_family = (uint32_t)family;
    ctx->present = present;
    const char *swapchain = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = ctx->queue_family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    VkDeviceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                               .queueCreateInfoCount = 1,
                               .pQueueCreateInfos = &queue,
                               .enabledExtensionCount = present ? 1 : 0,
                               .ppEnabledExtensionNames = &swapchain};
    VkResult r = vkCreateDevice(ctx->phys, &info, NULL, &ctx->device);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot create the Vulkan device on %s: %s", ctx->info.name,
                             vkg_result_string(r));
    volkLoadDevice(ctx->device);
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->memory);
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = ctx->queue_family};
    r = vkCreateCommandPool(ctx->device, &pool, NULL, &ctx->cmd_pool);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot create a command pool: %s", vkg_result_string(r));
    return 0;
}

static int validation_wanted(const vkg_ctx_options *opts) {
    if (opts && opts->validation >= 0) return opts->validation;
    const char *env = getenv("VKGAN_VALIDATION");
    return env && *env && strcmp(env, "0") != 0;
}

vkg_ctx *vkg_ctx_create(const vkg_ctx_options *opts) {
    vkg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        vkg_set_error("out of host memory");
        return NULL;
    }
    if ((!opts || opts->gemm_path == VKG_GEMM_AUTO) && gemm_path_env() < 0) goto fail;
    ctx->validation = validation_wanted(opts);
    if (create_instance(ctx, ctx->validation, opts) < 0) goto fail;
    VkPhysicalDevice phys[32];
    vkg_device_info info[32];
    int n = enumerate(ctx->instance, phys, info, 32);
    if (n < 0) goto fail;
    int chosen = choose(info, n, opts ? opts->device : NULL);
    if (chosen < 0) goto fail;
    ctx->phys = phys[chosen];
    ctx->info = info[chosen];
    ctx->use_subgroups = ctx->info.subgroup_arithmetic && !(opts && opts->force_shared_reductions);
    ctx->direct_tiles = strcmp(ctx->info.type, "cpu") == 0 && !(opts && opts->force_shared_tiles);
    if (strcmp(ctx->info.type, "cpu") == 0)
        ctx->vector_registers =
            opts && opts->vector_registers > 0 ? opts->vector_registers : host_vector_registers();
    texel_support(ctx, opts);
    if (strcmp(ctx->info.type, "cpu") == 0 && !(opts && opts->quiet))
        fprintf(stderr, "vkgan: using %s, a software (CPU) Vulkan device: expect it to be slow\n",
                ctx->info.name);
    if (create_device(ctx, opts) < 0) goto fail;
    if (vkg_pipelines_init(ctx) < 0) goto fail;
    return ctx;
fail:
    vkg_ctx_destroy(ctx);
    return NULL;
}

int vkg_ctx_destroy(vkg_ctx *ctx) {
    if (!ctx) return 0;
    int before = ctx->validation_count;
    if (ctx->device) {
        vkDeviceWaitIdle(ctx->device);
        vkg_pipelines_destroy(ctx);
        for (int i = 0; i < ctx->scratch_count; i++) {
            vkDestroyBuffer(ctx->device, ctx->scratch[i], NULL);
            vkFreeMemory(ctx->device, ctx->scratch_memory[i], NULL);
        }
        if (ctx->staging) vkDestroyBuffer(ctx->device, ctx->staging, NULL);
        if (ctx->staging_memory) vkFreeMemory(ctx->device, ctx->staging_memory, NULL);
        if (ctx->cmd_pool) vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
        vkDestroyDevice(ctx->device, NULL);
    }
    int raised = ctx->validation_count - before; /* e.g. an object left undestroyed */
    if (ctx->messenger) vkDestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, NULL);
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    free(ctx);
    return raised;
}

const vkg_device_info *vkg_ctx_device(const vkg_ctx *ctx) {
    return &ctx->info;
}

int vkg_ctx_validation_count(const vkg_ctx *ctx) {
    return ctx->validation_count;
}

const char *vkg_ctx_last_validation_message(const vkg_ctx *ctx) {
    return ctx->last_validation;
}

int vkg_ctx_uses_subgroups(const vkg_ctx *ctx) {
    return ctx->use_subgroups;
}

int vkg_ctx_uses_direct_tiles(const vkg_ctx *ctx) {
    return ctx->direct_tiles;
}

void vkg_ctx_texel_limits(const vkg_ctx *ctx, uint32_t *max_elements, uint64_t *offset_alignment) {
    *max_elements = ctx->max_texel_elements;
    *offset_alignment = ctx->texel_offset_alignment;
}

int vkg_ctx_vector_registers(const vkg_ctx *ctx) {
    return ctx->vector_registers;
}

int vkg_ctx_uses_packed_gemm(const vkg_ctx *ctx) {
    return ctx->packed_gemm;
}
