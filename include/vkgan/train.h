/* vkgan train as a library: a whole training run. Options (with their defaults and the
 * command-line names from one table), the run directory (config.json, samples/, checkpoints/,
 * metrics.jsonl / .csv through an observer), the training health checks and --on-failure, and
 * exact resume. The trainer prints nothing, handles no signals and reads no environment: what
 * happens is told to observers the caller composes (the vkgan binary: a progress line, the
 * metrics files, the window; src/cli/train.c). */
#ifndef VKGAN_TRAIN_H
#define VKGAN_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "vkgan/gan.h"

#define VKG_PATH_MAX 4096

struct cJSON;
struct vkg_opt_table;

typedef struct vkg_train_options {
    char data[VKG_PATH_MAX], out[VKG_PATH_MAX], resume[VKG_PATH_MAX], device[256];
    int steps, epochs, batch, seed;
    int image_size, latent, g_width, d_width, mlp_hidden, mlp_depth;
    int bias; /* DCGAN: bias terms in the layers not followed by batch norm */
    double lr, lr_d, lr_g, beta1, beta2;
    int d_steps;
    double label_smoothing, flip_labels;
    int soft_labels;
    double instance_noise;
    int noise_steps;
    double g_dropout;
    int g_leaky, d_avg_pool, minibatch_stddev, feature_matching, conditional, virtual_bn;
    double hist_avg, ema;
    char classifier[VKG_PATH_MAX]; /* the FCD classifier: a file, "auto" or "none" */
    int health_every, health_samples;
    char on_failure[16]; /* warn, stop, rollback */
    double rollback_lr_scale;
    int max_rollbacks;
    int log_every, sample_every, checkpoint_every, keep;
    int validation, quiet, profile;
    int sync_bn; /* several ranks (mpirun): batch norm with the global batch's statistics */
    int view;    /* the live window */
    char screenshot[VKG_PATH_MAX]; /* --view: write the last frame here and close */
    unsigned char given[96];       /* vkg_train_parse: the options the command line named */
} vkg_train_options;

/* The option table (include/vkgan/opt.h) behind the functions below. */
const struct vkg_opt_table *vkg_train_table(void);

/* The defaults (0 for the values that depend on the device or the data: resolved at the start
 * of the run and written to config.json). */
void vkg_train_defaults(vkg_train_options *o);
/* Parses the options after "train" (every value checked, --data's form too); 0, 1 when --help
 * was asked for (the caller prints vkg_train_help), or -1 with vkg_error() (a usage error). */
int vkg_train_parse(int argc, char **argv, vkg_train_options *o);
void vkg_train_help(FILE *f);
/* Sets every option named in a JSON object (a run's config.json "options", a checkpoint's
 * metadata) over the defaults; `source` names it in errors. */
int vkg_train_options_from_json(vkg_train_options *o, const struct cJSON *json, const char *source);
/* The options as a JSON object (cJSON, owned by the caller; NULL when out of memory). */
struct cJSON *vkg_train_options_json(const vkg_train_options *o);

/* ---- the trainer ---- */

typedef struct vkg_trainer vkg_trainer;

/* One logging interval: the means of its steps' scalars (a line of metrics.jsonl / .csv). */
typedef struct vkg_train_metrics {
    unsigned step;                       /* the interval's last step */
    int total_steps;                     /* the run's --steps */
    double epoch, seconds, images_per_s; /* seconds: of training, over every resume */
    double loss_d, loss_g, d_x, d_g_z, d_g_z_after, lr_d, lr_g;
    int modes;           /* 2D data: modes covered by fresh samples (-1: image data) */
    double high_quality; /* 2D data: the share of samples within 3 sigma of a mode */
    int fcd_known;       /* a quality check since the start, the resume or the last rollback: */
    double fcd;          /* the newest one's FCD ... */
    unsigned fcd_step;   /* ... and step */
} vkg_train_metrics;

typedef enum vkg_train_event_kind {
    VKG_TRAIN_QUALITY,  /* a quality check: fcd, entropy */
    VKG_TRAIN_HEALTH,   /* a training-health failure recognised: name, detail, since */
    VKG_TRAIN_ROLLBACK, /* --on-failure rollback went back to to_step */
} vkg_train_event_kind;

