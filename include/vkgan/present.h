/* Presentation: a window's surface and swapchain on a context made for a window
 * (vkg_ctx_options.present), for a frame computed into a buffer of 32-bit pixels and copied to
 * the swapchain's image. The window system stays with the caller (src/view/window.c keeps GLFW
 * and input); this keeps the Vulkan side. No Vulkan types: handles travel as void * and
 * uint64_t. */
#ifndef VKGAN_PRESENT_H
#define VKGAN_PRESENT_H

#include <stdint.h>

#include "vkgan/gpu.h"

typedef struct vkg_present vkg_present;

/* Makes a surface for `window` on `instance` (a VkInstance), storing the VkSurfaceKHR in *surface;
 * returns a VkResult (0: success). GLFW's glfwCreateWindowSurface has this shape. */
typedef int (*vkg_surface_fn)(void *instance, void *window, const void *allocator,
                              uint64_t *surface);

/* 0 when the context was made for a window (vkg_ctx_options.present), else -1 with an error set. */
int vkg_present_check(const vkg_ctx *ctx);

/* The surface for `window` (made by `make_surface`) and the semaphores of its frames; the
 * swapchain is made by vkg_present_resize. NULL with an error set: the context was not made for a
 * window, no surface, or its queue cannot present to it. */
vkg_present *vkg_present_create(vkg_ctx *ctx, vkg_surface_fn make_surface, void *window);
/* Waits for the queue, then destroys the swapchain, the semaphores and the surface. NULL: no-op. */
void vkg_present_destroy(vkg_present *present);

/* (Re)makes the swapchain (waiting for the queue first when there was one: the presentation
 * engine lets go of its images). `fb_width` x `fb_height` is the window's framebuffer size, used
 * when the surface does not fix the size; the width is clamped to `max_width`. Gives the size and
 * whether the images are RGBA (1) or BGRA (0) in memory. 1 made, 0 the window is minimised (try
 * again later), -1 error. */
int vkg_present_resize(vkg_present *present, int fb_width, int fb_height, int max_width, int *width,
                       int *height, int *red_first);

/* The next image to draw into (an index below 8), waiting at most 0.1 s for it. 1 acquired, 0 none
 * (timed out, or the swapchain is out of date), -1 error. Sets *stale when the swapchain should be
 * remade (out of date, or suboptimal though still usable). */
int vkg_present_acquire(vkg_present *present, uint32_t *image, int *stale);
/* Records into `rec` the copy of `frame` (width x height 32-bit pixels, row-major, as given by
 * vkg_present_resize) into image `image`, after the dispatches that wrote it; 0 or -1. */
int vkg_present_record_copy(vkg_present *present, vkg_rec *rec, uint32_t image,
                            const vkg_buf *frame);
/* Submits `rec` (ended) to start when image `image` was acquired, and to signal when done; 0 or
 * -1. */
int vkg_present_submit(vkg_present *present, vkg_rec *rec, uint32_t image);
/* Shows image `image` once its submission is done: 0 shown (or out of date: *stale is set), -1
 * error. */
int vkg_present_show(vkg_present *present, uint32_t image, int *stale);

#endif
