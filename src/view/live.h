/* vkgan train --view: the window beside a training run. The trainer reports every finished step
 * and calls live_tick between submissions; the window refreshes G's preview and redraws within
 * a small share of the device's time, and turns keys into actions. */
#ifndef VKGAN_VIEW_LIVE_H
#define VKGAN_VIEW_LIVE_H

#include <stdio.h>

#include "vkgan/gan.h"

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

typedef struct live live;

enum { LIVE_CHECKPOINT = 1, LIVE_QUIT = 2 };

live *live_open(vkg_ctx *ctx, vkg_gan *gan, const live_setup *s);
void live_close(live *l);
/* One finished step's scalars (VKG_LOSS_*). */
int live_step(live *l, unsigned step, const float losses[VKG_LOSSES]);
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
/* Writes what the window shows now as a PNG. */
int live_screenshot(live *l, const char *path);
/* Frames, their device time, previews, and the window's estimated share of the device. */
void live_report(const live *l, FILE *f);

#endif
