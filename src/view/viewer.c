/* vkgan view RUN_DIR: a finished or running headless run in the window. The graphs come from
 * metrics.jsonl (re-read as it grows), the image panel shows G on the fixed latent batch of the
 * newest checkpoint, the saved grids of samples/ one by one (a slider; Left / Right), or an
 * animated walk through latent space. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stb_image.h>

#include "view/panels.h"
#include "view/window.h"
#include "vkgan/view.h"
#include "vkgan/data.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"
#include "vkgan/rundir.h"

enum { SHOW_CHECKPOINT, SHOW_SAVED, SHOW_WALK };

typedef struct saved_grid {
    unsigned step;
    char name[32];
} saved_grid;

#define MAX_MARKS 64

typedef struct viewer {
    const char *dir;
    vkg_ctx *ctx;
    window *win;
    history h;
    graph_mark marks[MAX_MARKS]; /* training-health events from metrics.jsonl */
    int mark_count;
    long long metrics_size;
    saved_grid *grids;
    int grid_count, grid_at, grid_loaded; /* grid_loaded: the index in the packed buffer */
    vkg_arena *packed_arena;
    vkg_buf packed;
    int packed_w, packed_h;
    /* G from the newest checkpoint */
    unsigned ckpt_step;
    int have_g, new_g, shape[5]; /* new_g: loaded, not yet generated */
    /* the newest checkpoint at the last scan (as its file was): while it stays, nothing is read */
    int have_newest;
    unsigned newest_step;
    struct stat newest_file;
    vkg_train_options o;
    vkg_arena *arena;
    vkg_sampler s;
    vkg_rec *rec;
    float *z, *walk_a, *walk_b, *fixed_z;
    double walk_t;
    uint64_t rng;
    vkg_dataset modes; /* 2D data: the modes */
    int show, mx, my;
    panels_view pv; /* grid columns, log scale, help */
    double last_scan, last_walk;
} viewer;

static const char *const HELP[] = {
    "vkgan view: keys",
    "Left / Right   previous / next saved grid (samples/)",
    "Home / End     first / last saved grid",
    "G              G on the fixed latent batch of the newest checkpoint",
    "W              walk through latent space (animated)",
    "+ / -          more / fewer samples in the grid",
    "L              log scale for the losses",
    "P              screenshot into the run directory",
    "H              this help",
    "Q, Esc         quit",
    "Click the slider to jump; hover a graph for the values at a step.",
};

/* ---- the run directory ---- */

static float number(const cJSON *row, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    return cJSON_IsNumber(v) ? (float)v->valuedouble : NAN;
}

/* One metrics line: a point of the graphs or an event mark. */
static int add_row(const cJSON *row, unsigned step, const char *event, void *user) {
    viewer *v = user;
    if (event) {
        if (v->mark_count < MAX_MARKS) {
            graph_mark *m = &v->marks[v->mark_count++];
            m->step = step;
            snprintf(m->name, sizeof m->name, "%s", event);
        }
        return 0;
    }
    float x[H_VALUES] = {number(row, "loss_d"), number(row, "loss_g"),
                         number(row, "d_x"),    number(row, "d_g_z"),
                         number(row, "fcd"),    number(row, "class_entropy")};
    return history_add(&v->h, step, x);
}

/* The graphs from metrics.jsonl, again whenever it has grown. */
static int read_metrics(viewer *v) {
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/metrics.jsonl", v->dir);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size == v->metrics_size) return 0;
    v->metrics_size = st.st_size;
    history_clear(&v->h);
    v->mark_count = 0;
    return vkg_metrics_read(v->dir, add_row, v, NULL) < 0 && access(path, R_OK) == 0 ? -1 : 0;
}

