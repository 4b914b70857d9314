/* The live window of vkgan train --view; see live.h. */
#include "view/live.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/panels.h"
#include "view/window.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

/* The window may take this share of the device's time for previews, and as much for frames
 * (measured: the throughput cost is somewhat higher, docs/PERF.md); redraws the user asks for
 * (keys, the mouse, resizing) come at up to 30 a second regardless. */
#define BUDGET 0.005
#define MIN_FRAME (1.0 / 30)

struct live {
    live_setup s;
    live_preview p;
    window *win;
    history h, q; /* every step's scalars; the quality checks */
    graph_mark marks[64];
    int mark_count;
    int paused, fresh;
    panels_view pv; /* grid columns, log scale, help */
    unsigned preview_step, drawn_step, steps;
    double next_preview, next_frame, last_frame, start;
    double step_seconds; /* smoothed wall time of a step */
    double rate_time;
    unsigned rate_step;
    double spent; /* estimated device seconds spent on the window */
    int frames, previews;
    double frame_seconds;   /* device time of the frames measured */
    double preview_seconds; /* ... and of the previews measured */
    int previews_measured;
    int mx, my, wanted; /* mouse; a redraw the user asked for */
};

static const char *const HELP[] = {
    "vkgan: keys",
    "Space   pause / resume training",
    "S       save the grid shown as a PNG in the run directory",
    "F       fixed latent batch / a fresh one at each refresh",
    "+ / -   more / fewer samples in the grid",
    "L       log scale for the losses",
    "C       write a checkpoint now",
    "P       screenshot of the window into the run directory",
    "H       this help",
    "Q, Esc  write a checkpoint and quit",
    "Hover a graph for the values at a step.",
};

live *live_open(vkg_ctx *ctx, const live_preview *preview, unsigned step, const live_setup *s) {
    live *l = calloc(1, sizeof *l);
    if (!l) {
        vkg_set_error("out of host memory");
        return NULL;
    }
    l->s = *s, l->p = *preview, l->pv.cols = 8, l->mx = l->my = -1;
    l->start = l->rate_time = vkg_now();
    if (!(l->win = window_open(ctx, s->title, 1280, 720)) || l->p.refresh(l->p.user, 0) < 0) {
        live_close(l);
        return NULL;
    }
    l->preview_step = step, l->rate_step = step;
    window_mouse(l->win, &l->mx, &l->my); /* where it starts is not a move */
    return l;
}

void live_close(live *l) {
    if (!l) return;
    window_close(l->win);
    history_free(&l->h);
    history_free(&l->q);
    free(l);
}

int live_step(live *l, unsigned step, float loss_d, float loss_g, float d_x, float d_g_z) {
    float v[H_VALUES];
    history_blank(v);
    v[H_LOSS_D] = loss_d, v[H_LOSS_G] = loss_g, v[H_DX] = d_x, v[H_DGZ] = d_g_z;
    return history_add(&l->h, step, v);
}

int live_quality(live *l, unsigned step, float fcd, float entropy) {
    float v[H_VALUES];
    history_blank(v);
    v[H_FCD] = fcd, v[H_ENTROPY] = entropy;
    l->wanted = 1;
    return history_add(&l->q, step, v);
}

void live_event(live *l, unsigned step, const char *name) {
    if (l->mark_count == (int)(sizeof l->marks / sizeof l->marks[0])) return;
    graph_mark *m = &l->marks[l->mark_count++];
    m->step = step;
    snprintf(m->name, sizeof m->name, "%s", name);
    l->wanted = 1;
}

void live_rewind(live *l, unsigned step) {
    history_cut(&l->h, step);
    history_cut(&l->q, step);
    live_event(l, step, "rollback");
}

