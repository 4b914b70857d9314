/* vkgan train --view: the window beside a training run. It knows no trainer and no GAN: whoever
 * composes it (src/cli/train_window.c) passes on every finished step's scalars, the quality
 * checks and events, and calls live_tick between submissions; the window refreshes G's preview
 * through a narrow interface (live_preview) and redraws within a small share of the device's
 * time, and turns keys into actions. */
#ifndef VKGAN_VIEW_LIVE_H
#define VKGAN_VIEW_LIVE_H

#include <stdio.h>

#include "vkgan/gpu.h"

typedef struct live_setup {
    const char *title, *device, *run_dir;
    const char *screenshot; /* --screenshot: written when training ends, then the window closes */
    int total_steps, batch, d_steps, classes;
    long data_count;
    const float (*modes)[2]; /* 2D data: the modes (NULL for images) */
    int mode_count;
    float mode_sigma;
    double preview_share; /* G's forward pass over one batch, as a share of a training step */
} live_setup;

/* G's preview: images on the device that refresh fills. */
typedef struct live_preview {
    const vkg_tensor *images; /* NCHW floats in [-1, 1], or [n, 2] points for 2D data */
    /* Queues G on the fixed (fresh 0) or a new random (fresh 1) latent batch into images;
     * never waits. 0 or -1 with vkg_error(). */
    int (*refresh)(void *user, int fresh);
    /* GPU milliseconds of the last refresh (-1 while none has finished). */
    double (*refresh_ms)(void *user);
    /* Waits for the queued work and copies images to the host (vkg_tensor_count floats). */
    int (*read)(void *user, float *out);
    void *user;
} live_preview;

typedef struct live live;

enum { LIVE_CHECKPOINT = 1, LIVE_QUIT = 2 };

/* Opens the window on ctx's device and queues the first preview; `step`: training's step now.
 * The preview interface is copied. */
live *live_open(vkg_ctx *ctx, const live_preview *preview, unsigned step, const live_setup *s);
void live_close(live *l);
/* One finished step's scalars: D's loss (real + fake), G's, D(x) and D(G(z)). */
int live_step(live *l, unsigned step, float loss_d, float loss_g, float d_x, float d_g_z);
/* A quality check's FCD and class entropy (the quality graph). */
int live_quality(live *l, unsigned step, float fcd, float entropy);
/* A training-health event (a mark on the graphs). */
void live_event(live *l, unsigned step, const char *name);
/* A rollback to `step`: the graphs drop what came after it. */
void live_rewind(live *l, unsigned step);
/* Events, preview and redraw between two submissions; waits here while paused. `done`: training
 * has ended (the window stays until Q, Esc or closing it). LIVE_* flags, or -1 on error. */
int live_tick(live *l, unsigned steps, int done);
/* Training has ended at `steps`: refreshes the preview, draws the last frame and writes it. */
int live_final(live *l, unsigned steps, const char *path);
/* Writes what the window shows now as an image (vkg_image_path_check). */
int live_screenshot(live *l, const char *path);
/* Frames, their device time, previews, and the window's estimated share of the device. */
void live_report(const live *l, FILE *f);

#endif
