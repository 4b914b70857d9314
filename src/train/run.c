/* vkgan train: one run from options to checkpoints (see include/vkgan/train.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "train/dist_run.h"
#include "train/health.h"
#include "train/quality.h"
#include "train/run.h"
#include "train/rundir.h"
#include "train/summary.h"
#include "view/live.h"
#include "view/panels.h"
#include "view/window.h"
#include "vkgan/data.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/opt.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int fail(const char *what) {
    fprintf(stderr, "vkgan: error: %s%s%s\n", what ? what : "", what ? ": " : "", vkg_error());
    return 1;
}

/* ---- options: resume, and the values that depend on the device and the data ---- */

/* What a resumed run may change: the rest is the run's (its config.json). */
static const char *const changeable[] = {"resume", "steps",   "device", "validation",
                                         "quiet",  "profile", "view",   "screenshot"};

/* Whether an option given with --resume differs from the run's: one line naming it. */
static int refuse_changes(const vkg_train_options *cli, const vkg_train_options *run,
                          const char *path) {
    const vkg_opt_table *t = vkg_train_table();
    for (int i = 0; i < t->count; i++) {
        const vkg_opt *opt = &t->opts[i];
        int may = 0;
        for (size_t k = 0; k < sizeof changeable / sizeof *changeable; k++)
            may |= strcmp(opt->name, changeable[k]) == 0;
        if (!cli->given[i] || may || vkg_opt_equal(opt, cli, run)) continue;
        cJSON *j = vkg_opt_json(t, run);
        char *was =
            j ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, opt->name)) : NULL;
        char may_change[160] = "";
        for (size_t k = 1; k < sizeof changeable / sizeof *changeable; k++) /* not --resume */
            snprintf(may_change + strlen(may_change), sizeof may_change - strlen(may_change),
                     "%s--%s",
                     k == 1                                           ? ""
                     : k + 1 < sizeof changeable / sizeof *changeable ? ", "
                                                                      : " and ",
                     changeable[k]);
        vkg_set_error("--%s: a resumed run keeps its options (%s in %s); only %s may change",
                      opt->name, was ? was : "?", path, may_change);
        free(was);
        cJSON_Delete(j);
        return -1;
    }
    return 0;
}

/* The options of the run being resumed: its config.json, with the command line's --steps (when
 * given), --device, --validation and --quiet. Any other option given must equal the run's. */
static int resume_options(vkg_train_options *o) {
    vkg_train_options cli = *o;
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", cli.resume);
    struct stat st;
    if (stat(path, &st) != 0 && stat(cli.resume, &st) == 0 && S_ISDIR(st.st_mode))
        return rundir_is_start(cli.resume)
                   ? vkg_set_error("%s holds no config.json: the run stopped before it began; "
                                   "start it again with its options and --out %s",
                                   cli.resume, cli.resume)
                   : vkg_set_error("%s is not a vkgan run directory (no config.json)", cli.resume);
    cJSON *config = rundir_read_json(path);
    if (!config) return -1;
    int r =
        vkg_train_options_from_json(o, cJSON_GetObjectItemCaseSensitive(config, "options"), path);
    cJSON_Delete(config);
    if (r < 0) return -1;
    if (refuse_changes(&cli, o, path) < 0) return 2;
    if (cli.steps) o->steps = cli.steps;
    snprintf(o->device, sizeof o->device, "%s", cli.device);
    snprintf(o->out, sizeof o->out, "%s", cli.resume);
    snprintf(o->resume, sizeof o->resume, "%s", cli.resume);
    o->validation = cli.validation, o->quiet = cli.quiet, o->view = cli.view;
    snprintf(o->screenshot, sizeof o->screenshot, "%s", cli.screenshot);
    return 0;
}

static int is_points(const vkg_dataset *d) {
    return d->points != NULL;
}

/* Fills in the automatic values (0 in the options) from the device and the data. */
static int resolve(vkg_train_options *o, const vkg_dataset *data, const vkg_device_info *dev) {
    int cpu = strcmp(dev->type, "cpu") == 0;
    /* a CPU device (lavapipe) runs the paper's model at seconds a step: a narrower model and
     * batch that show clothing in about 10 minutes on 2 cores (README, docs/PERF.md) */
    if (!o->batch) o->batch = is_points(data) ? 256 : cpu ? 32 : 128;
    if (!o->latent) o->latent = is_points(data) ? 16 : 100;
    if (!o->g_width) o->g_width = cpu ? 16 : 64;
    if (!o->d_width) o->d_width = o->g_width; /* D at least as wide as G (Radford et al.) */
    if (!o->lr_d) o->lr_d = o->lr;
    if (!o->lr_g) o->lr_g = o->lr;
    if (!is_points(data)) {
        if (!o->image_size) o->image_size = data->height;
        if (o->image_size != data->height || o->image_size != data->width)
            return vkg_set_error("--image-size %d: the %s images are %dx%d (only folder: data is "
                                 "resized)",
                                 o->image_size, data->name, data->height, data->width);
    }
    if (o->conditional && data->classes < 2)
        return vkg_set_error("--conditional: %s has no class labels", data->name);
    if (!o->steps) {
        long per_epoch =
            (data->count + (long)o->batch * o->d_steps - 1) / ((long)o->batch * o->d_steps);
        o->steps = o->epochs ? (int)(o->epochs * per_epoch) : 3000;
    }
    if (o->instance_noise > 0 && !o->noise_steps) o->noise_steps = o->steps;
    if (strcmp(o->classifier, "auto") == 0) { /* the shipped classifier of the data, if any */
        const char *shipped = quality_default_classifier(o->data);
        int wanted = !is_points(data) && o->health_every > 0;
        if (wanted && !shipped && !o->quiet)
            printf("no quality metrics: vkgan ships an FCD classifier for fashion-mnist only "
                   "(make one with '%s train-classifier' and pass --classifier FILE)\n",
                   vkg_program());
        snprintf(o->classifier, sizeof o->classifier, "%s", wanted && shipped ? shipped : "none");
    }
    return 0;
}