typedef struct vkg_train_event {
    vkg_train_event_kind kind;
    unsigned step;
    const char *name;         /* "quality", a failure's name ("nonfinite", "mode_collapse", ...) or
                               * "rollback" */
    const char *detail;       /* HEALTH: one line saying what was seen; else "" */
    unsigned since;           /* HEALTH: the first step of its evidence */
    unsigned to_step;         /* ROLLBACK: the checkpoint's step training went back to */
    double fcd, entropy;      /* QUALITY: FCD and class entropy (nats) */
    const struct cJSON *line; /* its line of metrics.jsonl, "step" first (owned by the trainer) */
} vkg_train_event;

/* The run as set up, for the observers' start. */
typedef struct vkg_train_info {
    const vkg_train_options *options; /* resolved (the run's own options when resuming) */
    vkg_ctx *ctx;
    vkg_gan *gan;
    const char *data_name;
    long data_count;
    int classes;             /* classes the models are conditioned on (0: none) */
    const float (*modes)[2]; /* 2D data: the mixture's modes (NULL for images) */
    int mode_count;
    float mode_sigma;
    int resuming;         /* continues from a checkpoint */
    unsigned start_step;  /* the step training starts at: the checkpoint's when resuming */
    unsigned logged_step; /* its last loss line's step (<= start_step: the checkpoint carries
                           * the interval since, so a line logged after it is logged again) */
    double preview_share; /* G's forward pass over one batch as a share of a training step */
} vkg_train_info;

typedef enum vkg_train_level {
    VKG_TRAIN_NOTE,    /* what the run is doing (the binary prints it on stdout unless --quiet) */
    VKG_TRAIN_WARNING, /* something went wrong and the run goes on (stderr, always) */
    VKG_TRAIN_REMARK,  /* about the device, before training (stderr unless --quiet) */
} vkg_train_level;

/* between_steps: stop training now (vkg_trainer_run returns VKG_TRAIN_STOPPED). */
enum { VKG_TRAIN_STOP = 1 };

/* One observer of a run; every member may be NULL. The trainer calls the observers in the
 * order given, synchronously, from vkg_trainer_open, _run and _checkpoint. A callback that
 * returns < 0 stops the run with its vkg_error(). */
typedef struct vkg_train_observer {
    void *user;
    /* Before the device is opened: context options to add to (the window's extensions). */
    int (*device_options)(void *user, vkg_ctx_options *options);
    /* One line of text, no newline. */
    void (*message)(void *user, vkg_train_level level, const char *text);
    /* The run is set up (its directory, models, resume point): before its first step. */
    int (*start)(void *user, vkg_trainer *t, const vkg_train_info *info);
    /* Right after the step's submission, before anything reads it: test seams
     * (vkg_trainer_inject_fault). */
    int (*submitted)(void *user, vkg_trainer *t, unsigned step);
    /* Every finished step's scalars (VKG_LOSS_*), in step order, a little after it ran. */
    int (*step)(void *user, unsigned step, const float losses[VKG_LOSSES]);
    /* One logging interval (every --log-every steps and at the last). */
    int (*metrics)(void *user, const vkg_train_metrics *m);
    /* A quality check, a health event or a rollback. */
    int (*event)(void *user, const vkg_train_event *e);
    /* Between two submissions (the window's keys): 0 to go on, VKG_TRAIN_STOP, or -1. */
    int (*between_steps)(void *user, vkg_trainer *t, unsigned steps);
    /* The trainer closes (the device still exists): release what start made. */
    void (*close)(void *user);
} vkg_train_observer;

/* vkg_trainer_open: the options cannot be used (a resumed run's option changed, --steps below
 * the resumed step, --screenshot without --view); the vkgan binary's usage error (exit 2). */
#define VKG_TRAIN_REFUSED (-2)

/* Sets up a run from its options, or with o->resume continues one (o then becomes the run's
 * options, with the command line's --steps, --device, --validation, --quiet, --view and
 * --screenshot): data, device, models, the locked run directory with config.json, reals.png
 * and samples/step-000000000.png, the checkpoint to resume. The observers (`count`, copied; may
 * be 0) see everything from here on; their close is called whatever happens. 0 with *out to
 * vkg_trainer_close, -1 with vkg_error() (nothing is left open), or VKG_TRAIN_REFUSED. o must
 * outlive the trainer. */
int vkg_trainer_open(vkg_trainer **out, vkg_train_options *o, const vkg_train_observer *observers,
                     int count);

/* What vkg_trainer_run ended with. */
enum {
    VKG_TRAIN_DONE,    /* o->steps reached */
    VKG_TRAIN_STOPPED, /* *stop was set, or an observer asked (VKG_TRAIN_STOP) */
    VKG_TRAIN_FAILED,  /* --on-failure stop (or rollback past --max-rollbacks): see
                        * vkg_trainer_failure */
};
/* Trains until o->steps, a stop, or a training failure --on-failure acts on by stopping; every
 * step's scalars have been read when it returns. `stop` (may be NULL; a signal handler may set
 * it) is looked at between steps. VKG_TRAIN_*, or -1 with vkg_error(). */
