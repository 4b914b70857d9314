/* vkgan train: a whole training run. Options (with their defaults and the command-line names
 * from one table), the run directory (config.json, metrics.jsonl / .csv, samples/,
 * checkpoints/), progress on the terminal, Ctrl-C, and exact resume. */
#ifndef VKGAN_TRAIN_H
#define VKGAN_TRAIN_H

#include <stdio.h>

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

/* Runs (or, with o->resume, continues) a training run; returns the process exit code: 0 done,
 * 1 error (printed), 130 interrupted by Ctrl-C after writing a checkpoint, 10-16 stopped by a
 * failure (--on-failure stop; health_exit_code). */
int vkg_train_run(vkg_train_options *o);

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

/* vkgan view: a run directory in the window (graphs, saved grids, G from the newest checkpoint,
 * a latent walk); with shot_path, one frame is written there and the window closes. Returns the
 * exit code (errors printed). */
int vkg_view_run(const char *dir, const char *shot_path, const char *device, int validation);

#endif
