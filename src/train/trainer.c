/* vkgan train's run as a library (see include/vkgan/train.h): setting a run up, the loop, and
 * telling the observers. What the run writes is in output.c, the metrics of its intervals in
 * interval.c, what it does about failures in policy.c, its options in setup.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/dist_run.h"
#include "train/rundir.h"
#include "train/trainer.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

/* ---- telling the observers ---- */

void trainer_message(vkg_trainer *t, vkg_train_level level, const char *fmt, ...) {
    char text[3 * VKG_PATH_MAX]; /* a message may name two paths */
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    for (int i = 0; i < t->nobs; i++)
        if (t->obs[i].message) t->obs[i].message(t->obs[i].user, level, text);
}

int trainer_tell_step(vkg_trainer *t, unsigned step, const float losses[VKG_LOSSES]) {
    for (int i = 0; i < t->nobs; i++)
        if (t->obs[i].step && t->obs[i].step(t->obs[i].user, step, losses) < 0) return -1;
    return 0;
}

int trainer_tell_metrics(vkg_trainer *t, const vkg_train_metrics *m) {
    for (int i = 0; i < t->nobs; i++)
        if (t->obs[i].metrics && t->obs[i].metrics(t->obs[i].user, m) < 0) return -1;
    return 0;
}

int trainer_tell_event(vkg_trainer *t, const vkg_train_event *e) {
    for (int i = 0; i < t->nobs; i++)
        if (t->obs[i].event && t->obs[i].event(t->obs[i].user, e) < 0) return -1;
    return 0;
}

static int tell_start(vkg_trainer *t) {
    const vkg_dataset *d = &t->data;
    vkg_train_info info = {
        .options = t->o,
        .ctx = t->ctx,
        .gan = &t->gan,
        .data_name = d->name,
        .data_count = d->count,
        .classes = run_classes(t->o, d->classes),
        .modes = trainer_is_points(d) ? d->modes : NULL,
        .mode_count = d->mode_count,
        .mode_sigma = d->mode_sigma,
        .resuming = !t->fresh,
        .start_step = t->resumed_at,
        /* with nothing to train, the line closing the carried interval stays */
        .logged_step = (unsigned)t->o->steps == t->resumed_at ? t->resumed_at : t->last_step,
        /* the FLOP count of the step's summary line: G forward 1, step 3 G + 8k D */
        .preview_share = t->tg.macs / (3.0 * t->tg.macs + 8.0 * t->o->d_steps * (double)t->td.macs),
    };
    t->started = 1;
    for (int i = 0; i < t->nobs; i++)
        if (t->obs[i].start && t->obs[i].start(t->obs[i].user, t, &info) < 0) return -1;
    return 0;
}

/* Between two submissions: VKG_TRAIN_STOP when an observer asks, 0, or -1. */
static int between_steps(vkg_trainer *t) {
    int stop = 0;
    for (int i = 0; i < t->nobs; i++) {
        if (!t->obs[i].between_steps) continue;
        int a = t->obs[i].between_steps(t->obs[i].user, t, t->gan.steps);
        if (a < 0) return -1;
        stop |= a & VKG_TRAIN_STOP;
    }
    return stop;
}

int trainer_fail(const char *what) {
    return vkg_set_error("%s: %s", what, vkg_error());
}

/* ---- setting a run up ---- */

/* The model summary (a note per line) and the step's size; G's and D's totals. */
static int summarise(vkg_trainer *t, const vkg_layer_spec *g, int ng, const vkg_layer_spec *dl,
                     int nd) {
    const vkg_train_options *o = t->o;
    const vkg_dataset *d = &t->data;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) return vkg_set_error("out of host memory");
    int rc = summary_print(f, "G", g, ng, o->latent, 1, 1, &t->tg) < 0 ||
                     summary_print(f, "D", dl, nd, d->channels, d->height, d->width, &t->td) < 0
                 ? -1
                 : 0;
    fclose(f);
    for (char *line = text, *end; rc == 0 && line < text + size; line = end + 1) {
        if ((end = strchr(line, '\n')))
            *end = 0;
        else
            end = line + strlen(line);
        trainer_message(t, VKG_TRAIN_NOTE, "%s", line);
    }
    free(text);
    if (rc < 0) return -1;
    /* forward 1x, backward 2x: G once; D three forwards and 2.5 backwards per D step */
    trainer_message(t, VKG_TRAIN_NOTE, "one step (batch %d, %d D step%s): about %.2f GFLOP",
                    o->batch, o->d_steps, o->d_steps > 1 ? "s" : "",
                    2.0 * o->batch * (3 * t->tg.macs + (8 * o->d_steps) * t->td.macs) / 1e9);
    return 0;
}