int vkg_trainer_run(vkg_trainer *t, const volatile sig_atomic_t *stop);

/* The failure a run stopped on (vkg_trainer_run returned VKG_TRAIN_FAILED). */
typedef struct vkg_train_failure {
    const char *name;                   /* "nonfinite", "d_loss_zero", ... */
    int exit_code;                      /* the vkgan binary's exit code for it: 10 to 16 (README) */
    unsigned step, since;               /* recognised at; the first step of its evidence */
    int rollbacks;                      /* rollbacks done before it */
    char checkpoint[VKG_PATH_MAX + 64]; /* the newest checkpoint from before its evidence ("":
                                         * none was kept) */
} vkg_train_failure;
const vkg_train_failure *vkg_trainer_failure(const vkg_trainer *t);

/* Writes a checkpoint of the current step, rotating the old ones (--keep). With
 * close_interval, the steps since the last metrics line then get one of their own (a run that
 * stops between logging steps); the checkpoint carries that interval still open, and a run
 * resumed from it replaces the line, so its metrics are those of a run that never stopped. 0
 * written, 1 not written because the state is not finite (a warning said so; the health check
 * reports the failure), -1 with vkg_error(). */
int vkg_trainer_checkpoint(vkg_trainer *t, int close_interval);

/* Test seam: a training failure provoked now, after the last submitted step (waits for it):
 * "nan" puts a NaN into G's first weight, "collapse" zeroes G's first layer and freezes G,
 * "freeze-g" sets G's learning rate to 0. -1 with vkg_error() for another kind. */
int vkg_trainer_inject_fault(vkg_trainer *t, const char *kind);

/* The run's GAN (its steps, preview and profile), device, and seconds of training so far (over
 * every resume). */
vkg_gan *vkg_trainer_gan(vkg_trainer *t);
vkg_ctx *vkg_trainer_ctx(vkg_trainer *t);
double vkg_trainer_seconds(const vkg_trainer *t);

/* Tells the observers (close), then frees everything and unlocks the run directory. -1 with
 * vkg_error() when the options asked for validation and the validation layer reported
 * messages over the device's life, else 0. NULL is allowed. */
int vkg_trainer_close(vkg_trainer *t);

/* An observer writing DIR/metrics.jsonl and DIR/metrics.csv (appending when resuming, after
 * dropping the lines past the checkpoint resumed); its memory is freed by the trainer's close.
 * 0, or -1 when out of memory. */
int vkg_train_metrics_files(vkg_train_observer *out);

/* vkgan sample: a grid of n images from a checkpoint (EMA weights when it has them); for a
 * conditional model all of class `cls`, or with cls < 0 one row per class. 0, or -1 with
 * vkg_error() (nothing printed). */
int vkg_sample_run(const char *checkpoint, int n, const char *out, unsigned seed, int cls,
                   const char *device, int validation);
/* vkg_sample_run with the class as text: its index or its name as the run's data named it (the
 * checkpoint's vkgan.class_names; an unknown one is an error listing them), NULL for one row per
 * class; and with raw (non-NULL, non-empty) also a safetensors file there: "images" (G's float
 * output, [rows, c, h, w] or [rows, 2]), "z" [rows, latent] and, for a conditional model,
 * "labels" [rows], rows being n rounded up to whole training batches. */
int vkg_sample_write(const char *checkpoint, int n, const char *out, const char *raw, unsigned seed,
                     const char *cls, const char *device, int validation);

/* ---- data-parallel runs (vkgan train under mpirun or srun; src/train/dist_run.c) ---- */

/* Before vkg_trainer_open, once the ranks joined (dist_init): this rank's device (the
 * rank's entry of a comma-separated --device, else the local rank's device among the best
 * kind), and the other ranks quiet, without window. 0; 2 for a usage error; -1 other errors
 * (vkg_error() says which). */
int vkg_train_dist_setup(vkg_train_options *o);
/* Rank 0: what the sums across ranks cost, one line (nothing with one rank). */
void vkg_train_dist_summary(const vkg_gan *gan, FILE *out);
/* When the command ends with `rc` on this rank: rank 0 tells the others to stop, then the ranks
 * part; an error (1) or usage error (2) on any rank ends every rank at once (MPI_Abort).
 * Returns rc. */
int vkg_train_dist_end(int rc);

#endif
