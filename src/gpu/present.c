/* The window's surface and swapchain; see vkgan/present.h. */
#include "vkgan/present.h"

#include <stdlib.h>

#include "gpu/internal.h"

#define MAX_IMAGES 8

struct vkg_present {
    vkg_ctx *ctx;
    VkSurfaceKHR surface;
    VkSwapchainKHR swapchain;
    VkImage images[MAX_IMAGES];
    uint32_t image_count;
    VkExtent2D extent;
    VkSemaphore acquired, rendered[MAX_IMAGES];
};

int vkg_present_check(const vkg_ctx *ctx) {
    return ctx->present ? 0 : vkg_set_error("the device was not set up for a window");
}

vkg_present *vkg_present_create(vkg_ctx *ctx, vkg_surface_fn make_surface, void *window) {
    if (vkg_present_check(ctx) < 0) return NULL;
    vkg_present *p = calloc(1, sizeof *p);
    if (!p) {
        vkg_set_error("out of host memory");
        return NULL;
    }
    p->ctx = ctx;
    uint64_t surface = 0;
    VkResult r = (VkResult)make_surface(ctx->instance, window, NULL, &surface);
    p->surface = (VkSurfaceKHR)surface;
    VkBool32 supported = VK_FALSE;
    if (r == VK_SUCCESS)
        vkGetPhysicalDeviceSurfaceSupportKHR(ctx->phys, ctx->queue_family, p->surface, &supported);
    VkSemaphoreCreateInfo s = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    int ok = r == VK_SUCCESS && supported &&
             vkCreateSemaphore(ctx->device, &s, NULL, &p->acquired) == VK_SUCCESS;
    for (int i = 0; ok && i < MAX_IMAGES; i++)
        ok = vkCreateSemaphore(ctx->device, &s, NULL, &p->rendered[i]) == VK_SUCCESS;
    if (!ok) {
        vkg_set_error(r != VK_SUCCESS ? "cannot make a Vulkan surface for the window: %s"
                                      : "%s cannot present to this window",
                      r != VK_SUCCESS ? vkg_result_string(r) : ctx->info.name);
        vkg_present_destroy(p);
        return NULL;
    }
    return p;
}

void vkg_present_destroy(vkg_present *p) {
    if (!p) return;
    vkg_ctx *ctx = p->ctx;
    if (ctx->device) vkQueueWaitIdle(ctx->queue);
    if (p->acquired) vkDestroySemaphore(ctx->device, p->acquired, NULL);
    for (int i = 0; i < MAX_IMAGES; i++)
        if (p->rendered[i]) vkDestroySemaphore(ctx->device, p->rendered[i], NULL);
    if (p->swapchain) vkDestroySwapchainKHR(ctx->device, p->swapchain, NULL);
    if (p->surface) vkDestroySurfaceKHR(ctx->instance, p->surface, NULL);
    free(p);
}