enum { NEWEST_SIZE = 1024 };

/* Loads the newest checkpoint of the run that loads, from path (the newest) down. Those newer
 * that do not (a damaged or truncated file, a folder in a file's place) are renamed NAME.damaged
 * (NAME.damaged.2, ... when kept before) and named in one warning, so a run directory with an
 * older good checkpoint can still be resumed and training writes those steps again; one that
 * cannot be renamed fails the resume here, before training would fail to write that step. Returns
 * the loaded file (the caller frees it), with path and t->resumed_at its own; NULL with the newest
 * one's error in `newest` and *none_loads set when none can be read (the model then as it was
 * made: a file is checked whole before any of it is uploaded); not when one was read whole but
 * is not this model's (a checkpoint of another run copied in among older ones), as starting over
 * would hide it. */
static vkg_safetensors *load_newest(vkg_trainer *t, char *path, size_t size, char *newest,
                                    int *none_loads) {
    *none_loads = 0;
    int mismatched = 0;
    char other[NEWEST_SIZE] = "";
    for (int skipped = 0;; skipped++) {
        vkg_safetensors *st = vkg_safetensors_read(path); /* read once, used whole */
        if (st && vkg_gan_load_from(&t->gan, st, path) == 0) {
            if (!skipped) return st;
            if (rundir_set_aside_checkpoints_after(t->o->out, t->resumed_at) < 0) {
                /* training would write those steps again and fail there: refuse now */
                vkg_safetensors_free(st);
                vkg_set_error("%s; and it cannot be set aside: %s", newest, vkg_error());
                return NULL;
            }
            trainer_message(t, VKG_TRAIN_WARNING,
                            "vkgan: warning: %s; resuming from %s, the newest checkpoint that "
                            "loads (%d newer one%s set aside as NAME.damaged, or .damaged.N beside "
                            "one kept before)",
                            newest, path, skipped, skipped > 1 ? "s" : "");
            return st;
        }
        if (st) { /* read whole but not this model's (another run's): the first older
                   * one's reason is given beside the newest one's */
            if (!mismatched && skipped) snprintf(other, sizeof other, "%s", vkg_error());
            mismatched = 1;
        }
        vkg_safetensors_free(st);
        if (!skipped) snprintf(newest, NEWEST_SIZE, "%s", vkg_error());
        if (rundir_checkpoint_before(t->o->out, t->resumed_at, path, size, &t->resumed_at) < 0) {
            *none_loads = !mismatched;
            if (other[0])
                vkg_set_error("%s; and an older one: %s", newest, other);
            else
                vkg_set_error("%s%s", newest, skipped ? " (and no older checkpoint loads)" : "");
            return NULL;
        }
    }
}

/* Starts the run directory again from step 0, exactly as it began: it has no checkpoint that
 * loads (`why`: none, or the newest one's error after all were set aside). */
static int start_over(vkg_trainer *t, const char *why) {
    vkg_train_options *o = t->o;
    t->fresh = 1, t->resumed_at = 0;
    int logged = rundir_start_over(o->out);
    if (logged < 0 || rundir_drop_samples_after(o->out, -1) < 0) return trainer_fail("resume");
    if (logged > 0 || why[0]) /* the history logged belongs to checkpoints gone: dropped too */
        trainer_message(t, VKG_TRAIN_WARNING,
                        "vkgan: warning: %s holds no checkpoint%s%s: starting it again from step "
                        "0; the metrics it had logged to step %d are dropped",
                        o->out, why[0] ? " that loads: " : "", why, logged);
    else
        trainer_message(t, VKG_TRAIN_NOTE, "%s holds no checkpoint yet: starting it from step 0",
                        o->out);
    return 0;
}

