/* GLFW window, Vulkan surface and swapchain, and the frame's recordings; see window.h. */
#include "view/window.h"

#include <stdlib.h>
#include <string.h>

#include "view/frame.h"
/* Vulkan's types only (no functions), for GLFW to declare glfwCreateWindowSurface: the window
 * hands it to the GPU layer, which owns the surface and swapchain (vkgan/present.h). */
#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan_core.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/present.h"

#define MAX_IMAGES 8
#define KEY_QUEUE 64
#define SPAN_WORDS ((size_t)VP_MAX_PLOTS * VP_MAX_SERIES * VP_MAX_COLUMNS)

struct window {
    vkg_ctx *ctx;
    GLFWwindow *glfw;
    vkg_present *present; /* surface, swapchain, semaphores */
    int swapchain;        /* a swapchain has been made */
    int width, height;    /* of the swapchain's images and the frame */
    int red_first;
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
    int fw, fh;
    glfwGetFramebufferSize(win->glfw, &fw, &fh);
    int made = vkg_present_resize(win->present, fw, fh, VP_MAX_COLUMNS, &win->width, &win->height,
                                  &win->red_first);
    if (made < 0) win->swapchain = 0; /* the old one is gone too */
    if (made <= 0) return made;       /* minimised (try again later) or an error */
    win->swapchain = 1;
    /* the frame buffer at the new size */
    vkg_arena_destroy(win->frames);
    win->frames = vkg_arena_create(win->ctx, 0);
    if (!win->frames ||
        vkg_arena_alloc(win->frames, 4ull * (uint64_t)win->width * (uint64_t)win->height,
                        &win->frame) < 0)
        return -1;
    win->stale = 0;
    win->dirty = 1;
    return 1;
}

/* Waits for the frames in flight, then remakes the swapchain and forgets the recordings. */
static int remake(window *win) {
    for (int i = 0; i < MAX_IMAGES; i++)
        if (win->recs[i] && vkg_rec_wait(win->recs[i]) < 0) return -1;
    destroy_recordings(win);
    return make_swapchain(win); /* waits for the queue: the presentation engine lets go */
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
    if (vkg_present_check(ctx) < 0) return NULL;
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
    win->present =
        vkg_present_create(ctx, (vkg_surface_fn)(void (*)(void))glfwCreateWindowSurface, win->glfw);
    if (!win->present) {
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
    vkg_present_destroy(win->present); /* waits for the queue first */
    destroy_recordings(win);
    vkg_arena_destroy(win->frames);
    vkg_arena_destroy(win->host);
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
    win->canvas.width = win->width, win->canvas.height = win->height;
    return 1;
}

canvas *window_canvas(window *win) {
    return &win->canvas;
}

double window_frame_ms(window *win) {
    return win->frame_ms;
}

/* compose, points, text; then the copy into swapchain image i. */
static vkg_rec *record(window *win, uint32_t i, const vkg_buf *images, const vkg_buf *packed,
                       const vkg_buf *points) {
    vkg_rec *rec = vkg_rec_begin(win->ctx, 1);
    if (!rec) return NULL;
    frame_bufs bufs = {&win->frame,
                       &win->params,
                       &win->spans,
                       &win->font,
                       images,
                       packed,
                       points != &win->dummy ? points : NULL};
    int r = frame_record(rec, &bufs, win->width, win->height);
    if (r == 0) r = vkg_present_record_copy(win->present, rec, i, &win->frame);
    if (r == 0) r = vkg_rec_end(rec);
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
    int acquired = vkg_present_acquire(win->present, &i, &win->stale);
    if (acquired <= 0) return acquired;
    if (!win->recs[i] && !(win->recs[i] = record(win, i, b[0], b[1], b[2]))) return -1;
    if (vkg_present_submit(win->present, win->recs[i], i) < 0) return -1;
    win->last = win->recs[i];
    if (vkg_present_show(win->present, i, &win->stale) < 0) return -1;
    win->dirty = 0;
    return 1;
}

int window_screenshot(window *win, const char *path) {
    if (!win->frame.buffer) return vkg_set_error("%s: no frame has been drawn yet", path);
    if (win->last && vkg_rec_wait(win->last) < 0) return -1;
    size_t n = (size_t)win->width * (size_t)win->height;
    uint8_t *px = malloc(4 * n);
    if (!px) return vkg_set_error("out of host memory");
    int r = vkg_download(win->ctx, &win->frame, px, 4 * n);
    for (size_t i = 0; r == 0 && i < n; i++) { /* frame bytes -> R, G, B */
        uint8_t *q = px + 4 * i, red = q[win->red_first ? 0 : 2], blue = q[win->red_first ? 2 : 0];
        px[3 * i] = red, px[3 * i + 1] = q[1], px[3 * i + 2] = blue;
    }
    if (r == 0) r = vkg_write_png(path, px, win->width, win->height, 3);
    free(px);
    return r;
}