static void status(live *l, canvas *c, rect r, int done) {
    char left[256], right[300], eta[32];
    double rate = l->step_seconds > 0 ? 1 / l->step_seconds : 0;
    vkg_duration_text(rate > 0 ? (l->s.total_steps - (int)l->steps) / rate : 0, eta, sizeof eta);
    double epoch = (double)l->steps * l->s.d_steps * l->s.batch / (double)l->s.data_count;
    snprintf(left, sizeof left, "%s  step %u/%d  epoch %.2f  %.0f img/s  ETA %s",
             done        ? "done"
             : l->paused ? "PAUSED"
                         : "running",
             l->steps, l->s.total_steps, epoch, rate * l->s.batch * l->s.d_steps, done ? "-" : eta);
    snprintf(right, sizeof right, "%s   H: help", l->s.device);
    panels_status(c, r, left, right);
}

static void draw(live *l, int done) {
    canvas *c = window_canvas(l->win);
    canvas_begin(c, c->width, c->height, COLOR_BACKGROUND);
    layout lay = panels_layout(c->width, c->height);
    char title[128];
    snprintf(title, sizeof title, "samples, %s z, step %u", l->fresh ? "fresh" : "fixed",
             l->preview_step);
    rect area = panels_image_box(c, lay.image, title);
    const vkg_tensor *p = l->p.images;
    if (l->s.modes) {
        panels_scatter(c, area, p->n, l->s.modes, l->s.mode_count, l->s.mode_sigma);
    } else {
        panels_image_grid(c, area, p, l->s.classes, &l->pv);
    }
    panels_graphs(c, &lay, &l->h, &l->q, l->marks, l->mark_count, l->pv.log_scale,
                  l->pv.help ? -1 : l->mx, l->my);
    status(l, c, lay.status, done);
    if (l->pv.help) panels_help(c, HELP, (int)(sizeof HELP / sizeof *HELP));
}

static int save_grid(live *l) {
    char path[4200];
    snprintf(path, sizeof path, "%s/view-grid-step-%09u.png", l->s.run_dir, l->preview_step);
    const vkg_tensor *p = l->p.images;
    float *f = malloc(sizeof(float) * vkg_tensor_count(p));
    if (!f) return vkg_set_error("out of host memory");
    int r = l->p.read(l->p.user, f);
    if (r == 0 && l->s.modes)
        r = vkg_write_png_scatter(path, f, p->n, l->s.modes, l->s.mode_count, l->s.mode_sigma);
    else if (r == 0) { /* the cells drawn (draw()): cols a row, one row per class */
        int cols = l->pv.cols, rows;
        panels_grid_shape(p->n, l->s.classes, &cols, &rows);
        int shown = l->s.classes > 0 || cols * rows > p->n ? p->n : cols * rows;
        r = vkg_write_png_class_grid(path, f, shown, l->s.classes, p->c, p->h, p->w, cols);
    }
    free(f);
    if (r == 0) fprintf(stderr, "\nvkgan: wrote %s\n", path);
    return r;
}

int live_screenshot(live *l, const char *path) {
    int r = window_screenshot(l->win, path);
    if (r == 0) fprintf(stderr, "\nvkgan: wrote %s\n", path);
    return r;
}

static int screenshot_key(live *l) {
    char path[4200], stem[32];
    snprintf(stem, sizeof stem, "step-%09u", l->steps);
    panels_screenshot_path(l->s.run_dir, stem, path, sizeof path);
    return live_screenshot(l, path);
}

/* Keys: LIVE_* flags to return, or -1. */
static int keys(live *l, int *screenshot) {
    int actions = 0, k;
    while ((k = window_next_key(l->win)) != 0) {
        l->wanted = 1;
        switch (k) {
        case ' ':
            l->paused = !l->paused;
            break;
        case 's':
            if (save_grid(l) < 0) return -1;
            break;
        case 'f':
            l->fresh = !l->fresh;
            l->next_preview = 0;
            break;
        case 'c':
            actions |= LIVE_CHECKPOINT;
            break;
        case 'p':
            *screenshot = 1;
            break;
        case 'q':
        case KEY_ESCAPE:
            actions |= LIVE_QUIT;
            break;
        default:
            panels_key(k, &l->pv);
            break;
        }
    }
    if (window_should_close(l->win)) actions |= LIVE_QUIT;
    return actions;
}

