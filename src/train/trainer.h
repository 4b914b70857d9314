/* The trainer's own state, shared by its files (private to src/train):
 *   trainer.c  the loop: open, run, checkpoint, close, and telling the observers;
 *   setup.c    options: resume (and what it refuses), the automatic values, models, GAN config;
 *   output.c   the run directory's files: config.json, reals.png, samples/, checkpoints;
 *   interval.c reading finished steps and the metrics of each logging interval;
 *   policy.c   quality checks, health events and --on-failure (rollback, stop), fault seams. */
#ifndef VKGAN_TRAIN_TRAINER_H
#define VKGAN_TRAIN_TRAINER_H

#include <cjson/cJSON.h>

#include "train/health.h"
#include "train/quality.h"
#include "train/run.h"
#include "train/summary.h"
#include "vkgan/data.h"
#include "vkgan/train.h"

#define TRAINER_OBSERVERS 8

struct vkg_trainer {
    vkg_train_options *o;
    vkg_train_observer obs[TRAINER_OBSERVERS];
    int nobs;
    int started; /* the observers' start was called */
    vkg_ctx *ctx;
    vkg_arena *arena;
    vkg_dataset data;
    int data_loaded;
    vkg_gan gan;
    int gan_made;
    model_totals tg, td;    /* G's and D's sizes */
    int fresh;              /* starts at step 0 */
    unsigned resumed_at;    /* the checkpoint's step when resuming */
    char config_text[8192]; /* the options, compact JSON, in every checkpoint */
    double start, seconds_before, last_time;
    unsigned last_step;
    unsigned read_upto; /* the last step whose scalars were read */
    double sums[VKG_LOSSES];
    int summed;    /* steps in sums: since the last metrics line */
    float *images; /* one batch of G's output */
    quality q;     /* the FCD classifier, when there is one for the data */
    int quality_on;
    health h;
    long long quality_upto; /* the step of the newest quality check h holds (-1: none yet) */
    health_event pending;   /* a failure that --on-failure stop or rollback acts on */
    int has_pending, rollbacks;
    double lr_d, lr_g; /* the learning rates now: --lr-d, --lr-g, lowered by each rollback */
    vkg_train_failure failure;
    int lock;                           /* DIR/train.lock, held while the run lasts */
    int claimed;                        /* DIR is the default --out, made by vkg_trainer_open */
    char config_lost[3 * VKG_PATH_MAX]; /* why a resume's options came from a checkpoint ("" when
                                           not) */
    char *class_names; /* a conditional model's class names (JSON), for its checkpoints */
};

/* ---- setup.c ---- */
/* Options of a resumed run (o->resume set): those its newest checkpoint that reads whole
 * records, which config.json must match; when it is missing, damaged or differs, the
 * checkpoint's, with why in `lost` (else ""). 0, -1, or VKG_TRAIN_REFUSED. */
int trainer_resume_options(vkg_train_options *o, char *lost, size_t size);
/* Whether the caller named an option (o->given) with a value that asks for something: not 0,
 * "auto" or "none", which ask for what the run does without the option. */
int trainer_asks(const vkg_train_options *o, const char *name);
/* Sets a damaged config.json aside (config.json.damaged) and says why the options came from a
 * checkpoint (t->config_lost), before config.json is written again. 0 or -1. */
int trainer_replace_lost_config(vkg_trainer *t);
/* runs/<data>-<date>-<time> when --out was not given, made now (rundir_claim_new: -2, -3, ...
 * added when it is taken, by another run started in the same second); 0 or -1. */
int trainer_default_out(vkg_train_options *o);
/* Fills in the automatic values (0 in the options) from the device and the data. */
int trainer_resolve(vkg_trainer *t, const vkg_device_info *dev);
vkg_gan_config trainer_gan_config(const vkg_train_options *o, int dataset_classes);
int trainer_is_points(const vkg_dataset *d);
/* What the options ask for that the run cannot do, found once the data is read: an option the
 * command line named (o->given) of the other kind of data's model (2D points: MLPs, no quality
 * checks; images: a DCGAN), one that another option overrides or turns off (--steps and --epochs,
 * --label-smoothing and --soft-labels, ...), an --image-size the data does not have, --conditional
 * on data without classes. Values that ask for nothing (0, "auto", "none") are taken. 0, or
 * VKG_TRAIN_REFUSED with vkg_error() naming both sides. */
int trainer_check_options(const vkg_train_options *o, const vkg_dataset *d);

/* ---- output.c ---- */
int trainer_write_config(vkg_trainer *t);
/* reals.png from the data (with missing_only, only when there is none: a resume remakes a
 * removed one; something else in its place stays). */
int trainer_write_reals(vkg_trainer *t, int missing_only);
int trainer_write_samples(vkg_trainer *t, unsigned step);
/* 0 written, 1 not written (not finite; warned), -1. */
int trainer_save_checkpoint(vkg_trainer *t);
/* The interval in progress at a checkpoint (its vkgan.metrics_partial). */
void trainer_restore_partial(vkg_trainer *t, const char *text, unsigned at);
/* The health state at a checkpoint (its vkgan.health; a checkpoint without it, from an older
 * vkgan: the history is forgotten, as it was), and the quality check at its step when that came
 * after it (read from metrics.jsonl): the resumed run judges failures as one that never stopped. */
void trainer_restore_health(vkg_trainer *t, const char *text, unsigned at);
/* The rollbacks made and the learning rates they left (vkgan.rollbacks: "K LR_D LR_G"; a
 * checkpoint without it, from an older vkgan, or a value out of range: none, the options'
 * rates), so a resumed rollback run goes on as one that never stopped. */
void trainer_restore_rollbacks(vkg_trainer *t, const char *text);

/* ---- interval.c ---- */
/* Reads the scalars of every finished step and logs the intervals that end among them. */
int trainer_read_finished_steps(vkg_trainer *t);
/* One metrics line for the steps read since the last one, ending at `step`. */
int trainer_log_metrics(vkg_trainer *t, unsigned step);

/* ---- policy.c ---- */
/* The classifier file the quality checks would open, checked before the device (it exists, fits
 * the data): 0, or -1 with the error trainer_open_quality would give. */
int trainer_check_classifier(const vkg_train_options *o, const vkg_dataset *d);
/* The classifier for the data (none for 2D points or without one), and the health state. */
int trainer_open_quality(vkg_trainer *t);
/* FCD, class entropy, diversity (and class accuracy) of G now, judged by the health checks. */
int trainer_quality_check(vkg_trainer *t, unsigned step);
/* Reports health events (warning, event line); the first is kept for --on-failure. */
int trainer_report_events(vkg_trainer *t, const health_event *ev, int n, const cJSON *numbers);
/* --on-failure on the pending event: 0 go on (warned, rolled back), 1 stop (t->failure), -1. */
int trainer_act_on_failure(vkg_trainer *t);

/* ---- trainer.c: telling the observers ---- */
void trainer_message(vkg_trainer *t, vkg_train_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int trainer_tell_step(vkg_trainer *t, unsigned step, const float losses[VKG_LOSSES]);
int trainer_tell_metrics(vkg_trainer *t, const vkg_train_metrics *m);
int trainer_tell_event(vkg_trainer *t, const vkg_train_event *e);
/* -1 with vkg_error() prefixed by `what` ("what: ..."). */
int trainer_fail(const char *what);
double trainer_now(void);
size_t trainer_example_size(const vkg_trainer *t);

#endif