/* ---- models ---- */

int run_build_layers(const vkg_train_options *o, int points, int channels, vkg_layer_spec *g,
                     int *ng, vkg_layer_spec *d, int *nd) {
    if (points) {
        *ng = vkg_mlp_generator(o->mlp_hidden, o->mlp_depth, 2, g);
        *nd = vkg_mlp_discriminator(o->mlp_hidden, o->mlp_depth, d);
    } else {
        vkg_dcgan_shape s = {.image_size = o->image_size,
                             .channels = channels,
                             .latent = o->latent,
                             .g_width = o->g_width,
                             .d_width = o->d_width,
                             .g_dropout = (float)o->g_dropout,
                             .g_leaky = o->g_leaky,
                             .d_avg_pool = o->d_avg_pool,
                             .g_virtual_bn = o->virtual_bn,
                             .bias = o->bias};
        *ng = vkg_dcgan_generator(&s, g);
        *nd = vkg_dcgan_discriminator(&s, d);
    }
    if (*ng < 0 || *nd < 0) return -1;
    if (o->minibatch_stddev) { /* before D's last layer (the logit) */
        if (*nd + 1 > VKG_MAX_LAYERS) return vkg_set_error("D has too many layers");
        d[*nd] = d[*nd - 1];
        d[*nd - 1] = (vkg_layer_spec){.kind = VKG_LAYER_MBSTD};
        ++*nd;
    }
    return 0;
}

int run_classes(const vkg_train_options *o, int dataset_classes) {
    return o->conditional ? dataset_classes : 0;
}

static vkg_gan_config gan_config(const vkg_train_options *o, int dataset_classes) {
    vkg_gan_config c = {
        .batch = o->batch,
        .latent = o->latent,
        .lr_d = (float)o->lr_d,
        .lr_g = (float)o->lr_g,
        .beta1 = (float)o->beta1,
        .beta2 = (float)o->beta2,
        .seed = (uint32_t)o->seed,
        .d_steps = o->d_steps,
        .noise_sigma = (float)o->instance_noise,
        .noise_steps = o->noise_steps,
        .ema = (float)o->ema,
        .hist_avg = (float)o->hist_avg,
        .feature_matching = o->feature_matching,
        .classes = run_classes(o, dataset_classes),
    };
    float real = o->label_smoothing > 0 ? (float)o->label_smoothing : 1.0f;
    c.real_labels = (vkg_label_noise){real, real, 0, 0, (float)o->flip_labels};
    c.fake_labels = (vkg_label_noise){0, 0, real, real, (float)o->flip_labels};
    if (o->soft_labels) {
        c.real_labels = (vkg_label_noise){0.7f, 1.2f, 0, 0.3f, (float)o->flip_labels};
        c.fake_labels = (vkg_label_noise){0, 0.3f, 0.7f, 1.2f, (float)o->flip_labels};
    }
    if (real == 1.0f && !o->soft_labels && o->flip_labels == 0) /* the plain 1 and 0 */
        memset(&c.real_labels, 0, sizeof c.real_labels),
            memset(&c.fake_labels, 0, sizeof c.fake_labels);
    return c;
}

/* ---- the run ---- */

typedef struct fault {
    char kind[16];
    unsigned step;
    int done;
} fault;

typedef struct run {
    vkg_train_options *o;
    vkg_ctx *ctx;
    vkg_arena *arena;
    vkg_dataset data;
    vkg_gan gan;
    int gan_made;
    metrics_log log;
    char config_text[8192]; /* the options, compact JSON, in every checkpoint */
    double start, seconds_before, last_time;
    unsigned last_step;
    unsigned read_upto; /* the last step whose scalars were read */
    double sums[VKG_LOSSES];
    int summed;    /* steps in sums: since the last metrics line */
    float *images; /* one batch of G's output */
    int tty;
    live *live; /* --view */
    int window_system;
    quality q; /* the FCD classifier, when there is one for the data */
    int quality_on;
    health h;
    health_event pending; /* a failure that --on-failure stop or rollback acts on */
    int has_pending, rollbacks;
    fault faults[4]; /* VKGAN_FAULT: failures provoked on purpose (tests) */
    int fault_count;
    int lock;          /* DIR/train.lock, held while the run lasts */
    char *class_names; /* a conditional model's class names (JSON), for its checkpoints */
} run;

static size_t example_size(const run *r) {
    return is_points(&r->data) ? 2 : (size_t)r->data.channels * r->data.height * r->data.width;
}

static double epoch_of(const run *r, unsigned step) {
    return (double)step * r->o->d_steps * r->o->batch / r->data.count;
}

/* samples/step-<9 digits>.png: the fixed latent batch (at most 64 of it), or for 2D data a
 * scatter plot of it over the modes. */