/* --steps below the step a resumed run is at: nothing to do is not what was asked. */
static int steps_below(const vkg_train_options *o, unsigned at) {
    if (trainer_asks(o, "steps"))
        vkg_set_error("--steps %d: %s is at step %u already; --steps is the run's total, so give "
                      "more than that",
                      o->steps, o->out, at);
    else /* config.json's total, edited below the run's step */
        vkg_set_error("%s is at step %u already, past its total of %d steps (its config.json): "
                      "give --steps with a larger total",
                      o->out, at, o->steps);
    return VKG_TRAIN_REFUSED;
}

/* What the run directory refuses, found before the device, the models or a word to the
 * observers: a new run's --out that holds a run (or other files); for a resumed one, another
 * process holding it (it is locked here, for the run), and a --steps below the step of the
 * checkpoint it would resume: the newest that reads whole (a newer one that does not is set
 * aside and its steps trained again). Rank 0's: it owns the directory. 0, -1 or
 * VKG_TRAIN_REFUSED. */
static int check_run_dir(vkg_trainer *t) {
    const vkg_train_options *o = t->o;
    if (!o->resume[0] && (vkg_rundir_owns_any(o->out) ||
                          rundir_inside_folder(o->out))) { /* in another run: every rank says so */
        char why[1024];
        snprintf(why, sizeof why, "%s", vkg_error());
        vkg_set_error("--out %s: %s", o->out, why);
        return VKG_TRAIN_REFUSED;
    }
    if (dist_run_follower()) return 0;
    if (!o->resume[0]) return rundir_check_new(o->out);
    if (rundir_lock(o->out, &t->lock) < 0) return trainer_fail("resume");
    char path[VKG_PATH_MAX + 64];
    unsigned step;
    if (rundir_newest_checkpoint(o->out, path, sizeof path, &step) < 0) return 0; /* from 0 */
    while ((unsigned)o->steps < step) { /* only then is a checkpoint read */
        if (rundir_checkpoint_reads(path)) return steps_below(o, step);
        if (rundir_checkpoint_before(o->out, step, path, sizeof path, &step) < 0) return 0;
    }
    return 0;
}

/* Resumes from the newest checkpoint that loads, or (none yet, or none loads) starts the
 * directory again from step 0. */
static int resume(vkg_trainer *t) {
    vkg_train_options *o = t->o;
    char path[VKG_PATH_MAX + 64];
    if (t->lock < 0 && rundir_lock(o->out, &t->lock) < 0) return trainer_fail("resume");
    /* it stopped before its first checkpoint: it begins again */
    if (rundir_newest_checkpoint(o->out, path, sizeof path, &t->resumed_at) < 0)
        return start_over(t, "");
    char newest[NEWEST_SIZE], why[NEWEST_SIZE + 160];
    int none_loads;
    vkg_safetensors *st = load_newest(t, path, sizeof path, newest, &none_loads);
    if (!st && none_loads) { /* every one damaged: kept aside, and the run begins again */
        int moved = rundir_set_aside_checkpoints_after(o->out, -1);
        if (moved < 0) return trainer_fail("resume");
        snprintf(why, sizeof why, "%s (%d checkpoint%s set aside as NAME.damaged)", newest, moved,
                 moved == 1 ? "" : "s");
        return start_over(t, why);
    }
    if (!st) return trainer_fail("resume");
    dist_run_loaded(path, 0, 0); /* the other ranks load it too */
    const char *sec = vkg_safetensors_meta(st, "vkgan.seconds");
    t->seconds_before = sec ? atof(sec) : 0;
    trainer_restore_partial(t, vkg_safetensors_meta(st, "vkgan.metrics_partial"), t->resumed_at);
    trainer_restore_health(t, vkg_safetensors_meta(st, "vkgan.health"), t->resumed_at);
    trainer_restore_rollbacks(t, vkg_safetensors_meta(st, "vkgan.rollbacks"));
    vkg_safetensors_free(st);
    if ((unsigned)o->steps < t->resumed_at)
        return steps_below(o, t->resumed_at); /* check_run_dir's */
    /* the grids after the checkpoint are written again, and those it will not reach are not
     * this run's: dropped as the logs are cut back */
    if (rundir_drop_samples_after(o->out, t->resumed_at) < 0) return trainer_fail("resume");
    if ((unsigned)o->steps == t->resumed_at)
        trainer_message(t, VKG_TRAIN_NOTE,
                        "%s is at step %u, its --steps, already: nothing to train (a larger "
                        "--steps trains on)",
                        o->out, t->resumed_at);
    else
        trainer_message(t, VKG_TRAIN_NOTE, "resuming %s from step %u", path, t->resumed_at);
    return 0;
}

