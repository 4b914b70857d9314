/* GLFW window, Vulkan surface and swapchain, and the frame's recordings; see window.h. */
#include "view/window.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/internal.h"
#include "view/frame.h"
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

#define MAX_IMAGES 8
#define KEY_QUEUE 64
#define SPAN_WORDS ((size_t)VP_MAX_PLOTS * VP_MAX_SERIES * VP_MAX_COLUMNS)

struct window {
    vkg_ctx *ctx;
    GLFWwindow *glfw;
    VkSurfaceKHR surface;
    VkSwapchainKHR swapchain;
    VkImage images[MAX_IMAGES];
    uint32_t image_count;
    VkExtent2D extent;
    int red_first;
    VkSemaphore acquired, rendered[MAX_IMAGES];
    int stale; /* the swapchain must be remade */

    vkg_arena *host; /* mapped: frame description, spans, font, a dummy binding */
    vkg_buf params, spans, font, dummy;
    vkg_arena *frames; /* the frame buffer, remade with the swapchain */
    vkg_buf frame;
    canvas canvas;

    vkg_rec *recs[MAX_IMAGES];
    const void *bound[3]; /* buffers the recordings read (re-recorded when they change) */
    uint64_t bound_size[3];
    vkg_rec *last; /* the last submitted frame */
    double frame_ms;

    int keys[KEY_QUEUE], key_head, key_tail;
    int clicked, dirty;
};

static const char *glfw_message(void) {
    const char *what = NULL;
    glfwGetError(&what);
    return what ? what : "unknown GLFW error";
}

int window_system_init(vkg_ctx_options *opts) {
    if (!glfwInit()) {
        const char *display = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
        if ((!display || !*display) && (!wayland || !*wayland))
            return vkg_set_error("cannot open a window: no display (DISPLAY is not set); start "
                                 "one with xvfb-run (vkgan train runs headless without --view)");
        return vkg_set_error("cannot open a window on display '%s': %s",
                             display ? display : wayland, glfw_message());
    }
    if (!glfwVulkanSupported()) {
        glfwTerminate();
        return vkg_set_error("cannot open a window: GLFW finds no Vulkan loader with surface "
                             "support");
    }
    uint32_t n = 0;
    opts->instance_extensions = glfwGetRequiredInstanceExtensions(&n);
    opts->instance_extension_count = (int)n;
    opts->present = (int (*)(void *, void *, uint32_t))glfwGetPhysicalDevicePresentationSupport;
    return 0;
}

void window_system_end(void) {
    glfwTerminate();
}

static window *self(GLFWwindow *w) {
    return glfwGetWindowUserPointer(w);
}

static void push_key(window *win, int key) {
    int next = (win->key_tail + 1) % KEY_QUEUE;
    if (next == win->key_head) return; /* full: drop */
    win->keys[win->key_tail] = key;
    win->key_tail = next;
}

static void on_key(GLFWwindow *w, int key, int scancode, int action, int mods) {
    (void)scancode, (void)mods;
    if (action == GLFW_RELEASE) return;
    window *win = self(w);
    if (key >= GLFW_KEY_A && key <= GLFW_KEY_Z) push_key(win, 'a' + key - GLFW_KEY_A);
    switch (key) {
    case GLFW_KEY_SPACE:
        push_key(win, ' ');
        break;
    case GLFW_KEY_EQUAL:
    case GLFW_KEY_KP_ADD:
        push_key(win, '+');
        break;
    case GLFW_KEY_MINUS:
    case GLFW_KEY_KP_SUBTRACT:
        push_key(win, '-');
        break;
    case GLFW_KEY_ESCAPE:
        push_key(win, KEY_ESCAPE);
        break;
    case GLFW_KEY_LEFT:
        push_key(win, KEY_LEFT);
        break;
    case GLFW_KEY_RIGHT:
        push_key(win, KEY_RIGHT);
        break;
    case GLFW_KEY_HOME:
        push_key(win, KEY_HOME);
        break;
    case GLFW_KEY_END:
        push_key(win, KEY_END);
        break;
    default:
        break;
    }
}

static void on_button(GLFWwindow *w, int button, int action, int mods) {
    (void)mods;
    if (button == GLFW_MOUSE_BUTTON_LEFT && action == GLFW_PRESS) self(w)->clicked = 1;
}

static void on_resize(GLFWwindow *w, int width, int height) {
    (void)width, (void)height;
    self(w)->stale = self(w)->dirty = 1;
}

static void on_refresh(GLFWwindow *w) {
    self(w)->dirty = 1;
}

/* ---- swapchain ---- */

static void destroy_recordings(window *win) {
    for (int i = 0; i < MAX_IMAGES; i++) {
        vkg_rec_destroy(win->recs[i]);
        win->recs[i] = NULL;
    }
    win->last = NULL;
}