static int write_samples(run *r, unsigned step) {
    char path[VKG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/samples/step-%09u.png", r->o->out, step);
    if (vkg_gan_sample_fixed(&r->gan, r->images) < 0) return -1;
    const vkg_dataset *d = &r->data;
    if (is_points(d))
        return vkg_write_png_scatter(path, r->images, r->o->batch, d->modes, d->mode_count,
                                     d->mode_sigma);
    int k = run_classes(r->o, d->classes), n = k                  ? r->o->batch
                                               : r->o->batch < 64 ? r->o->batch
                                                                  : 64;
    return run_write_grid(path, r->images, n, k, d->channels, d->height, d->width, 8);
}

/* reals.png: the first examples of the data, as the samples are drawn. */
static int write_reals(run *r) {
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/reals.png", r->o->out);
    const vkg_dataset *d = &r->data;
    if (is_points(d)) {
        int n = d->count < 2048 ? d->count : 2048;
        return vkg_write_png_scatter(path, d->points, n, d->modes, d->mode_count, d->mode_sigma);
    }
    int n = d->count < 64 ? d->count : 64;
    size_t each = example_size(r);
    float *f = malloc(sizeof(float) * each * (size_t)n);
    if (!f) return vkg_set_error("out of host memory");
    for (size_t i = 0; i < each * (size_t)n; i++) f[i] = d->pixels[i] / 127.5f - 1;
    int rc = vkg_write_png_grid(path, f, n, d->channels, d->height, d->width, 8);
    free(f);
    return rc;
}

/* Mode coverage and quality of about 2560 fresh samples (2D data). */
static int mode_metrics(run *r, metrics_row *row) {
    int draws = (2560 + r->o->batch - 1) / r->o->batch, n = draws * r->o->batch;
    float *points = malloc(sizeof(float) * 2 * (size_t)n);
    if (!points) return vkg_set_error("out of host memory");
    int rc = 0;
    for (int k = 0; rc == 0 && k < draws; k++)
        rc = vkg_gan_sample(&r->gan, (uint32_t)k, points + (size_t)k * 2 * r->o->batch);
    if (rc == 0) vkg_mode_metrics(&r->data, points, n, &row->modes, &row->high_quality);
    free(points);
    return rc;
}

static int read_finished_steps(run *r);

/* Writes a checkpoint of the current step: 0 written, 1 not written because the state is not
 * finite (said on stderr; the health check reports the failure), -1 error. Rotation keeps the
 * newest --keep and, under rollback, the last one from before the evidence a failure may still
 * be judged on. */
static int save_checkpoint(run *r) {
    char path[VKG_PATH_MAX + 64], seconds[32], shape[64], partial[512];
    /* every metrics line up to this step is written before the checkpoint exists, and the sums
     * of the interval in progress go into it: a run resumed from it logs exactly what one that
     * never stopped logs */
    if (vkg_gan_wait(&r->gan) < 0 || read_finished_steps(r) < 0) return -1;
    int used = snprintf(partial, sizeof partial, "%u %d", r->last_step, r->summed);
    for (int i = 0; i < VKG_LOSSES; i++)
        used += snprintf(partial + used, sizeof partial - (size_t)used, " %.17g", r->sums[i]);
    rundir_checkpoint_path(r->o->out, r->gan.steps, path, sizeof path);
    snprintf(seconds, sizeof seconds, "%.3f", r->seconds_before + now() - r->start);
    snprintf(shape, sizeof shape, "%d %d %d %d %d", is_points(&r->data), r->data.channels,
             r->data.height, r->data.width, run_classes(r->o, r->data.classes));
    const char *const extra[5][2] = {{"vkgan.options", r->config_text},
                                     {"vkgan.seconds", seconds},
                                     {"vkgan.data_shape", shape},
                                     {"vkgan.metrics_partial", partial},
                                     {"vkgan.class_names", r->class_names}};
    int rc = vkg_gan_save(&r->gan, path, extra, r->class_names ? 5 : 4);
    if (rc == VKG_GAN_NONFINITE) {
        fprintf(stderr, "%svkgan: warning: step %u: %s\n", r->tty ? "\r\033[K" : "", r->gan.steps,
                vkg_error());
        return 1;
    }
    if (rc < 0) return -1;
    /* a rollback needs the newest checkpoint from before the evidence still being judged */
    int rollback = strcmp(r->o->on_failure, "rollback") == 0;
    return rundir_prune_checkpoints(r->o->out, r->o->keep, rollback ? health_horizon(&r->h) : 0);
}

static void progress(run *r, const metrics_row *m) {
    if (r->o->quiet) return;
    char eta[32];
    double rate = m->images_per_s / r->o->batch; /* steps per second */
    panels_duration(rate > 0 ? (r->o->steps - (int)m->step) / rate : 0, eta, sizeof eta);
    fprintf(stderr,
            "%sstep %u/%d (%.0f%%)  epoch %.2f  %.0f img/s  ETA %s  loss D %.3f G %.3f  "
            "D(x) %.3f  D(G(z)) %.3f",
            r->tty ? "\r\033[K" : "", m->step, r->o->steps, 100.0 * m->step / r->o->steps, m->epoch,
            m->images_per_s, eta, m->loss_d, m->loss_g, m->d_x, m->d_g_z);
    if (m->modes >= 0) fprintf(stderr, "  modes %d  hq %.0f%%", m->modes, 100 * m->high_quality);
    if (r->quality_on && r->h.nchecks > 0) /* the newest check's, which may be older */
        fprintf(stderr, "  FCD %.2f (step %u)", r->h.checks[r->h.nchecks - 1].fcd,
                r->h.checks[r->h.nchecks - 1].step);
    fputs(r->tty ? "" : "\n", stderr);
    fflush(stderr);
}

/* ---- training health: quality checks, failure events, --on-failure ---- */

/* Prints, logs (with the numbers it was judged on) and shows an event; the first one is kept
 * for --on-failure stop or rollback. */
static int report_event(run *r, const health_event *e, const cJSON *numbers) {
    const char *name = health_kind_name(e->kind);
    fprintf(stderr, "%svkgan: warning: step %u: %s: %s\n", r->tty ? "\r\033[K" : "", e->step, name,
            e->detail);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", e->step);
    cJSON_AddStringToObject(j, "event", name);
    cJSON_AddNumberToObject(j, "since", e->since);
    cJSON_AddStringToObject(j, "detail", e->detail);
    cJSON_AddStringToObject(j, "policy", r->o->on_failure);
    for (const cJSON *n = numbers ? numbers->child : NULL; n; n = n->next)
        cJSON_AddItemToObject(j, n->string, cJSON_Duplicate(n, 0));
    int rc = metrics_write_object(&r->log, j);
    cJSON_Delete(j);
    if (r->live) live_event(r->live, e->step, name);
    if (strcmp(r->o->on_failure, "warn") != 0 && !r->has_pending)
        r->pending = *e, r->has_pending = 1;
    return rc;
}

static int report_events(run *r, const health_event *ev, int n, const cJSON *numbers) {
    for (int i = 0; i < n; i++)
        if (report_event(r, &ev[i], numbers) < 0) return -1;
    return 0;
}

/* The classifier for the data (none for 2D points or without one), and the health state. */
static int open_quality(run *r) {
    const vkg_train_options *o = r->o;
    const vkg_dataset *d = &r->data;
    const char *path = strcmp(o->classifier, "none") == 0 ? NULL : o->classifier; /* resolved */
    if (is_points(d) || o->health_every == 0) path = NULL;
    if (path) {
        if (quality_open(&r->q, r->ctx, path, d->channels, d->height, d->width,
                         run_classes(o, d->classes), r->gan.config.batch) < 0 ||
            quality_record_gan(&r->q, &r->gan, o->health_samples) < 0)
            return vkg_set_error("--classifier: %s", vkg_error());
        r->quality_on = 1;
        if (!o->quiet)
            printf("quality: FCD, class entropy and diversity of %d samples every %d steps "
                   "(classifier %s)\n",
                   r->q.draws * o->batch, o->health_every, path);
    }
    health_init(&r->h, r->quality_on ? r->q.real.entropy : 0,
                r->quality_on ? r->q.real.diversity : 0);
    return 0;
}

/* FCD, class entropy, diversity (and the generated class's accuracy) of G now. */
static int quality_check(run *r, unsigned step) {
    quality_numbers q;
    if (vkg_gan_wait(&r->gan) < 0 || quality_measure(&r->q, &q) < 0) return -1;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", step);
    cJSON_AddNumberToObject(j, "fcd", q.fcd);
    cJSON_AddNumberToObject(j, "class_entropy", q.entropy);
    cJSON_AddNumberToObject(j, "diversity", q.diversity);
    if (q.accuracy >= 0) cJSON_AddNumberToObject(j, "class_accuracy", q.accuracy);
    cJSON_AddNumberToObject(j, "quality_samples", q.n);
    int rc = metrics_write_object(&r->log, j);
    if (rc == 0 && r->live) live_quality(r->live, step, (float)q.fcd, (float)q.entropy);
    health_event ev[4];
    int n = health_quality_check(&r->h, step, q.fcd, q.entropy, q.diversity, ev, 4);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "step"); /* the numbers, for the events */
    if (rc == 0) rc = report_events(r, ev, n, j);
    cJSON_Delete(j);
    return rc;
}