/* Models, GAN, run directory, up to the first step. */
static int set_up(vkg_trainer *t) {
    vkg_train_options *o = t->o;
    const vkg_dataset *d = &t->data;
    vkg_layer_spec g[VKG_MAX_LAYERS], dl[VKG_MAX_LAYERS];
    int ng, nd;
    if (run_build_layers(o, trainer_is_points(d), d->channels, g, &ng, dl, &nd) < 0)
        return trainer_fail("model");
    int points = trainer_is_points(d);
    vkg_gan_data data = {points ? (const void *)d->points : (const void *)d->pixels,
                         !points,
                         d->count,
                         points ? 2 : d->channels,
                         points ? 1 : d->height,
                         points ? 1 : d->width,
                         d->labels};
    vkg_gan_config config = trainer_gan_config(o, d->classes);
    int refused = dist_run_config(&config, o->sync_bn);
    if (refused) return refused; /* before the summary: a refusal is all that is said */
    if (summarise(t, g, ng, dl, nd) < 0) return trainer_fail("model");
    if (!(t->arena = vkg_arena_create(t->ctx, 0))) return -1;
    if (vkg_gan_create(t->ctx, t->arena, g, ng, dl, nd, &data, &config, &t->gan) < 0)
        return trainer_fail("setting up training");
    t->gan_made = 1;
    if (dist_run_follower()) return 0; /* rank 0 owns the run directory; the others follow it */
    if (!(t->images = malloc(sizeof(float) * trainer_example_size(t) * (size_t)o->batch)))
        return vkg_set_error("out of host memory");

    t->fresh = !o->resume[0]; /* step 0: a new run, or one resumed before its first checkpoint */
    t->lr_d = o->lr_d, t->lr_g = o->lr_g;
    if (trainer_open_quality(t) < 0) return -1;
    int rc;
    if (!t->fresh) {
        if ((rc = resume(t)) != 0) return rc;
    } else if (rundir_create(o->out, &t->lock) < 0) {
        return -1;
    }
    /* config.json first: from then on the directory can be resumed, whatever happens */
    if (trainer_replace_lost_config(t) < 0 || trainer_write_config(t) < 0) return -1;
    /* reals.png is made from the data, not the step: a resume remakes it when it was removed */
    if (trainer_write_reals(t, !t->fresh) < 0) return -1;
    if (t->fresh && trainer_write_samples(t, 0) < 0) return -1;
    /* stop and rollback need a checkpoint from before any failure */
    if (t->fresh && strcmp(o->on_failure, "warn") != 0 && trainer_save_checkpoint(t) < 0)
        return trainer_fail("checkpoint");
    trainer_message(t, VKG_TRAIN_NOTE, "run directory: %s", o->out);
    if (tell_start(t) < 0) return -1;
    if (t->quality_on && t->fresh && trainer_quality_check(t, 0) < 0)
        return trainer_fail("quality");
    t->start = t->last_time = vkg_now();
    if (t->fresh) t->last_step = 0, t->summed = 0;
    t->read_upto = t->gan.steps;
    return 0;
}