static int make_swapchain(window *win) {
    vkg_ctx *ctx = win->ctx;
    VkSurfaceCapabilitiesKHR caps;
    VkResult r = vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx->phys, win->surface, &caps);
    if (r != VK_SUCCESS)
        return vkg_set_error("cannot query the window surface: %s", vkg_result_string(r));
    int fw, fh;
    glfwGetFramebufferSize(win->glfw, &fw, &fh);
    VkExtent2D extent = caps.currentExtent;
    if (extent.width == UINT32_MAX) extent = (VkExtent2D){(uint32_t)fw, (uint32_t)fh};
    if (extent.width == 0 || extent.height == 0) return 0; /* minimised: try again later */
    if (extent.width > VP_MAX_COLUMNS) extent.width = VP_MAX_COLUMNS;
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
        return vkg_set_error("the window's swapchain images cannot be copied to on %s",
                             ctx->info.name);
    uint32_t n = 16;
    VkSurfaceFormatKHR formats[16];
    vkGetPhysicalDeviceSurfaceFormatsKHR(ctx->phys, win->surface, &n, formats);
    VkSurfaceFormatKHR format = {VK_FORMAT_UNDEFINED, 0};
    for (uint32_t i = 0; i < n && !format.format; i++) /* UNORM: the bytes we compute, as is */
        if (formats[i].format == VK_FORMAT_B8G8R8A8_UNORM ||
            formats[i].format == VK_FORMAT_R8G8B8A8_UNORM)
            format = formats[i];
    if (!format.format)
        return vkg_set_error("the window offers no 8-bit UNORM BGRA or RGBA format");
    win->red_first = format.format == VK_FORMAT_R8G8B8A8_UNORM;
    uint32_t modes_n = 8;
    VkPresentModeKHR modes[8], mode = VK_PRESENT_MODE_FIFO_KHR;
    vkGetPhysicalDeviceSurfacePresentModesKHR(ctx->phys, win->surface, &modes_n, modes);
    for (uint32_t i = 0; i < modes_n; i++) /* never let presenting hold training up */
        if (modes[i] == VK_PRESENT_MODE_MAILBOX_KHR) mode = modes[i];
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
    VkSwapchainKHR old = win->swapchain;
    VkSwapchainCreateInfoKHR info = {.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
                                     .surface = win->surface,
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
    r = vkCreateSwapchainKHR(ctx->device, &info, NULL, &win->swapchain);
    if (old) vkDestroySwapchainKHR(ctx->device, old, NULL);
    if (r != VK_SUCCESS) {
        win->swapchain = VK_NULL_HANDLE;
        return vkg_set_error("cannot make the window's swapchain: %s", vkg_result_string(r));
    }
    win->image_count = MAX_IMAGES;
    vkGetSwapchainImagesKHR(ctx->device, win->swapchain, &win->image_count, win->images);
    win->extent = extent;
    /* the frame buffer at the new size */
    vkg_arena_destroy(win->frames);
    win->frames = vkg_arena_create(ctx, 0);
    if (!win->frames ||
        vkg_arena_alloc(win->frames, 4ull * extent.width * extent.height, &win->frame) < 0)
        return -1;
    win->stale = 0;
    win->dirty = 1;
    return 1;
}

/* Waits for the frames in flight, then remakes the swapchain and forgets the recordings. */
static int remake(window *win) {
    for (int i = 0; i < MAX_IMAGES; i++)
        if (win->recs[i] && vkg_rec_wait(win->recs[i]) < 0) return -1;
    vkQueueWaitIdle(win->ctx->queue); /* the presentation engine lets go of the images */
    destroy_recordings(win);
    return make_swapchain(win);
}

/* ---- opening ---- */

static int make_host_buffers(window *win) {
    vkg_ctx *ctx = win->ctx;
    size_t font_bytes;
    const unsigned char *font = frame_font(&font_bytes);
    if (!(win->host = vkg_arena_create_mapped(ctx, 0)) ||
        vkg_arena_alloc(win->host, 4ull * VP_WORDS, &win->params) < 0 ||
        vkg_arena_alloc(win->host, 4 * SPAN_WORDS, &win->spans) < 0 ||
        vkg_arena_alloc(win->host, font_bytes, &win->font) < 0 ||
        vkg_arena_alloc(win->host, 256, &win->dummy) < 0)
        return -1;
    win->canvas.p = vkg_arena_host(win->host, &win->params);
    win->canvas.spans = vkg_arena_host(win->host, &win->spans);
    memcpy(vkg_arena_host(win->host, &win->font), font, font_bytes);
    memset(vkg_arena_host(win->host, &win->dummy), 0, 256);
    return 0;
}