/* VKGAN_FAULT=KIND@STEP[,KIND@STEP...] (tests): each fires once, after that step: nan puts a
 * NaN into G's first weight, collapse zeroes G's first layer and freezes G, freeze-g sets G's
 * learning rate to 0. */
static int parse_fault(run *r) {
    const char *f = getenv("VKGAN_FAULT");
    for (const char *p = f; p && *p && r->fault_count < 4;) {
        int used = 0;
        fault *t = &r->faults[r->fault_count++];
        if (sscanf(p, "%15[a-z-]@%u%n", t->kind, &t->step, &used) != 2 ||
            (p[used] && p[used] != ',') ||
            (strcmp(t->kind, "nan") && strcmp(t->kind, "collapse") && strcmp(t->kind, "freeze-g")))
            return vkg_set_error("VKGAN_FAULT=%s: expected KIND@STEP[,KIND@STEP...] with KIND "
                                 "nan, collapse or freeze-g",
                                 f);
        p += used + (p[used] == ',');
    }
    return 0;
}

static int inject_fault(run *r) {
    for (int i = 0; i < r->fault_count; i++) {
        if (r->faults[i].done || r->gan.steps != r->faults[i].step) continue;
        r->faults[i].done = 1;
        const vkg_tensor *w = &r->gan.g.layers[0].w;
        const char *k = r->faults[i].kind;
        if (vkg_gan_wait(&r->gan) < 0) return -1;
        int rc = 0;
        if (strcmp(k, "nan") == 0) {
            float nan = NAN;
            rc = vkg_upload(r->ctx, &w->buf, &nan, sizeof nan);
        } else if (strcmp(k, "collapse") == 0) {
            float *zero = calloc(vkg_tensor_count(w), sizeof(float));
            rc = zero ? vkg_upload(r->ctx, &w->buf, zero, sizeof(float) * vkg_tensor_count(w))
                      : vkg_set_error("out of host memory");
            free(zero);
        }
        if (rc == 0 && strcmp(k, "nan") != 0) rc = vkg_model_set_lr(r->ctx, &r->gan.g, 0);
        fprintf(stderr, "%svkgan: VKGAN_FAULT: %s injected after step %u\n",
                r->tty ? "\r\033[K" : "", k, r->gan.steps);
        if (rc < 0) return -1;
    }
    return 0;
}

/* Back to the newest checkpoint from before the failure's evidence, with lower learning rates;
 * the later checkpoints (of the failed stretch) are deleted. */