int vkg_trainer_open(vkg_trainer **out, vkg_train_options *o, const vkg_train_observer *observers,
                     int count) {
    *out = NULL;
    if (count < 0 || count > TRAINER_OBSERVERS)
        return vkg_set_error("%d observers: a trainer takes at most %d", count, TRAINER_OBSERVERS);
    vkg_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        for (int i = 0; i < count; i++)
            if (observers[i].close) observers[i].close(observers[i].user);
        return vkg_set_error("out of host memory");
    }
    t->o = o, t->lock = -1, t->nobs = count;
    if (count) memcpy(t->obs, observers, sizeof *observers * (size_t)count);
    int rc = o->resume[0] ? trainer_resume_options(o, t->config_lost, sizeof t->config_lost) : 0;
    if (rc == -1) rc = trainer_fail("resume");
    if (rc == 0 && !o->out[0]) rc = (t->claimed = trainer_default_out(o) == 0) ? 0 : -1;
    if (rc == 0 && o->screenshot[0] && !o->view)
        rc = vkg_set_error("--screenshot needs --view") < 0 ? VKG_TRAIN_REFUSED : 0;
    if (rc == 0 && o->screenshot[0] && vkg_image_path_check(o->screenshot) < 0)
        rc = vkg_set_error("--screenshot %s", vkg_error()) < 0 ? VKG_TRAIN_REFUSED : 0;
    /* quiet: the device's own note on a software device is the observers' (below) */
    vkg_ctx_options copts = {.device = o->device[0] ? o->device : NULL,
                             .validation = o->validation ? 1 : -1,
                             .quiet = 1};
    /* the data first: a missing file is reported before any device work */
    if (rc == 0 && vkg_dataset_load(o->data, o->image_size ? o->image_size : 64, 3,
                                    (uint64_t)o->seed, &t->data) < 0)
        rc = -1;
    t->data_loaded = rc == 0;
    if (rc == 0) rc = trainer_check_options(o, &t->data);
    if (rc == 0) rc = check_run_dir(t);
    if (rc == 0) rc = trainer_check_classifier(o, &t->data);
    for (int i = 0; rc == 0 && i < count; i++)
        if (t->obs[i].device_options) rc = t->obs[i].device_options(t->obs[i].user, &copts);
    if (rc == 0 && !(t->ctx = vkg_ctx_create(&copts))) rc = -1;
    if (rc == 0 && strcmp(vkg_ctx_device(t->ctx)->type, "cpu") == 0)
        trainer_message(t, VKG_TRAIN_REMARK,
                        "vkgan: using %s, a software (CPU) Vulkan device: expect it to be slow",
                        vkg_ctx_device(t->ctx)->name);
    if (rc == 0) rc = trainer_resolve(t, vkg_ctx_device(t->ctx));
    if (rc == 0) rc = set_up(t);
    if (rc != 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", vkg_error());
        int claimed = t->claimed;
        vkg_trainer_close(t);
        if (claimed) rmdir(o->out); /* the default --out made for it, when still empty */
        vkg_set_error("%s", why);
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- the loop ---- */

/* The loop of rank 0 (or the one process); *signalled is set when a stop flag (here or on
 * another rank) ended it. */
static int run_loop(vkg_trainer *t, const volatile sig_atomic_t *stop, int *signalled) {
    const vkg_train_options *o = t->o;
    int asked = 0; /* an observer asked to stop (or, several ranks, a rank was interrupted) */
    int code = 0;  /* 1: --on-failure stopped the run */
    do {
        while (t->gan.steps < (unsigned)o->steps && !(stop && *stop) && !asked) {
            /* several ranks: hear them, then step together */
            int ranks = dist_run_lead(&t->gan, stop && *stop);
            if (ranks < 0) return -1;
            if (ranks > 0) {
                asked = *signalled = 1;
                break;
            }
            if (vkg_gan_submit(&t->gan, 1) < 0) return trainer_fail("training");
            unsigned s = t->gan.steps;
            for (int i = 0; i < t->nobs; i++)
                if (t->obs[i].submitted && t->obs[i].submitted(t->obs[i].user, t, s) < 0) return -1;
            int last = s == (unsigned)o->steps;
            if ((s % (unsigned)o->sample_every == 0 || last) && trainer_write_samples(t, s) < 0)
                return -1;
            if ((s % (unsigned)o->checkpoint_every == 0 || last) && trainer_save_checkpoint(t) < 0)
                return trainer_fail("checkpoint");
            /* the last step's line (a partial interval) after the checkpoint that carries it */
            if (trainer_read_finished_steps(t) < 0 || (last && trainer_log_metrics(t, s) < 0))
                return trainer_fail("metrics");
            if (t->quality_on && (s % (unsigned)o->health_every == 0 || last) &&
                trainer_quality_check(t, s) < 0)
                return trainer_fail("quality");
            if ((code = trainer_act_on_failure(t)) != 0) break;
            if ((asked = between_steps(t)) < 0) return -1;
        }
        if (code < 0) return trainer_fail("--on-failure");
        if (code > 0) return VKG_TRAIN_FAILED;
        if (vkg_gan_wait(&t->gan) < 0 || trainer_read_finished_steps(t) < 0)
            return trainer_fail("metrics");
        if ((code = trainer_act_on_failure(t)) < 0) return trainer_fail("--on-failure");
        if (code > 0) return VKG_TRAIN_FAILED;
    } while (t->gan.steps < (unsigned)o->steps && !(stop && *stop) && !asked);
    if (stop && *stop) *signalled = 1;
    return (stop && *stop) || asked ? VKG_TRAIN_STOPPED : VKG_TRAIN_DONE;
}

int vkg_trainer_run(vkg_trainer *t, const volatile sig_atomic_t *stop) {
    if (dist_run_follower()) { /* steps as rank 0 says until it says stop */
        int rc = dist_run_follow(&t->gan, stop);
        return rc < 0 ? -1 : rc ? VKG_TRAIN_STOPPED : VKG_TRAIN_DONE;
    }
    int signalled = 0, ended = run_loop(t, stop, &signalled);
    /* several ranks: the others stop now (rank 0 may still checkpoint, profile, keep a window) */
    if ((ended == VKG_TRAIN_DONE || ended == VKG_TRAIN_STOPPED) && dist_run_release(signalled) < 0)
        return -1;
    return ended;
}

int vkg_trainer_checkpoint(vkg_trainer *t, int close_interval) {
    /* the checkpoint carries the interval in progress; the line closing it comes after, and a
     * resume drops it (metrics_open cuts loss lines back to the interval's start) */
    int saved = trainer_save_checkpoint(t);
    if (saved < 0 || (close_interval && trainer_log_metrics(t, t->gan.steps) < 0)) return -1;
    return saved;
}

const vkg_train_failure *vkg_trainer_failure(const vkg_trainer *t) {
    return &t->failure;
}

vkg_gan *vkg_trainer_gan(vkg_trainer *t) {
    return &t->gan;
}

vkg_ctx *vkg_trainer_ctx(vkg_trainer *t) {
    return t->ctx;
}

double vkg_trainer_seconds(const vkg_trainer *t) {
    return t->seconds_before + vkg_now() - t->start;
}

int vkg_trainer_close(vkg_trainer *t) {
    if (!t) return 0;
    for (int i = 0; i < t->nobs; i++)
        if (t->obs[i].close) t->obs[i].close(t->obs[i].user);
    quality_close(&t->q);
    if (t->gan_made) vkg_gan_destroy(&t->gan);
    free(t->images);
    free(t->class_names);
    if (t->data_loaded) vkg_dataset_free(&t->data);
    vkg_arena_destroy(t->arena);
    int rc = t->o->validation && t->ctx && vkg_ctx_validation_count(t->ctx) > 0
                 ? vkg_set_error("validation messages were reported")
                 : 0;
    vkg_ctx_destroy(t->ctx);
    if (t->lock >= 0) close(t->lock);
    free(t);
    return rc;
}
