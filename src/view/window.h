/* The window: GLFW, a Vulkan surface and swapchain on the training device, and the frame drawn
 * by compute shaders from a canvas (view_compose, view_points, view_prims) into a buffer that is
 * copied to the swapchain image. Out-of-date and suboptimal swapchains are remade; a minimised
 * window draws nothing. */
#ifndef VKGAN_VIEW_WINDOW_H
#define VKGAN_VIEW_WINDOW_H

#include <stdint.h>

#include "view/canvas.h"
#include "vkgan/gpu.h"

typedef struct window window;

enum { KEY_LEFT = 1, KEY_RIGHT, KEY_HOME, KEY_END, KEY_ESCAPE = 27 };

/* Starts GLFW (one clear error without a display) and gives the context options a window
 * needs: the surface's instance extensions and the presentation test. */
int window_system_init(vkg_ctx_options *opts);
void window_system_end(void);

window *window_open(vkg_ctx *ctx, const char *title, int w, int h);
void window_close(window *win);

/* Handles pending events; waits up to `timeout` seconds for one when timeout > 0. */
void window_poll(window *win, double timeout);
/* The next key pressed (a lower-case letter, ' ', '+', '-', KEY_*), or 0. */
int window_next_key(window *win);
void window_mouse(const window *win, int *x, int *y);
int window_mouse_clicked(window *win); /* a left click since the last call */
int window_should_close(const window *win);
/* Whether the window was resized, exposed or re-shown since the last drawn frame. */
int window_dirty(const window *win);

/* Whether a frame can be drawn now (not minimised; the previous frame finished): never waits.
 * Then window_canvas is the frame to fill, at the window's current size. */
int window_ready(window *win);
canvas *window_canvas(window *win);
/* Draws and presents the canvas. The image panel reads `images` (NCHW floats) or `packed`
 * (0xAARRGGBB words), the scatter panel `points`; each may be NULL. 1 drawn, 0 skipped (the
 * swapchain was out of date), -1 error. */
int window_draw(window *win, const vkg_tensor *images, const vkg_buf *packed,
                const vkg_tensor *points);
/* GPU milliseconds of the last finished frame (from its timestamps). */
double window_frame_ms(window *win);
/* Writes the last drawn frame, exactly as presented, as an image (vkg_image_path_check). */
int window_screenshot(window *win, const char *path);

#endif