static int rollback(run *r, const health_event *e) {
    vkg_train_options *o = r->o;
    char path[VKG_PATH_MAX + 64];
    unsigned to;
    if (rundir_checkpoint_before(o->out, e->since, path, sizeof path, &to) < 0 ||
        vkg_gan_wait(&r->gan) < 0 || vkg_gan_load(&r->gan, path) < 0)
        return -1;
    r->rollbacks++;
    o->lr_d *= o->rollback_lr_scale, o->lr_g *= o->rollback_lr_scale;
    if (vkg_model_set_lr(r->ctx, &r->gan.d, (float)o->lr_d) < 0 ||
        vkg_model_set_lr(r->ctx, &r->gan.g, (float)o->lr_g) < 0 ||
        rundir_drop_checkpoints_after(o->out, to) < 0)
        return -1;
    dist_run_loaded(path, o->lr_d, o->lr_g); /* the other ranks roll back with it */
    fprintf(stderr, "%svkgan: rollback %d of %d: back to step %u (%s); learning rates D %g, G %g\n",
            r->tty ? "\r\033[K" : "", r->rollbacks, o->max_rollbacks, to, path, o->lr_d, o->lr_g);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", e->step);
    cJSON_AddStringToObject(j, "event", "rollback");
    cJSON_AddNumberToObject(j, "to_step", to);
    cJSON_AddStringToObject(j, "cause", health_kind_name(e->kind));
    cJSON_AddNumberToObject(j, "lr_d", o->lr_d);
    cJSON_AddNumberToObject(j, "lr_g", o->lr_g);
    int rc = metrics_write_object(&r->log, j);
    cJSON_Delete(j);
    r->read_upto = r->last_step = to, r->last_time = now(), r->summed = 0;
    memset(r->sums, 0, sizeof r->sums);
    health_reset(&r->h, to);
    if (r->live) live_rewind(r->live, to);
    return rc;
}

/* --on-failure acting on the pending event: 0 to go on (warned, rolled back), an exit code to
 * stop, -1 on error. */
static int act_on_failure(run *r) {
    if (!r->has_pending) return 0;
    r->has_pending = 0;
    const health_event *e = &r->pending;
    int code = health_exit_code(e->kind);
    if (strcmp(r->o->on_failure, "rollback") == 0 && r->rollbacks < r->o->max_rollbacks) {
        if (rollback(r, e) == 0) return 0;
        fprintf(stderr, "%svkgan: cannot roll back: %s\n", r->tty ? "\r\033[K" : "", vkg_error());
    }
    char path[VKG_PATH_MAX + 64];
    unsigned good;
    int kept = rundir_checkpoint_before(r->o->out, e->since, path, sizeof path, &good) == 0;
    fprintf(stderr, "%svkgan: stopped at step %u: %s%s (exit code %d); %s%s\n",
            r->tty ? "\r\033[K" : "", e->step, health_kind_name(e->kind),
            r->rollbacks ? " again after the last rollback" : "", code,
            kept ? "the newest checkpoint from before its evidence is "
                 : "no checkpoint from before "
                   "its evidence was kept",
            kept ? path : "");
    return code;
}

/* One metrics line for the steps read since the last one, ending at `step`. */
static int log_metrics(run *r, unsigned step) {
    if (r->summed == 0) return 0;
    double t = now(), mean[VKG_LOSSES];
    unsigned from = r->last_step + 1; /* the interval's first step */
    for (int i = 0; i < VKG_LOSSES; i++) mean[i] = r->sums[i] / r->summed, r->sums[i] = 0;
    r->summed = 0;
    /* throughput from the GPU's own times of the interval's steps: the host reads finished
     * steps in bursts, so its clock says nothing about one interval */
    double gpu_ms = 0, ms, known = 0; /* (a resumed run knows the times of its own steps) */
    for (unsigned s = from; s <= step; s++)
        if (vkg_gan_step_ms(&r->gan, s, &ms) == 0) gpu_ms += ms, known++;
    double images = (known ? known : step - r->last_step) * r->o->batch * r->o->d_steps;
    metrics_row m = {.step = step,
                     .epoch = epoch_of(r, step),
                     .seconds = r->seconds_before + t - r->start,
                     .images_per_s =
                         gpu_ms > 0 ? images / (gpu_ms * 1e-3) : images / (t - r->last_time),
                     .loss_d = mean[VKG_LOSS_D_REAL] + mean[VKG_LOSS_D_FAKE],
                     .loss_g = mean[VKG_LOSS_G],
                     .d_x = mean[VKG_DX],
                     .d_g_z = mean[VKG_DGZ_D],
                     .d_g_z_after = mean[VKG_DGZ_G],
                     .lr_d = r->o->lr_d,
                     .lr_g = r->o->lr_g,
                     .modes = -1};
    r->last_step = step, r->last_time = t;
    if (is_points(&r->data) && mode_metrics(r, &m) < 0) return -1;
    health_interval in = {from, step, m.loss_d, m.loss_g, m.d_x, m.d_g_z, 0};
    if (vkg_gan_nonfinite(&r->gan, &in.nonfinite) < 0) return -1;
    progress(r, &m);
    if (metrics_write(&r->log, &m) < 0) return -1;
    health_event ev[4];
    int n = health_interval_check(&r->h, &in, ev, 4);
    if (n == 0) return 0;
    cJSON *numbers = cJSON_CreateObject();
    cJSON_AddNumberToObject(numbers, "loss_d", m.loss_d);
    cJSON_AddNumberToObject(numbers, "loss_g", m.loss_g);
    cJSON_AddNumberToObject(numbers, "d_x", m.d_x);
    cJSON_AddNumberToObject(numbers, "d_g_z", m.d_g_z);
    cJSON_AddNumberToObject(numbers, "nonfinite_mask", in.nonfinite);
    int rc = report_events(r, ev, n, numbers);
    cJSON_Delete(numbers);
    return rc;
}

/* Reads the scalars of every step that has finished since the last call (in place, from the
 * GPU's ring: nothing waits) and writes a metrics line at each logging step among them. */