int vkg_present_resize(vkg_present *p, int fb_width, int fb_height, int max_width, int *width,
                       int *height, int *red_first) {
    vkg_ctx *ctx = p->ctx;
    if (p->swapchain) vkQueueWaitIdle(ctx->queue); /* the presentation engine lets go */
    VkSurfaceCapabilitiesKHR caps;
    VkResult r = vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx->phys, p->surface, &caps);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot query the window surface: %s", vkg_result_string(r));
    VkExtent2D extent = caps.currentExtent;
    if (extent.width == UINT32_MAX) extent = (VkExtent2D){(uint32_t)fb_width, (uint32_t)fb_height};
    if (extent.width == 0 || extent.height == 0) return 0; /* minimised: try again later */
    if (extent.width > (uint32_t)max_width) extent.width = (uint32_t)max_width;
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
        return vkg_set_error("the window's swapchain images cannot be copied to on %s",
                             ctx->info.name);
    uint32_t n = 16;
    VkSurfaceFormatKHR formats[16];
    vkGetPhysicalDeviceSurfaceFormatsKHR(ctx->phys, p->surface, &n, formats);
    VkSurfaceFormatKHR format = {VK_FORMAT_UNDEFINED, 0};
    for (uint32_t i = 0; i < n && !format.format; i++) /* UNORM: the bytes we compute, as is */
        if (formats[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
            formats[i].format == VK_FORMAT_R8G8B8A8_UNORM)
            format = formats[i];
    if (!format.format)
        return vkg_set_error("the window offers no 8-bit UNORM BGRA or RGBA format");
    *red_first = format.format == VK_FORMAT_R8G8B8A8_UNORM;
    uint32_t modes_n = 8;
    VkPresentModeKHR modes[8], mode = VK_PRESENT_MODE_FIFO_KHR;
    vkGetPhysicalDeviceSurfacePresentModesKHR(ctx->phys, p->surface, &modes_n, modes);
    for (uint32_t i = 0; i < modes_n; i++) /* never let presenting hold training up */
        if (modes[i] == VK_PRESENT_MODE_MAILBOX_KHR) mode = modes[i];
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
    VkSwapchainKHR old = p->swapchain;
    VkSwapchainCreateInfoKHR info = {.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
                                     .surface = p->surface,
                                     .minImageCount = count,
                                     .imageFormat = format.format,
                                     .imageColorSpace = format.colorSpace,
                                     .imageExtent = extent,
                                     .imageArrayLayers = 1,
                                     .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                     .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
                                     .preTransform = caps.currentTransform,
                                     .compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR,
                                     .presentMode = mode,
                                     .clipped = VK_TRUE,
                                     .oldSwapchain = old};
    r = vkCreateSwapchainKHR(ctx->device, &info, NULL, &p->swapchain);
    if (old) vkDestroySwapchainKHR(ctx->device, old, NULL);
    if (r != VK_SUCCESS) {
        p->swapchain = VK_NULL_HANDLE;
        return vkg_set_error("cannot make the window's swapchain: %s", vkg_result_string(r));
    }
    p->image_count = MAX_IMAGES;
    vkGetSwapchainImagesKHR(ctx->device, p->swapchain, &p->image_count, p->images);
    p->extent = extent;
    *width = (int)extent.width, *height = (int)extent.height;
    return 1;
}

int vkg_present_acquire(vkg_present *p, uint32_t *image, int *stale) {
    VkResult r = vkAcquireNextImageKHR(p->ctx->device, p->swapchain, 100000000ull, p->acquired,
                                       VK_NULL_HANDLE, image);
    if (r == VK_ERROR_OUT_OF_DATE_KHR) return *stale = 1, 0;
    if (r == VK_TIMEOUT || r == VK_NOT_READY) return 0;
    if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
        return vkg_set_error("cannot get a window image: %s", vkg_result_string(r));
    if (r == VK_SUBOPTIMAL_KHR) *stale = 1;
    return 1;
}

static void image_barrier(VkCommandBuffer cb, VkImage image, VkImageLayout from, VkImageLayout to,
                          VkAccessFlags src, VkAccessFlags dst, VkPipelineStageFlags src_stage,
                          VkPipelineStageFlags dst_stage) {
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = src,
                              .dstAccessMask = dst,
                              .oldLayout = from,
                              .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = image,
                              .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

int vkg_present_record_copy(vkg_present *p, vkg_rec *rec, uint32_t i, const vkg_buf *frame) {
    if (i >= p->image_count) return vkg_set_error("window image %u of %u", i, p->image_count);
    if (vkg_rec_transfer_read(rec, frame) < 0) return -1;
    VkCommandBuffer cb = vkg_rec_command_buffer(rec);
    VkImage image = p->images[i];
    image_barrier(cb, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkBufferImageCopy region = {.bufferOffset = frame->offset,
                                .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {p->extent.width, p->extent.height, 1}};
    vkCmdCopyBufferToImage(cb, (VkBuffer)frame->buffer, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                           1, &region);
    image_barrier(cb, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
                  VK_ACCESS_TRANSFER_WRITE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
    return 0;
}

int vkg_present_submit(vkg_present *p, vkg_rec *rec, uint32_t i) {
    return vkg_rec_submit_signalling(rec, p->acquired, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                     p->rendered[i]);
}

int vkg_present_show(vkg_present *p, uint32_t i, int *stale) {
    VkPresentInfoKHR present = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
                                .waitSemaphoreCount = 1,
                                .pWaitSemaphores = &p->rendered[i],
                                .swapchainCount = 1,
                                .pSwapchains = &p->swapchain,
                                .pImageIndices = &i};
    VkResult r = vkQueuePresentKHR(p->ctx->queue, &present);
    if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR)
        *stale = 1;
    else if (r != VK_SUCCESS)
        return vkg_set_error("cannot show the frame: %s", vkg_result_string(r));
    return 0;
}
