/* vkgan train --view: the window (src/view/live.h) as an observer of the trainer. The window
 * sees G's preview through live_preview and the run's scalars; the trainer knows no window. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/train_observers.h"
#include "view/live.h"
#include "view/window.h"
#include "vkgan/error.h"

struct train_window {
    const vkg_train_options *o;
    int system; /* the window system is started */
    live *live;
    vkg_gan *gan;
    int quit; /* Q, Esc or closing the window */
};

/* ---- G's preview for the window ---- */

static int refresh(void *user, int fresh) {
    return vkg_gan_preview(user, fresh);
}

static double refresh_ms(void *user) {
    return vkg_gan_preview_ms(user);
}

static int read_preview(void *user, float *out) {
    vkg_gan *gan = user;
    return vkg_gan_wait(gan) < 0 ? -1 : vkg_tensor_download(gan->ctx, &gan->preview, out);
}

/* ---- the observer ---- */

static int view_error(void) {
    return vkg_set_error("--view: %s", vkg_error());
}

static int device_options(void *user, vkg_ctx_options *options) {
    train_window *w = user;
    if (window_system_init(options) < 0) return view_error();
    w->system = 1;
    return 0;
}

static int start(void *user, vkg_trainer *t, const vkg_train_info *info) {
    (void)t;
    train_window *w = user;
    const vkg_train_options *o = info->options;
    char title[256];
    snprintf(title, sizeof title, "vkgan train: %.60s (%.150s)", info->data_name, o->out);
    live_setup s = {.title = title,
                    .device = vkg_ctx_device(info->ctx)->name,
                    .run_dir = o->out,
                    .screenshot = o->screenshot[0] ? o->screenshot : NULL,
                    .total_steps = o->steps,
                    .batch = o->batch,
                    .d_steps = o->d_steps,
                    .classes = info->classes,
                    .data_count = info->data_count,
                    .modes = info->modes,
                    .mode_count = info->mode_count,
                    .mode_sigma = info->mode_sigma,
                    .preview_share = info->preview_share};
    live_preview p = {.images = &info->gan->preview,
                      .refresh = refresh,
                      .refresh_ms = refresh_ms,
                      .read = read_preview,
                      .user = info->gan};
    w->gan = info->gan;
    w->live = live_open(info->ctx, &p, info->gan->steps, &s);
    return w->live ? 0 : view_error();
}

static int step(void *user, unsigned s, const float x[VKG_LOSSES]) {
    train_window *w = user;
    return live_step(w->live, s, x[VKG_LOSS_D_REAL] + x[VKG_LOSS_D_FAKE], x[VKG_LOSS_G], x[VKG_DX],
                     x[VKG_DGZ_D]);
}

static int event(void *user, const vkg_train_event *e) {
    train_window *w = user;
    if (e->kind == VKG_TRAIN_QUALITY)
        return live_quality(w->live, e->step, (float)e->fcd, (float)e->entropy);
    if (e->kind == VKG_TRAIN_ROLLBACK)
        live_rewind(w->live, e->to_step);
    else
        live_event(w->live, e->step, e->name);
    return 0;
}

/* The window's keys between steps: a checkpoint on C; 1 on Q / Esc / closing; -1 error. */
static int actions(train_window *w, vkg_trainer *t, unsigned steps, int done) {
    int a = live_tick(w->live, steps, done);
    if (a < 0) return view_error();
    if (a & LIVE_CHECKPOINT) {
        int saved = vkg_trainer_checkpoint(t, 0);
        if (saved < 0) return view_error();
        if (saved == 0) fprintf(stderr, "\nvkgan: checkpoint written at step %u\n", steps);
    }
    return (a & LIVE_QUIT) != 0;
}

static int between_steps(void *user, vkg_trainer *t, unsigned steps) {
    train_window *w = user;
    int a = actions(w, t, steps, 0);
    if (a > 0) w->quit = 1;
    return a < 0 ? -1 : a ? VKG_TRAIN_STOP : 0;
}

static void finish_live(void *user) {
    train_window *w = user;
    live_close(w->live);
    w->live = NULL;
}

train_window *train_window_new(const vkg_train_options *o) {
    train_window *w = calloc(1, sizeof *w);
    if (w) w->o = o;
    return w;
}

vkg_train_observer train_window_observer(train_window *w) {
    return (vkg_train_observer){.user = w,
                                .device_options = device_options,
                                .start = start,
                                .step = step,
                                .event = event,
                                .between_steps = between_steps,
                                .close = finish_live};
}

int train_window_quit(const train_window *w) {
    return w->quit;
}

int train_window_finish(train_window *w, vkg_trainer *t) {
    unsigned steps = vkg_trainer_gan(t)->steps;
    if (w->o->screenshot[0])
        return live_final(w->live, steps, w->o->screenshot) < 0 ? view_error() : 0;
    if (!w->o->quiet)
        fprintf(stderr, "vkgan: training done; the window stays open: Q or Esc closes it\n");
    int a;
    while ((a = actions(w, t, steps, 1)) == 0) {
    }
    return a < 0 ? -1 : 0;
}

void train_window_report(const train_window *w) {
    if (w->live) live_report(w->live, stdout);
}

void train_window_free(train_window *w) {
    if (!w) return;
    if (w->system) window_system_end();
    free(w);
}