static int read_finished_steps(run *r) {
    for (unsigned t = r->read_upto + 1; t <= r->gan.completed; t++) {
        float l[VKG_LOSSES];
        if (vkg_gan_step_losses(&r->gan, t, l) < 0) return -1;
        for (int i = 0; i < VKG_LOSSES; i++) r->sums[i] += l[i];
        r->summed++, r->read_upto = t;
        if (r->live && live_step(r->live, t, l) < 0) return -1;
        if ((t % (unsigned)r->o->log_every == 0 || t == (unsigned)r->o->steps) &&
            log_metrics(r, t) < 0)
            return -1;
    }
    return 0;
}

static int write_config(run *r, const model_totals *g, const model_totals *d) {
    const vkg_device_info *dev = vkg_ctx_device(r->ctx);
    cJSON *j = cJSON_CreateObject(), *o = vkg_train_options_json(r->o);
    cJSON *device = cJSON_AddObjectToObject(j, "device"),
          *data = cJSON_AddObjectToObject(j, "data");
    cJSON *models = cJSON_AddObjectToObject(j, "models");
    cJSON_AddStringToObject(j, "vkgan", "0.1.0");
    cJSON_AddItemToObject(j, "options", o);
    cJSON_AddStringToObject(device, "name", dev->name);
    cJSON_AddStringToObject(device, "type", dev->type);
    cJSON_AddStringToObject(device, "driver", dev->driver_name);
    cJSON_AddStringToObject(data, "name", r->data.name);
    cJSON_AddNumberToObject(data, "count", r->data.count);
    cJSON_AddNumberToObject(data, "channels", r->data.channels);
    cJSON_AddNumberToObject(data, "height", r->data.height);
    cJSON_AddNumberToObject(data, "width", r->data.width);
    cJSON_AddNumberToObject(data, "classes", r->data.classes);
    cJSON *names = cJSON_AddArrayToObject(data, "class_names"); /* label i is names[i] */
    for (int c = 0; names && r->data.class_names && c < r->data.classes; c++)
        cJSON_AddItemToArray(names, cJSON_CreateString(r->data.class_names[c]));
    free(r->class_names);
    r->class_names =
        run_classes(r->o, r->data.classes) && names ? cJSON_PrintUnformatted(names) : NULL;
    cJSON_AddNumberToObject(models, "g_parameters", (double)g->params);
    cJSON_AddNumberToObject(models, "d_parameters", (double)d->params);
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", r->o->out);
    int rc = o && data && models ? rundir_write_json(path, j) : vkg_set_error("out of memory");
    char *compact = o ? cJSON_PrintUnformatted(o) : NULL;
    snprintf(r->config_text, sizeof r->config_text, "%s", compact ? compact : "{}");
    free(compact);
    cJSON_Delete(j);
    return rc;
}

/* GPU time per kernel of the last step (--profile). */
static int print_profile(run *r) {
    const char *names[64];
    double ms[64], total = 0;
    int calls[64], n = vkg_gan_profile(&r->gan, names, ms, calls, 64);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) total += ms[i];
    printf("GPU time of one step, by kernel (%.2f ms in all):\n", total);
    for (int i = 0; i < n; i++)
        printf("  %-28s %4d dispatches %9.2f ms %5.1f%%\n", names[i], calls[i], ms[i],
               100 * ms[i] / total);
    return 0;
}

/* ---- the window (--view) ---- */

static int open_live(run *r, const model_totals *g, const model_totals *d) {
    const vkg_dataset *data = &r->data;
    char title[256];
    snprintf(title, sizeof title, "vkgan train: %.60s (%.150s)", data->name, r->o->out);
    live_setup s = {.title = title,
                    .device = vkg_ctx_device(r->ctx)->name,
                    .run_dir = r->o->out,
                    .screenshot = r->o->screenshot[0] ? r->o->screenshot : NULL,
                    .total_steps = r->o->steps,
                    .batch = r->o->batch,
                    .d_steps = r->o->d_steps,
                    .classes = run_classes(r->o, data->classes),
                    .data_count = data->count,
                    .modes = is_points(data) ? data->modes : NULL,
                    .mode_count = data->mode_count,
                    .mode_sigma = data->mode_sigma,
                    /* the FLOP count of the step's summary line: G forward 1, step 3 G + 8k D */
                    .preview_share =
                        g->macs / (3.0 * g->macs + 8.0 * r->o->d_steps * (double)d->macs)};
    r->live = live_open(r->ctx, &r->gan, &s);
    return r->live ? 0 : -1;
}

/* The window's keys between steps: checkpoints on C; 1 on Q / Esc / closing; -1 error. */
static int window_actions(run *r, int done) {
    int a = live_tick(r->live, r->gan.steps, done);
    if (a < 0) return -1;
    if (a & LIVE_CHECKPOINT) {
        int saved = save_checkpoint(r);
        if (saved < 0) return -1;
        if (saved == 0) fprintf(stderr, "\nvkgan: checkpoint written at step %u\n", r->gan.steps);
    }
    return (a & LIVE_QUIT) != 0;
}

/* Training ended: with --screenshot the last frame is written and the window closes, else it
 * stays until Q, Esc or closing it. 0, or -1 on error. */
static int close_live(run *r) {
    if (r->o->screenshot[0]) return live_final(r->live, r->gan.steps, r->o->screenshot);
    if (!r->o->quiet)
        fprintf(stderr, "vkgan: training done; the window stays open: Q or Esc closes it\n");
    int a;
    while ((a = window_actions(r, 1)) == 0) {
    }
    return a < 0 ? -1 : 0;
}

/* The interval in progress at a checkpoint (the last logged step, the steps read since and their
 * sums), so the first metrics line after a resume is the one an uninterrupted run writes. A
 * missing or inconsistent value starts a new interval at the checkpoint. */