static void measure_rate(live *l, double t) {
    if (l->steps > l->rate_step && t - l->rate_time > 0.5) {
        double per = (t - l->rate_time) / (l->steps - l->rate_step);
        l->step_seconds = l->step_seconds > 0 ? 0.7 * l->step_seconds + 0.3 * per : per;
        l->rate_time = t, l->rate_step = l->steps;
    }
}

/* A new preview when training moved on and the budget allows: its cost is the last preview's
 * measured time (before one has finished: G's forward pass as preview_share of a step). */
static int refresh_preview(live *l, double t, int force) {
    if (!force && (l->paused || l->steps == l->preview_step || t < l->next_preview)) return 0;
    double measured = l->p.refresh_ms(l->p.user);
    if (l->p.refresh(l->p.user, l->fresh) < 0) return -1;
    double cost = measured >= 0 ? measured / 1000 : l->s.preview_share * l->step_seconds;
    if (measured >= 0) l->preview_seconds += cost, l->previews_measured++;
    l->spent += cost, l->previews++;
    l->next_preview = t + fmax(MIN_FRAME, cost / BUDGET);
    l->preview_step = l->steps;
    return 1;
}

static int redraw(live *l, double t, int done) {
    int mx, my;
    window_mouse(l->win, &mx, &my);
    if (mx != l->mx || my != l->my) l->mx = mx, l->my = my, l->wanted = 1;
    int due = t >= l->next_frame && l->drawn_step != l->preview_step + l->h.count;
    if (!(due || window_dirty(l->win) || (l->wanted && t - l->last_frame >= MIN_FRAME))) return 0;
    if (!window_ready(l->win)) return 0;
    draw(l, done);
    int r =
        window_draw(l->win, l->s.modes ? NULL : l->p.images, NULL, l->s.modes ? l->p.images : NULL);
    if (r <= 0) return r;
    double cost = window_frame_ms(l->win) / 1000; /* of the previous frame: about the same */
    l->spent += cost, l->frame_seconds += cost, l->frames++;
    l->next_frame = t + fmax(MIN_FRAME, cost / BUDGET);
    l->last_frame = t, l->wanted = 0;
    l->drawn_step = l->preview_step + l->h.count;
    return 1;
}

int live_tick(live *l, unsigned steps, int done) {
    l->steps = steps;
    for (;;) {
        window_poll(l->win, l->paused || done ? MIN_FRAME : 0);
        double t = vkg_now();
        measure_rate(l, t);
        int screenshot = 0, actions = keys(l, &screenshot);
        if (actions < 0) return -1;
        int force = l->next_preview == 0;
        if (refresh_preview(l, t, force) < 0 || redraw(l, t, done) < 0) return -1;
        if (screenshot) { /* the frame with everything asked for so far */
            for (int i = 0; i < 200 && l->wanted && redraw(l, vkg_now(), done) == 0; i++)
                window_poll(l->win, 0.01);
            if (screenshot_key(l) < 0) return -1;
        }
        if (actions || !(l->paused || done)) return actions;
    }
}

int live_final(live *l, unsigned steps, const char *path) {
    l->steps = steps;
    if (refresh_preview(l, vkg_now(), 1) < 0) return -1;
    l->wanted = 1, l->next_frame = 0;
    int drawn = 0;
    for (int i = 0; i < 500 && drawn == 0; i++) { /* up to 5 s for the window to be ready */
        window_poll(l->win, 0.01);
        if ((drawn = redraw(l, vkg_now(), 1)) < 0) return -1;
    }
    if (!drawn) return vkg_set_error("%s: the window could not draw a frame (minimised?)", path);
    return live_screenshot(l, path);
}

void live_report(const live *l, FILE *f) {
    double wall = vkg_now() - l->start;
    fprintf(f,
            "window: %d frames (%.1f ms each on the device), %d previews (%.1f ms each); %.1f%% "
            "of the device's time\n",
            l->frames, l->frames > 1 ? 1000 * l->frame_seconds / (l->frames - 1) : 0, l->previews,
            l->previews_measured ? 1000 * l->preview_seconds / l->previews_measured : 0,
            wall > 0 ? 100 * l->spent / wall : 0);
}
