/* The trainer as a library (include/vkgan/train.h), without the vkgan binary: observers see
 * the run, the fault seam provokes a failure, and --on-failure rollback and stop act on it; the
 * library behind the other subcommands (score.h, report.h) prints nothing either. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/report.h"
#include "vkgan/score.h"
#include "vkgan/train.h"

/* What an observer saw of a run. */
typedef struct seen {
    unsigned nan_at; /* the fault seam: a NaN into G after this step (0: none) */
    int steps;       /* finished steps told */
    unsigned last;   /* the last of them */
    int metrics;     /* metrics lines */
    int health, rollbacks, warnings, notes;
    int devices; /* device_options calls: the device was about to be opened */
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

static int on_device_options(void *user, vkg_ctx_options *options) {
    (void)options;
    ((seen *)user)->devices++;
    return 0;
}

static vkg_train_observer watcher(seen *s) {
    return (vkg_train_observer){.user = s,
                                .device_options = on_device_options,
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

/* What the run directory refuses (an --out that holds a run, a resumed run's --steps below its
 * step) is found before the device is opened: the observers hear nothing of a refused run. */
TEST(trainer_refuses_before_the_device) {
    vkg_train_options o = tiny("done");
    o.steps = 10;
    CHECK(test_train(&o, NULL, 0) == VKG_TRAIN_DONE, "the run: %s", vkg_error());
    seen s = {0};
    vkg_train_observer obs = watcher(&s);
    vkg_trainer *t;
    vkg_train_options again = tiny("done");
    CHECK(vkg_trainer_open(&t, &again, &obs, 1) == -1 && t == NULL &&
              strstr(vkg_error(), "already exists"),
          "a second run in its directory: %s", vkg_error());
    vkg_train_options resumed = tiny("unused");
    snprintf(resumed.resume, sizeof resumed.resume, "%s", o.out);
    resumed.steps = 5;
    CHECK(vkg_trainer_open(&t, &resumed, &obs, 1) == VKG_TRAIN_REFUSED && t == NULL &&
              strstr(vkg_error(), "--steps 5: ") && strstr(vkg_error(), "at step 10"),
          "--steps below the run's step: %s", vkg_error());
    CHECK(s.devices == 0 && s.notes == 0 && s.warnings == 0,
          "before the refusals: %d device options, %d notes, %d warnings", s.devices, s.notes,
          s.warnings);
}

/* Not quiet, with a warning on the way (a NaN: a refused checkpoint, a health event): every
 * word goes to the observers, none to stdout or stderr. */
/* stdout and stderr into a file while the library runs: quiet_begin, the calls, quiet_end. */
typedef struct quiet {
    char path[4300];
    int out, err;
} quiet;
static int quiet_begin(quiet *q, const char *name) {
    snprintf(q->path, sizeof q->path, "%s/%s", test_tmpdir(), name);
    fflush(stdout), fflush(stderr);
    q->out = dup(1), q->err = dup(2);
    int file = open(q->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (q->out < 0 || q->err < 0 || file < 0) return -1;
    dup2(file, 1), dup2(file, 2), close(file);
    return 0;
}
/* What was printed since quiet_begin (test memory). */
static char *quiet_end(quiet *q) {
    fflush(stdout), fflush(stderr);
    dup2(q->out, 1), dup2(q->err, 2);
    close(q->out), close(q->err);
    return test_read_text(q->path);
}

TEST(trainer_prints_nothing) {
    seen s = {.nan_at = 3};
    vkg_train_options o = tiny("loud");
    o.steps = 10, o.quiet = 0;
    vkg_train_observer obs = watcher(&s);
    quiet q;
    CHECK(quiet_begin(&q, "printed.txt") == 0, "cannot redirect the output");
    int ended = test_train(&o, &obs, 1);
    char *printed = quiet_end(&q);
    CHECK(ended == VKG_TRAIN_DONE, "the run: %d: %s", ended, vkg_error());
    CHECK(printed && !*printed, "the library printed: %s", printed ? printed : "?");
    CHECK(s.notes >= 4 && s.warnings >= 2, "%d notes, %d warnings told", s.notes, s.warnings);
}

static void count_progress(void *user, const vkg_classifier_progress *p) {
    *(int *)user += p->stage != VKG_CLASSIFIER_DEVICE;
}

/* The library behind vkgan sample, score, report and train-classifier prints nothing either,
 * when it succeeds and when it fails: the numbers and the errors come back to the caller. */
TEST(commands_print_nothing) {
    vkg_train_options o = tiny("commands");
    o.steps = 10;
    CHECK(test_train(&o, NULL, 0) == VKG_TRAIN_DONE, "the run: %s", vkg_error());
    char ckpt[4400], png[4400], grid[4400], missing[4400], written[4400];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/step-000000010.safetensors", o.out);
    snprintf(png, sizeof png, "%s/s.png", test_tmpdir());
    snprintf(grid, sizeof grid, "%s/grid.png", test_tmpdir());
    snprintf(missing, sizeof missing, "%s/missing", test_tmpdir());
    static float images[16 * 28 * 28]; /* a grid of 16 Fashion-MNIST-sized images to score */
    for (int i = 0; i < 16 * 28 * 28; i++) images[i] = (float)((i * 7919) % 255) / 127.5f - 1;
    CHECK(vkg_write_png_class_grid(grid, images, 16, 0, 1, 28, 28, 4) == 0, "%s", vkg_error());
    vkg_score_options so = {.images = grid, .validation = 1, .samples = 512, .seed = 1};
    vkg_score_result sr;
    vkg_classifier_train_options co = {.data = "mnist:/nonexistent",
                                       .out = missing,
                                       .lr = 1e-3,
                                       .epochs = 1,
                                       .batch = 100,
                                       .seed = 1};
    int told = 0;
    quiet q;
    CHECK(quiet_begin(&q, "commands.txt") == 0, "cannot redirect the output");
    int sampled = vkg_sample_write(ckpt, 16, png, NULL, 1, NULL, NULL, 1);
    int no_sample = vkg_sample_write(missing, 16, png, NULL, 1, NULL, NULL, 1);
    int scored = vkg_score(&so, &sr) == 0 && sr.n == 16 && sr.fcd > 0 ? 0 : -1;
    so.images = NULL, so.checkpoint = ckpt; /* a 2D-point model has no images to score */
    int no_score = vkg_score(&so, &sr) == -1 && strstr(vkg_error(), "2D-point") ? -1 : 0;
    int reported = vkg_report_write(o.out, NULL, written, sizeof written);
    int no_report = vkg_report_write(missing, NULL, NULL, 0);
    int no_classifier = vkg_classifier_train(&co, count_progress, &told);
    char *printed = quiet_end(&q);
    CHECK(printed && !*printed, "the library printed: %s", printed ? printed : "?");
    CHECK(sampled == 0 && no_sample == -1, "sample: %d, %d", sampled, no_sample);
    CHECK(scored == 0 && no_score == -1, "score: %d, %d", scored, no_score);
    CHECK(reported == 0 && strstr(written, "/report.html") && no_report == -1, "report: %d, %d",
          reported, no_report);
    CHECK(no_classifier == -1 && told == 0, "train-classifier: %d, %d stages told", no_classifier,
          told);
}