window *window_open(vkg_ctx *ctx, const char *title, int w, int h) {
    if (!ctx->present) {
        vkg_set_error("the device was not set up for a window");
        return NULL;
    }
    window *win = calloc(1, sizeof *win);
    if (!win) {
        vkg_set_error("out of host memory");
        return NULL;
    }
    win->ctx = ctx;
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    win->glfw = glfwCreateWindow(w, h, title, NULL, NULL);
    if (!win->glfw) {
        vkg_set_error("cannot open a window: %s", glfw_message());
        window_close(win);
        return NULL;
    }
    glfwSetWindowUserPointer(win->glfw, win);
    glfwSetKeyCallback(win->glfw, on_key);
    glfwSetMouseButtonCallback(win->glfw, on_button);
    glfwSetFramebufferSizeCallback(win->glfw, on_resize);
    glfwSetWindowRefreshCallback(win->glfw, on_refresh);
    VkResult r = glfwCreateWindowSurface(ctx->instance, win->glfw, NULL, &win->surface);
    VkBool32 supported = VK_FALSE;
    if (r == VK_SUCCESS)
        vkGetPhysicalDeviceSurfaceSupportKHR(ctx->phys, ctx->queue_family, win->surface,
                                             &supported);
    VkSemaphoreCreateInfo s = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    int ok = r == VK_SUCCESS && supported &&
             vkCreateSemaphore(ctx->device, &s, NULL, &win->acquired) == VK_SUCCESS;
    for (int i = 0; ok && i < MAX_IMAGES; i++)
        ok = vkCreateSemaphore(ctx->device, &s, NULL, &win->rendered[i]) == VK_SUCCESS;
    if (!ok) {
        vkg_set_error(r != VK_SUCCESS ? "cannot make a Vulkan surface for the window: %s"
                                      : "%s cannot present to this window",
                      r != VK_SUCCESS ? vkg_result_string(r) : ctx->info.name);
        window_close(win);
        return NULL;
    }
    if (make_host_buffers(win) < 0 || make_swapchain(win) < 0) {
        window_close(win);
        return NULL;
    }
    return win;
}

void window_close(window *win) {
    if (!win) return;
    vkg_ctx *ctx = win->ctx;
    if (ctx->device) vkQueueWaitIdle(ctx->queue);
    destroy_recordings(win);
    vkg_arena_destroy(win->frames);
    vkg_arena_destroy(win->host);
    if (win->acquired) vkDestroySemaphore(ctx->device, win->acquired, NULL);
    for (int i = 0; i < MAX_IMAGES; i++)
        if (win->rendered[i]) vkDestroySemaphore(ctx->device, win->rendered[i], NULL);
    if (win->swapchain) vkDestroySwapchainKHR(ctx->device, win->swapchain, NULL);
    if (win->surface) vkDestroySurfaceKHR(ctx->instance, win->surface, NULL);
    if (win->glfw) glfwDestroyWindow(win->glfw);
    free(win);
}

/* ---- input ---- */

void window_poll(window *win, double timeout) {
    if (timeout > 0)
        glfwWaitEventsTimeout(timeout);
    else
        glfwPollEvents();
    (void)win;
}

int window_next_key(window *win) {
    if (win->key_head == win->key_tail) return 0;
    int k = win->keys[win->key_head];
    win->key_head = (win->key_head + 1) % KEY_QUEUE;
    return k;
}

void window_mouse(const window *win, int *x, int *y) {
    double mx, my;
    int ww, wh, fw, fh;
    glfwGetCursorPos(win->glfw, &mx, &my);
    glfwGetWindowSize(win->glfw, &ww, &wh);
    glfwGetFramebufferSize(win->glfw, &fw, &fh);
    *x = ww > 0 ? (int)(mx * fw / ww) : -1; /* in frame pixels (HiDPI scaling) */
    *y = wh > 0 ? (int)(my * fh / wh) : -1;
}

int window_mouse_clicked(window *win) {
    int c = win->clicked;
    win->clicked = 0;
    return c;
}

int window_should_close(const window *win) {
    return glfwWindowShouldClose(win->glfw);
}

int window_dirty(const window *win) {
    return win->dirty || win->stale;
}

/* ---- frames ---- */

int window_ready(window *win) {
    if (glfwGetWindowAttrib(win->glfw, GLFW_ICONIFIED)) return 0;
    if (win->last && !vkg_rec_done(win->last)) return 0;
    if (win->last) { /* the frame's GPU time, once */
        double ms[8];
        int n = vkg_rec_timings(win->last, ms, NULL, 8);
        win->frame_ms = 0;
        for (int i = 0; i < n; i++) win->frame_ms += ms[i];
        win->last = NULL;
    }
    if ((win->stale || !win->swapchain) && remake(win) <= 0) return 0;
    win->canvas.width = (int)win->extent.width, win->canvas.height = (int)win->extent.height;
    return 1;
}