static void restore_partial(run *r, const char *text, unsigned at) {
    int used = 0, n = text ? sscanf(text, "%u %d%n", &r->last_step, &r->summed, &used) : 0;
    for (int i = 0; n == 2 && i < VKG_LOSSES; i++) {
        int more = 0;
        n = sscanf(text + used, " %lf%n", &r->sums[i], &more) == 1 ? 2 : 0;
        used += more;
    }
    if (n != 2 || text[used] || r->last_step > at || r->summed != (int)(at - r->last_step)) {
        r->last_step = at, r->summed = 0;
        memset(r->sums, 0, sizeof r->sums);
    }
}

/* Models, GAN, run directory; then the loop. */
static int train(run *r) {
    vkg_train_options *o = r->o;
    const vkg_dataset *d = &r->data;
    vkg_layer_spec g[VKG_MAX_LAYERS], dl[VKG_MAX_LAYERS];
    int ng, nd;
    if (run_build_layers(o, is_points(d), d->channels, g, &ng, dl, &nd) < 0) return fail("model");
    model_totals tg, td;
    FILE *out = o->quiet ? NULL : stdout;
    if (summary_print(out, "G", g, ng, o->latent, 1, 1, &tg) < 0 ||
        summary_print(out, "D", dl, nd, d->channels, d->height, d->width, &td) < 0)
        return fail("model");
    if (out) /* forward 1x, backward 2x: G once; D three forwards and 2.5 backwards per D step */
        printf("one step (batch %d, %d D step%s): about %.2f GFLOP\n", o->batch, o->d_steps,
               o->d_steps > 1 ? "s" : "",
               2.0 * o->batch * (3 * tg.macs + (8 * o->d_steps) * td.macs) / 1e9);
    vkg_gan_data data = {is_points(d) ? (const void *)d->points : (const void *)d->pixels,
                         !is_points(d),
                         d->count,
                         is_points(d) ? 2 : d->channels,
                         is_points(d) ? 1 : d->height,
                         is_points(d) ? 1 : d->width,
                         d->labels};
    vkg_gan_config config = gan_config(o, d->classes);
    if (dist_run_config(&config, o->sync_bn) < 0 || !(r->arena = vkg_arena_create(r->ctx, 0)))
        return fail(NULL);
    if (vkg_gan_create(r->ctx, r->arena, g, ng, dl, nd, &data, &config, &r->gan) < 0)
        return fail("setting up training");
    r->gan_made = 1;
    if (dist_run_follower()) { /* ranks other than 0 step as rank 0 says (train/dist_run.c) */
        int rc = dist_run_follow(&r->gan, &interrupted);
        return rc < 0 ? fail(NULL) : rc;
    }
    if (!(r->images = malloc(sizeof(float) * example_size(r) * (size_t)o->batch)))
        return fail("out of host memory");

    unsigned resumed_at = 0;
    int fresh = !o->resume[0]; /* step 0: a new run, or one resumed before its first checkpoint */
    if (parse_fault(r) < 0 || open_quality(r) < 0) return fail(NULL);
    if (!fresh) {
        char path[VKG_PATH_MAX + 64];
        if (rundir_lock(o->out, &r->lock) < 0) return fail("resume");
        if (rundir_newest_checkpoint(o->out, path, sizeof path, &resumed_at) < 0) {
            /* it stopped before its first checkpoint: it begins again, exactly as it began */
            fresh = 1;
            if (rundir_start_over(o->out) < 0) return fail("resume");
            if (!o->quiet) printf("%s holds no checkpoint yet: starting it from step 0\n", o->out);
        } else {
            vkg_safetensors *st = vkg_safetensors_read(path); /* read once, used whole */
            if (!st || vkg_gan_load_from(&r->gan, st, path) < 0) {
                vkg_safetensors_free(st);
                return fail("resume");
            }
            dist_run_loaded(path, 0, 0); /* the other ranks load it too */
            const char *sec = vkg_safetensors_meta(st, "vkgan.seconds");
            r->seconds_before = sec ? atof(sec) : 0;
            restore_partial(r, vkg_safetensors_meta(st, "vkgan.metrics_partial"), resumed_at);
            vkg_safetensors_free(st);
            if ((unsigned)o->steps < resumed_at) /* nothing to do is not what was asked */
                return fprintf(stderr,
                               "vkgan: error: --steps %d: %s is at step %u already; --steps is "
                               "the run's total, so give more than that\n",
                               o->steps, o->out, resumed_at),
                       2;
            health_reset(&r->h, r->last_step);
            if (!o->quiet) printf("resuming %s from step %u\n", path, resumed_at);
        }
    } else if (rundir_create(o->out, &r->lock) < 0) {
        return fail(NULL);
    }
    /* config.json first: from then on the directory can be resumed, whatever happens */
    if (write_config(r, &tg, &td) < 0 || metrics_open(&r->log, o->out, !fresh, resumed_at) < 0)
        return fail(NULL);
    if (fresh && (write_reals(r) < 0 || write_samples(r, 0) < 0)) return fail(NULL);
    /* stop and rollback need a checkpoint from before any failure */
    if (fresh && strcmp(o->on_failure, "warn") != 0 && save_checkpoint(r) < 0)
        return fail("checkpoint");
    if (!o->quiet) printf("run directory: %s\n", o->out);
    fflush(stdout);
    if (o->view && open_live(r, &tg, &td) < 0) return fail("--view");
    if (r->quality_on && fresh && quality_check(r, 0) < 0) return fail("quality");

    r->start = r->last_time = now();
    if (fresh) r->last_step = 0, r->summed = 0;
    r->read_upto = r->gan.steps;
    int quit = 0; /* Q or Esc in the window */
    int code = 0; /* a failure's exit code (--on-failure stop) */
    do {
        while (r->gan.steps < (unsigned)o->steps && !interrupted && !quit) {
            int ranks = dist_run_lead(&r->gan, &interrupted); /* several ranks: step together */
            if (ranks != 0) {
                if (ranks < 0) return fail(NULL);
                break;
            }
            if (vkg_gan_submit(&r->gan, 1) < 0) return fail("training");
            if (inject_fault(r) < 0) return fail("VKGAN_FAULT");
            unsigned s = r->gan.steps;
            int last = s == (unsigned)o->steps;
            if ((s % (unsigned)o->sample_every == 0 || last) && write_samples(r, s) < 0)
                return fail(NULL);
            if ((s % (unsigned)o->checkpoint_every == 0 || last) && save_checkpoint(r) < 0)
                return fail("checkpoint");
            if (read_finished_steps(r) < 0) return fail("metrics");
            if (r->quality_on && (s % (unsigned)o->health_every == 0 || last) &&
                quality_check(r, s) < 0)
                return fail("quality");
            if ((code = act_on_failure(r)) != 0) break;
            if (r->live && (quit = window_actions(r, 0)) < 0) return fail("--view");
        }
        if (code < 0) return fail("--on-failure");
        if (code > 0) return code;
        if (vkg_gan_wait(&r->gan) < 0 || read_finished_steps(r) < 0) return fail("metrics");
        if ((code = act_on_failure(r)) < 0) return fail("--on-failure");
        if (code > 0) return code;
    } while (r->gan.steps < (unsigned)o->steps && !interrupted && !quit);
    if (r->tty && !o->quiet) fputc('\n', stderr);
    if (r->live && dist_run_release(0) < 0) return fail(NULL); /* several ranks: done */
    if (r->live && !quit && !interrupted && (quit = close_live(r)) < 0) return fail("--view");
    int saved = 0; /* 1: the state was not finite, no checkpoint */
    if (quit) {
        if (log_metrics(r, r->gan.steps) < 0 || (saved = save_checkpoint(r)) < 0)
            return fail("checkpoint");
        fprintf(stderr, "vkgan: closed at step %u; %s", r->gan.steps,
                saved ? "no checkpoint (not finite)" : "checkpoint written");
        if (r->gan.steps < (unsigned)o->steps)
            fprintf(stderr, "; continue with '%s train --resume %s'", vkg_program(), o->out);
        fputc('\n', stderr);
    }
    if (!o->quiet) dist_run_summary(&r->gan, stdout); /* several ranks: the sums' cost */
    if (o->profile && print_profile(r) < 0) return fail("profile");
    if (interrupted) {
        if (log_metrics(r, r->gan.steps) < 0 || (saved = save_checkpoint(r)) < 0)
            return fail("checkpoint");
        fprintf(stderr, "vkgan: interrupted at step %u; %s; continue with '%s train --resume %s'\n",
                r->gan.steps,
                saved ? "no checkpoint (the state is not finite): it continues from the newest"
                      : "checkpoint written",
                vkg_program(), o->out);
        return 130;
    }
    if (!o->quiet && !quit)
        printf("done: %u steps in %.1f s; samples in %s/samples\n", r->gan.steps,
               r->seconds_before + now() - r->start, o->out);
    if (r->live && !o->quiet) live_report(r->live, stdout);
    return 0;
}

