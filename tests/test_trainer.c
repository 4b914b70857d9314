/* The trainer as a library (include/vkgan/train.h), without the vkgan binary: observers see
 * the run, the fault seam provokes a failure, and --on-failure rollback and stop act on it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "vkgan/error.h"
#include "vkgan/train.h"

/* What an observer saw of a run. */
typedef struct seen {
    unsigned nan_at; /* the fault seam: a NaN into G after this step (0: none) */
    int steps;       /* finished steps told */
    unsigned last;   /* the last of them */
    int metrics;     /* metrics lines */
    int health, rollbacks, warnings, notes;
    unsigned health_step, since, to_step;
    char health_name[32];
} seen;

static int on_submitted(void *user, vkg_trainer *t, unsigned step) {
    seen *s = user;
    if (step != s->nan_at) return 0;
    s->nan_at = 0; /* once: the steps after a rollback run again */
    return vkg_trainer_inject_fault(t, "nan");
}

static int on_step(void *user, unsigned step, const float losses[VKG_LOSSES]) {
    (void)losses;
    seen *s = user;
    s->steps++, s->last = step;
    return 0;
}

static int on_metrics(void *user, const vkg_train_metrics *m) {
    (void)m;
    ((seen *)user)->metrics++;
    return 0;
}

static int on_event(void *user, const vkg_train_event *e) {
    seen *s = user;
    if (e->kind == VKG_TRAIN_HEALTH && !s->health++) {
        s->health_step = e->step, s->since = e->since;
        snprintf(s->health_name, sizeof s->health_name, "%s", e->name);
    }
    if (e->kind == VKG_TRAIN_ROLLBACK && !s->rollbacks++) s->to_step = e->to_step;
    return 0;
}

static void on_message(void *user, vkg_train_level level, const char *text) {
    (void)text;
    ((seen *)user)->warnings += level == VKG_TRAIN_WARNING;
    ((seen *)user)->notes += level != VKG_TRAIN_WARNING;
}

static vkg_train_observer watcher(seen *s) {
    return (vkg_train_observer){.user = s,
                                .submitted = on_submitted,
                                .step = on_step,
                                .metrics = on_metrics,
                                .event = on_event,
                                .message = on_message};
}

/* A tiny ring8 run in the test's directory: 30 steps, a checkpoint and a metrics line every 5. */
static vkg_train_options tiny(const char *name) {
    vkg_train_options o;
    vkg_train_defaults(&o);
    snprintf(o.data, sizeof o.data, "ring8");
    snprintf(o.out, sizeof o.out, "%s/%s", test_tmpdir(), name);
    o.steps = 30, o.batch = 16, o.latent = 8, o.mlp_hidden = 16;
    o.log_every = 5, o.checkpoint_every = 5, o.sample_every = 10;
    o.validation = 1, o.quiet = 1;
    return o;
}

static const char *const restored[] = {"G.0.weight", "G.0.weight.exp_avg", "D.0.weight", "fixed_z"};

/* A NaN after step 12 (the seam): the interval 11-15 reports it, training goes back to the
 * checkpoint at 10 and ends at 30 with the weights of a run that never failed (rates kept). */
TEST(trainer_rollback_through_the_fault_seam) {
    seen clean = {0}, rolled = {.nan_at = 12};
    vkg_train_options a = tiny("clean"), b = tiny("rolled");
    vkg_train_observer wa = watcher(&clean), wb = watcher(&rolled);
    CHECK(test_train(&a, &wa, 1) == VKG_TRAIN_DONE, "the clean run: %s", vkg_error());
    snprintf(b.on_failure, sizeof b.on_failure, "rollback");
    b.rollback_lr_scale = 1;
    CHECK(test_train(&b, &wb, 1) == VKG_TRAIN_DONE, "the rolled-back run: %s", vkg_error());
    CHECK(clean.health == 0 && clean.rollbacks == 0 && clean.last == 30 && clean.steps == 30,
          "clean run: %d events, %d rollbacks, %d steps up to %u", clean.health, clean.rollbacks,
          clean.steps, clean.last);
    CHECK(rolled.health == 1 && strcmp(rolled.health_name, "nonfinite") == 0 &&
              rolled.health_step == 15 && rolled.since == 11,
          "%d events, the first %s at %u since %u", rolled.health, rolled.health_name,
          rolled.health_step, rolled.since);
    CHECK(rolled.rollbacks == 1 && rolled.to_step == 10, "%d rollbacks, to step %u",
          rolled.rollbacks, rolled.to_step);
    /* steps 11-15 were told once before and once after the rollback; the warnings said so */
    CHECK(rolled.last == 30 && rolled.steps == 35 && rolled.warnings >= 2,
          "%d steps told up to %u, %d warnings", rolled.steps, rolled.last, rolled.warnings);
    char pa[4300], pb[4300], why[128];
    snprintf(pa, sizeof pa, "%s/checkpoints/step-000000030.safetensors", a.out);
    snprintf(pb, sizeof pb, "%s/checkpoints/step-000000030.safetensors", b.out);
    CHECK(test_same_tensors(pa, pb, restored, 4, NULL, 0, why, sizeof why),
          "after the rollback the run is not the clean one: %s", why);
}