static int by_step(const void *a, const void *b) {
    const saved_grid *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

static int scan_grids(viewer *v) {
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/samples", v->dir);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0, cap = 0, at_end = v->grid_at >= v->grid_count - 1;
    saved_grid *g = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned step;
        char tail[8];
        if (sscanf(e->d_name, "step-%u.pn%1s", &step, tail) != 2 || strlen(e->d_name) >= 32)
            continue;
        if (n == cap) {
            saved_grid *grown = realloc(g, sizeof *g * (size_t)(cap = cap ? 2 * cap : 64));
            if (!grown) break;
            g = grown;
        }
        g[n].step = step;
        memcpy(g[n].name, e->d_name, strlen(e->d_name) + 1); /* shorter than 32: checked */
        n++;
    }
    closedir(d);
    if (n) qsort(g, (size_t)n, sizeof *g, by_step);
    free(v->grids);
    v->grids = g, v->grid_count = n;
    if (at_end || v->grid_at >= n) v->grid_at = n - 1; /* follow a running run */
    v->grid_loaded = -1;
    return 0;
}

/* The saved grid at grid_at into the packed buffer (0xAARRGGBB words). */
static int load_grid(viewer *v) {
    if (v->grid_at < 0 || v->grid_loaded == v->grid_at) return 0;
    char path[VKG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/samples/%s", v->dir, v->grids[v->grid_at].name);
    int w, h, n;
    FILE *f = vkg_open_regular(path);
    if (!f) return -1;
    unsigned char *px = stbi_load_from_file(f, &w, &h, &n, 4);
    fclose(f);
    if (!px) return vkg_set_error("%s: cannot read the PNG (%s)", path, stbi_failure_reason());
    if ((uint64_t)w * h * 4 > v->packed.size) { /* a bigger buffer (re-recorded on draw) */
        vkg_arena_destroy(v->packed_arena);
        v->packed_arena = vkg_arena_create_mapped(v->ctx, 0);
        if (!v->packed_arena || vkg_arena_alloc(v->packed_arena, 4ull * w * h, &v->packed) < 0) {
            stbi_image_free(px);
            return -1;
        }
    }
    uint32_t *words = vkg_arena_host(v->packed_arena, &v->packed);
    for (int i = 0; i < w * h; i++) {
        const unsigned char *q = px + 4 * i;
        words[i] = (uint32_t)q[3] << 24 | (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
    }
    stbi_image_free(px);
    v->packed_w = w, v->packed_h = h, v->grid_loaded = v->grid_at;
    return 0;
}

/* ---- G from the newest checkpoint ---- */

static double gaussian(uint64_t *state) { /* xorshift64* and Box-Muller */
    double u[2];
    for (int i = 0; i < 2; i++) {
        *state ^= *state >> 12, *state ^= *state << 25, *state ^= *state >> 27;
        u[i] = ((*state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
    }
    return sqrt(-2 * log(u[0] + 1e-300)) * cos(2 * M_PI * u[1]);
}

static void free_generator(viewer *v) {
    vkg_rec_destroy(v->rec);
    vkg_arena_destroy(v->arena);
    free(v->z);
    v->rec = NULL, v->arena = NULL, v->z = v->walk_a = v->walk_b = v->fixed_z = NULL;
    v->have_g = 0;
}

/* G from one checkpoint; -1 with vkg_error() (a file that does not read leaves G as it was). */
static int load_from(viewer *v, const char *path, unsigned step) {
    vkg_safetensors *st = vkg_safetensors_read(path);
    if (!st) return -1;
    free_generator(v);
    int r = vkg_sampler_read_setup(st, path, &v->o, v->shape);
    size_t zn = (size_t)v->o.batch * v->o.latent;
    if (r == 0 && !(v->arena = vkg_arena_create(v->ctx, 0))) r = -1;
    if (r == 0) r = vkg_sampler_setup(v->ctx, v->arena, st, path, &v->o, v->shape, 1, &v->s);
    if (r == 0 && !(v->z = malloc(sizeof(float) * zn * 4))) r = vkg_set_error("out of memory");
    int ndim;
    int64_t dims[4];
    const float *fixed = r == 0 ? vkg_safetensors_get(st, "fixed_z", VKG_F32, &ndim, dims) : NULL;
    if (r == 0 && (!fixed || ndim != 2 || dims[0] * dims[1] != (int64_t)zn))
        r = vkg_set_error("%s: no fixed latent batch fixed_z", path);
    if (r == 0) {
        v->walk_a = v->z + zn, v->walk_b = v->z + 2 * zn, v->fixed_z = v->z + 3 * zn;
        memcpy(v->fixed_z, fixed, sizeof(float) * zn);
        memcpy(v->z, fixed, sizeof(float) * zn);
        memcpy(v->walk_a, fixed, sizeof(float) * zn);
        memcpy(v->walk_b, fixed, sizeof(float) * zn);
        if (v->s.classes) r = vkg_sampler_labels(v->ctx, &v->s.labels, 0, v->s.classes, -1);
    }
    if (r == 0)
        r = (v->rec = vkg_rec_begin(v->ctx, 0)) ? vkg_sampler_record(v->rec, &v->s, 1, 0) : -1;
    vkg_safetensors_free(st);
    if (r < 0) return free_generator(v), -1;
    v->have_g = 1, v->new_g = 1, v->ckpt_step = step;
    return 0;
}

/* Loads G from the newest checkpoint that loads, when it is newer than the one loaded. One that
 * does not (damaged, a folder in its place, not finite) is passed over, as a resume passes over
 * it, with one warning line naming the newest such (once for it); with none that loads the run
 * is shown without G's samples. */
static int load_generator(viewer *v) {
    char path[VKG_PATH_MAX + 64], newest[1024] = "";
    unsigned step, before = UINT_MAX;
    struct stat file;
    if (vkg_rundir_newest_checkpoint(v->dir, path, sizeof path, &step) < 0 ||
        stat(path, &file) < 0)
        return 0; /* none yet */
    if (v->have_newest && step == v->newest_step && file.st_size == v->newest_file.st_size &&
        file.st_mtime == v->newest_file.st_mtime)
        return 0; /* as at the last scan: loaded, or passed over and warned of */
    v->have_newest = 1, v->newest_step = step, v->newest_file = file;
    do {
        if (v->have_g && step == v->ckpt_step) break; /* the one shown is the newest that loads */
        if (load_from(v, path, step) == 0) break;
        if (!newest[0]) snprintf(newest, sizeof newest, "%s", vkg_error());
        before = step;
    } while (vkg_rundir_checkpoint_before(v->dir, before, path, sizeof path, &step) == 0);
    if (newest[0]) {
        if (v->have_g)
            fprintf(stderr,
                    "vkgan: warning: %s; showing G from the checkpoint of step %u, the newest "
                    "that loads\n",
                    newest, v->ckpt_step);
        else
            fprintf(stderr, "vkgan: warning: %s; no checkpoint loads: G's samples are not shown\n",
                    newest);
    }
    if (v->have_g && v->shape[0] && !v->modes.mode_count &&
        vkg_dataset_load(v->o.data, 0, 0, (uint64_t)v->o.seed, &v->modes) < 0)
        return -1;
    return 0;
}

static int generate(viewer *v) {
    return vkg_upload(v->ctx, &v->s.z.buf, v->z, sizeof(float) * v->s.z.n * v->s.z.c) < 0
               ? -1
               : vkg_rec_run(v->rec);
}

/* The next point of the walk: each example moves along a great circle from one random latent
 * vector to the next (spherical interpolation keeps |z| typical of N(0, I)). */
static int walk_step(viewer *v, double dt) {
    int b = v->o.batch, n = v->o.latent;
    v->walk_t += dt * 0.5;
    if (v->walk_t >= 1) {
        memcpy(v->walk_a, v->walk_b, sizeof(float) * (size_t)b * n);
        for (int i = 0; i < b * n; i++) v->walk_b[i] = (float)gaussian(&v->rng);
        v->walk_t = 0;
    }
    double t = v->walk_t;
    for (int e = 0; e < b; e++) {
        const float *a = v->walk_a + (size_t)e * n, *c = v->walk_b + (size_t)e * n;
        double dot = 0, na = 0, nc = 0;
        for (int i = 0; i < n; i++) dot += a[i] * c[i], na += a[i] * a[i], nc += c[i] * c[i];
        double omega = acos(fmax(-1, fmin(1, dot / sqrt(na * nc + 1e-30)))), so = sin(omega);
        double wa = so > 1e-6 ? sin((1 - t) * omega) / so : 1 - t;
        double wc = so > 1e-6 ? sin(t * omega) / so : t;
        for (int i = 0; i < n; i++) v->z[(size_t)e * n + i] = (float)(wa * a[i] + wc * c[i]);
    }
    return generate(v);
}

/* ---- drawing ---- */

static rect slider_track(rect area) {
    return (rect){area.x0 + 8, area.y1 - 14, area.x1 - 8, area.y1 - 10};
}

static void draw(viewer *v) {
    canvas *c = window_canvas(v->win);
    canvas_begin(c, c->width, c->height, COLOR_BACKGROUND);
    layout lay = panels_layout(c->width, c->height);
    char title[160];
    if (v->show == SHOW_SAVED && v->grid_at >= 0)
        snprintf(title, sizeof title, "saved grid, step %u (%d of %d)", v->grids[v->grid_at].step,
                 v->grid_at + 1, v->grid_count);
    else if (v->show == SHOW_WALK)
        snprintf(title, sizeof title, "latent walk, checkpoint step %u", v->ckpt_step);
    else if (v->have_g)
        snprintf(title, sizeof title, "checkpoint step %u, fixed z", v->ckpt_step);
    else
        snprintf(title, sizeof title, "no checkpoint or saved grid yet");
    rect area = panels_image_box(c, lay.image, title);
    if (v->grid_count > 1) { /* the slider over the saved grids */
        rect t = slider_track(area);
        canvas_rect(c, t.x0, t.y0, t.x1 - t.x0, t.y1 - t.y0, 0xff3a4150u, 0);
        int at = v->grid_at < 0 ? 0 : v->grid_at;
        int x = t.x0 + (t.x1 - t.x0 - 1) * at / (v->grid_count - 1);
        canvas_rect(c, x - 3, t.y0 - 5, 7, 14, v->show == SHOW_SAVED ? 0xffef8a3cu : COLOR_DIM, 0);
        area.y1 -= 24;
    }
    const vkg_tensor *y = v->have_g ? vkg_model_output(&v->s.g) : NULL;
    if (v->show == SHOW_SAVED && v->grid_loaded >= 0) {
        canvas_image_packed(c, area, v->packed_w, v->packed_h);
    } else if (y && v->shape[0]) {
        panels_scatter(c, area, y->n, v->modes.modes, v->modes.mode_count, v->modes.mode_sigma);
    } else if (y) {
        panels_image_grid(c, area, y, v->s.classes, &v->pv);
    }
    panels_graphs(c, &lay, &v->h, &v->h, v->marks, v->mark_count, v->pv.log_scale,
                  v->pv.help ? -1 : v->mx, v->my);
    char left[VKG_PATH_MAX + 128], right[300];
    snprintf(left, sizeof left, "%.120s  metrics to step %u  saved grids %d", v->dir,
             v->h.count ? v->h.step[v->h.count - 1] : 0, v->grid_count);
    snprintf(right, sizeof right, "%s   H: help", vkg_ctx_device(v->ctx)->name);
    panels_status(c, lay.status, left, right);
    if (v->pv.help) panels_help(c, HELP, (int)(sizeof HELP / sizeof *HELP));
}

static int render(viewer *v) {
    if (!window_ready(v->win)) return 0;
    if (v->show == SHOW_SAVED && load_grid(v) < 0) return -1;
    draw(v);
    const vkg_tensor *y = v->have_g ? vkg_model_output(&v->s.g) : NULL;
    int saved = v->show == SHOW_SAVED && v->grid_loaded >= 0;
    return window_draw(v->win, !saved && y && !v->shape[0] ? y : NULL, saved ? &v->packed : NULL,
                       !saved && y && v->shape[0] ? y : NULL);
}

/* ---- the loop ---- */

static int screenshot(viewer *v, const char *given) {
    char path[VKG_PATH_MAX + 64], stem[32];
    snprintf(stem, sizeof stem, "view-step-%09u", v->h.count ? v->h.step[v->h.count - 1] : 0);
    if (given)
        snprintf(path, sizeof path, "%s", given);
    else
        panels_screenshot_path(v->dir, stem, path, sizeof path);
    if (window_screenshot(v->win, path) < 0) return -1;
    fprintf(stderr, "vkgan: wrote %s\n", path);
    return 0;
}

/* Keys and clicks; 1 to quit, -1 on error. */
static int input(viewer *v, int *dirty, int *shot) {
    int k;
    while ((k = window_next_key(v->win)) != 0) {
        *dirty = 1;
        int last = v->grid_count - 1;
        switch (k) {
        case KEY_LEFT:
            v->grid_at = v->grid_at > 0 ? v->grid_at - 1 : 0, v->show = SHOW_SAVED;
            break;
        case KEY_RIGHT:
            v->grid_at = v->grid_at < last ? v->grid_at + 1 : last, v->show = SHOW_SAVED;
            break;
        case KEY_HOME:
            v->grid_at = last >= 0 ? 0 : -1, v->show = SHOW_SAVED;
            break;
        case KEY_END:
            v->grid_at = last, v->show = SHOW_SAVED;
            break;
        case 'g':
            v->show = SHOW_CHECKPOINT;
            if (v->have_g) memcpy(v->z, v->fixed_z, sizeof(float) * v->o.batch * v->o.latent);
            if (v->have_g && generate(v) < 0) return -1;
            break;
        case 'w':
            v->show = v->show == SHOW_WALK || !v->have_g ? SHOW_CHECKPOINT : SHOW_WALK;
            if (v->show == SHOW_WALK) { /* from the batch shown to a random one */
                size_t zn = (size_t)v->o.batch * v->o.latent;
                memcpy(v->walk_a, v->z, sizeof(float) * zn);
                for (size_t i = 0; i < zn; i++) v->walk_b[i] = (float)gaussian(&v->rng);
                v->walk_t = 0;
            }
            break;
        case 'p':
            *shot = 1;
            break;
        case 'q':
        case KEY_ESCAPE:
            return 1;
        default:
            panels_key(k, &v->pv);
            break;
        }
    }
    if (window_mouse_clicked(v->win) && v->grid_count > 1) { /* on the slider: jump there */
        layout lay = panels_layout(window_canvas(v->win)->width, window_canvas(v->win)->height);
        rect t = slider_track((rect){lay.image.x0 + 8, 0, lay.image.x1 - 8, lay.image.y1 - 8});
        if (v->mx >= t.x0 - 4 && v->mx <= t.x1 + 4 && v->my >= t.y0 - 8 && v->my <= t.y1 + 8) {
            int at = (int)lround((double)(v->mx - t.x0) / (t.x1 - t.x0) * (v->grid_count - 1));
            v->grid_at = at < 0 ? 0 : at >= v->grid_count ? v->grid_count - 1 : at;
            v->show = SHOW_SAVED, *dirty = 1;
        }
    }
    return window_should_close(v->win) ? 1 : 0;
}

static int scan(viewer *v) {
    if (read_metrics(v) < 0 || scan_grids(v) < 0 || load_generator(v) < 0) return -1;
    if (v->have_g && v->new_g && generate(v) < 0) return -1;
    v->new_g = 0;
    if (!v->have_g && v->show == SHOW_CHECKPOINT) v->show = SHOW_SAVED;
    return 0;
}

static int loop(viewer *v, const char *shot_path) {
    v->show = SHOW_CHECKPOINT, v->pv.cols = 8, v->grid_at = -1, v->rng = 0x9e3779b97f4a7c15ull;
    if (scan(v) < 0) return -1;
    if (shot_path) { /* one frame, then close */
        for (int i = 0; i < 500; i++) {
            window_poll(v->win, 0.01);
            int r = render(v);
            if (r < 0) return -1;
            if (r > 0) return screenshot(v, shot_path);
        }
        return vkg_set_error("%s: the window could not draw a frame (minimised?)", shot_path);
    }
    int dirty = 1, shot = 0;
    v->last_scan = v->last_walk = vkg_now();
    for (;;) {
        window_poll(v->win, v->show == SHOW_WALK ? 1.0 / 60 : 0.1);
        int q = input(v, &dirty, &shot);
        if (q) return q < 0 ? -1 : 0;
        int mx, my;
        window_mouse(v->win, &mx, &my);
        if (mx != v->mx || my != v->my) v->mx = mx, v->my = my, dirty = 1;
        double t = vkg_now();
        if (t - v->last_scan > 1) { /* a running run: new metrics, grids, checkpoints */
            long long size = v->metrics_size;
            int grids = v->grid_count;
            unsigned step = v->ckpt_step;
            if (scan(v) < 0) return -1;
            dirty |= size != v->metrics_size || grids != v->grid_count || step != v->ckpt_step;
            v->last_scan = t;
        }
        if (v->show == SHOW_WALK && window_ready(v->win)) {
            if (walk_step(v, fmin(t - v->last_walk, 0.5)) < 0) return -1;
            dirty = 1;
        }
        v->last_walk = t;
        if (dirty || window_dirty(v->win)) {
            int r = render(v);
            if (r < 0) return -1;
            if (r > 0) dirty = 0;
        }
        /* P: once a frame with everything asked for before it is drawn (while the last frame
         * is still on the device, render() draws nothing and the frame at hand is older) */
        if (shot && !dirty && !window_dirty(v->win)) {
            if (screenshot(v, NULL) < 0) return -1;
            shot = 0;
        }
    }
}

int vkg_view_run(const char *dir, const char *shot_path, const char *device, int validation) {
    cJSON *json = vkg_rundir_read_config(dir);
    if (!json) {
        fprintf(stderr, "vkgan: error: %s: not a run directory of vkgan train: %s\n", dir,
                vkg_error());
        return 1;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data");
    const cJSON *name = data ? cJSON_GetObjectItemCaseSensitive(data, "name") : NULL;
    char title[256];
    snprintf(title, sizeof title, "vkgan view: %.100s (%.120s)",
             cJSON_IsString(name) ? name->valuestring : "?", dir);
    cJSON_Delete(json);
    viewer v = {.dir = dir, .metrics_size = -1};
    vkg_ctx_options copts = {.device = device, .validation = validation ? 1 : -1, .quiet = 1};
    int r = window_system_init(&copts);
    int glfw = r == 0;
    if (r == 0 && !(v.ctx = vkg_ctx_create(&copts))) r = -1;
    if (r == 0 && !(v.win = window_open(v.ctx, title, 1280, 720))) r = -1;
    if (r == 0) r = loop(&v, shot_path);
    window_close(v.win);
    free_generator(&v);
    vkg_arena_destroy(v.packed_arena);
    vkg_dataset_free(&v.modes);
    history_free(&v.h);
    free(v.grids);
    if (r == 0 && validation && vkg_ctx_validation_count(v.ctx) > 0)
        r = vkg_set_error("validation messages were reported");
    vkg_ctx_destroy(v.ctx);
    if (glfw) window_system_end();
    if (r < 0) return fprintf(stderr, "vkgan: error: %s\n", vkg_error()), 1;
    return 0;
}