static void default_out(vkg_train_options *o) {
    char stamp[32], name[80];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
    size_t n = strcspn(o->data, ":/"); /* "mnist:/x/y" -> "mnist" */
    snprintf(name, sizeof name, "%.*s", (int)(n < 40 ? n : 40), o->data);
    snprintf(o->out, sizeof o->out, "runs/%s-%s", name, stamp);
}

int vkg_train_run(vkg_train_options *o) {
    int refused = o->resume[0] ? resume_options(o) : 0;
    if (refused)
        return refused > 1 ? fprintf(stderr, "vkgan: error: %s\n", vkg_error()), 2 : fail("resume");
    if (!o->out[0]) default_out(o);
    if ((refused = dist_run_setup(o)) != 0) /* several ranks: this one's device */
        return refused > 1 ? fprintf(stderr, "vkgan: error: %s\n", vkg_error()), 2 : fail(NULL);
    run r = {.o = o, .tty = isatty(STDERR_FILENO), .lock = -1};
    vkg_ctx_options copts = {.device = o->device[0] ? o->device : NULL,
                             .validation = o->validation ? 1 : -1,
                             .quiet = o->quiet};
    if (o->screenshot[0] && !o->view)
        return fprintf(stderr, "vkgan: error: --screenshot needs --view\n"), 2;
    /* the data first: a missing file is reported before any device work */
    if (vkg_dataset_load(o->data, o->image_size ? o->image_size : 64, 3, (uint64_t)o->seed,
                         &r.data) < 0)
        return fail(NULL);
    if (o->view && window_system_init(&copts) < 0) {
        vkg_dataset_free(&r.data);
        return fail("--view");
    }
    r.window_system = o->view;
    if (!(r.ctx = vkg_ctx_create(&copts))) {
        if (r.window_system) window_system_end();
        vkg_dataset_free(&r.data);
        return fail(NULL);
    }
    int rc;
    if (resolve(o, &r.data, vkg_ctx_device(r.ctx)) < 0) {
        rc = fail(NULL);
    } else {
        struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        interrupted = 0;
        rc = train(&r);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    metrics_close(&r.log);
    quality_close(&r.q);
    live_close(r.live);
    if (r.gan_made) vkg_gan_destroy(&r.gan);
    free(r.images);
    free(r.class_names);
    vkg_dataset_free(&r.data);
    vkg_arena_destroy(r.arena);
    if (rc == 0 && o->validation && vkg_ctx_validation_count(r.ctx) > 0)
        rc = fail("validation messages were reported");
    vkg_ctx_destroy(r.ctx);
    if (r.window_system) window_system_end();
    if (r.lock >= 0) close(r.lock);
    return rc;
}