/* --on-failure stop: vkg_trainer_run returns VKG_TRAIN_FAILED naming the failure, its exit code
 * and a checkpoint from before its evidence; the seam refuses a kind it does not know. */
TEST(trainer_stop_names_the_failure) {
    seen s = {.nan_at = 12};
    vkg_train_options o = tiny("stopped");
    snprintf(o.on_failure, sizeof o.on_failure, "stop");
    vkg_train_observer obs = watcher(&s);
    vkg_trainer *t;
    CHECK(vkg_trainer_open(&t, &o, &obs, 1) == 0, "open: %s", vkg_error());
    int ended = vkg_trainer_run(t, NULL);
    vkg_train_failure failure = *vkg_trainer_failure(t), *f = &failure;
    int ok = ended == VKG_TRAIN_FAILED && f->name && strcmp(f->name, "nonfinite") == 0 &&
             f->exit_code == 10 && f->step == 15 && f->since == 11 && f->rollbacks == 0;
    const char *checkpoint = f->checkpoint;
    int refused = vkg_trainer_inject_fault(t, "boom") < 0 && strstr(vkg_error(), "boom");
    CHECK(vkg_trainer_close(t) == 0, "close: %s", vkg_error());
    CHECK(ok, "ended %d: %s at %u since %u, exit code %d", ended, f->name, f->step, f->since,
          f->exit_code);
    CHECK(strstr(checkpoint, "step-000000010.safetensors") && access(checkpoint, R_OK) == 0,
          "the checkpoint named: '%s'", checkpoint);
    CHECK(refused, "the fault seam took 'boom'");
    CHECK(s.rollbacks == 0 && s.metrics == 3, "%d rollbacks, %d metrics lines", s.rollbacks,
          s.metrics);
}

/* The library refuses, rather than exits: --screenshot without --view, and a resumed run whose
 * model would change, are VKG_TRAIN_REFUSED with one line, and nothing is left open. */
TEST(trainer_refusals_are_errors) {
    vkg_train_options o = tiny("refused");
    snprintf(o.screenshot, sizeof o.screenshot, "x.png");
    vkg_trainer *t;
    CHECK(vkg_trainer_open(&t, &o, NULL, 0) == VKG_TRAIN_REFUSED && t == NULL &&
              strstr(vkg_error(), "--screenshot needs --view"),
          "--screenshot without --view: %s", vkg_error());
}

/* Not quiet, with a warning on the way (a NaN: a refused checkpoint, a health event): every
 * word goes to the observers, none to stdout or stderr. */
TEST(trainer_prints_nothing) {
    seen s = {.nan_at = 3};
    vkg_train_options o = tiny("loud");
    o.steps = 10, o.quiet = 0;
    vkg_train_observer obs = watcher(&s);
    char path[4300];
    snprintf(path, sizeof path, "%s/printed.txt", test_tmpdir());
    fflush(stdout), fflush(stderr);
    int out = dup(1), err = dup(2), file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(out >= 0 && err >= 0 && file >= 0, "cannot redirect the output");
    dup2(file, 1), dup2(file, 2);
    int ended = test_train(&o, &obs, 1);
    fflush(stdout), fflush(stderr);
    dup2(out, 1), dup2(err, 2);
    close(out), close(err), close(file);
    char *printed = test_read_text(path);
    CHECK(ended == VKG_TRAIN_DONE, "the run: %d: %s", ended, vkg_error());
    CHECK(printed && !*printed, "the library printed: %s", printed ? printed : "?");
    CHECK(s.notes >= 4 && s.warnings >= 2, "%d notes, %d warnings told", s.notes, s.warnings);
}