canvas *window_canvas(window *win) {
    return &win->canvas;
}

double window_frame_ms(window *win) {
    return win->frame_ms;
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

/* compose, points, text; then the copy into swapchain image i. */
static vkg_rec *record(window *win, uint32_t i, const vkg_buf *images, const vkg_buf *packed,
                       const vkg_buf *points) {
    vkg_rec *rec = vkg_rec_begin(win->ctx, 1);
    if (!rec) return NULL;
    uint32_t w = win->extent.width, h = win->extent.height;
    frame_bufs bufs = {&win->frame,
                       &win->params,
                       &win->spans,
                       &win->font,
                       images,
                       packed,
                       points != &win->dummy ? points : NULL};
    int r = frame_record(rec, &bufs, (int)w, (int)h);
    r |= vkg_rec_transfer_read(rec, &win->frame);
    if (r == 0) {
        VkCommandBuffer cb = vkg_rec_command_buffer(rec);
        VkImage image = win->images[i];
        image_barrier(cb, image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                      VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT);
        VkBufferImageCopy region = {.bufferOffset = win->frame.offset,
                                    .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                    .imageExtent = {w, h, 1}};
        vkCmdCopyBufferToImage(cb, (VkBuffer)win->frame.buffer, image,
                               VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        image_barrier(cb, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                      VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_WRITE_BIT, 0,
                      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
        r = vkg_rec_end(rec);
    }
    if (r < 0) {
        vkg_rec_destroy(rec);
        return NULL;
    }
    return rec;
}

int window_draw(window *win, const vkg_tensor *images, const vkg_buf *packed,
                const vkg_tensor *points) {
    const vkg_buf *b[3] = {images ? &images->buf : &win->dummy, packed ? packed : &win->dummy,
                           points ? &points->buf : &win->dummy};
    for (int k = 0; k < 3; k++) /* other buffers than the recordings read: record again */
        if (b[k]->buffer != win->bound[k] || b[k]->size != win->bound_size[k]) {
            for (int i = 0; i < MAX_IMAGES; i++)
                if (win->recs[i] && vkg_rec_wait(win->recs[i]) < 0) return -1;
            destroy_recordings(win);
            win->bound[k] = b[k]->buffer, win->bound_size[k] = b[k]->size;
        }
    canvas *c = &win->canvas;
    c->p[VP_RED_FIRST] = (uint32_t)win->red_first;
    if (!points) c->p[VP_POINTS] = 0;
    canvas_finish(c);
    uint32_t i;
    VkResult r = vkAcquireNextImageKHR(win->ctx->device, win->swapchain, 100000000ull,
                                       win->acquired, VK_NULL_HANDLE, &i);
    if (r == VK_ERROR_OUT_OF_DATE_KHR) return win->stale = 1, 0;
    if (r == VK_TIMEOUT || r == VK_NOT_READY) return 0;
    if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
        return vkg_set_error("cannot get a window image: %s", vkg_result_string(r));
    if (r == VK_SUBOPTIMAL_KHR) win->stale = 1;
    if (!win->recs[i] && !(win->recs[i] = record(win, i, b[0], b[1], b[2]))) return -1;
    if (vkg_rec_submit_signalling(win->recs[i], win->acquired, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                  win->rendered[i]) < 0)
        return -1;
    win->last = win->recs[i];
    VkPresentInfoKHR present = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
                                .waitSemaphoreCount = 1,
                                .pWaitSemaphores = &win->rendered[i],
                                .swapchainCount = 1,
                                .pSwapchains = &win->swapchain,
                                .pImageIndices = &i};
    r = vkQueuePresentKHR(win->ctx->queue, &present);
    if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR)
        win->stale = 1;
    else if (r != VK_SUCCESS)
        return vkg_set_error("cannot show the frame: %s", vkg_result_string(r));
    win->dirty = 0;
    return 1;
}

int window_screenshot(window *win, const char *path) {
    if (!win->frame.buffer) return vkg_set_error("%s: no frame has been drawn yet", path);
    if (win->last && vkg_rec_wait(win->last) < 0) return -1;
    size_t n = (size_t)win->extent.width * win->extent.height;
    uint8_t *px = malloc(4 * n);
    if (!px) return vkg_set_error("out of host memory");
    int r = vkg_download(win->ctx, &win->frame, px, 4 * n);
    for (size_t i = 0; r == 0 && i < n; i++) { /* frame bytes -> R, G, B */
        uint8_t *q = px + 4 * i, red = q[win->red_first ? 0 : 2], blue = q[win->red_first ? 2 : 0];
        px[3 * i] = red, px[3 * i + 1] = q[1], px[3 * i + 2] = blue;
    }
    if (r == 0) r = vkg_write_png(path, px, (int)win->extent.width, (int)win->extent.height, 3);
    free(px);
    return r;
}
