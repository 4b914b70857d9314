/* Reading a run directory of vkgan train (vkgan view, vkgan report): its newest checkpoint, its
 * JSON files, its metrics log, and G rebuilt from a checkpoint. Part of the trainer library
 * (vkgan_train); the layout is written by the trainer (src/train/rundir.h). */
#ifndef VKGAN_RUNDIR_H
#define VKGAN_RUNDIR_H

#include <stddef.h>

#include "vkgan/io.h"
#include "vkgan/model.h"
#include "vkgan/train.h"

struct cJSON;

/* The newest checkpoint of run directory `dir` (DIR/checkpoints/step-<9 digits>.safetensors of
 * the highest step) into path (size bytes) and *step; -1 with vkg_error() when there is none. */
int vkg_rundir_newest_checkpoint(const char *dir, char *path, size_t size, unsigned *step);
/* The newest checkpoint from before step `before` (UINT_MAX: the newest of all), for a reader
 * that passes over one that does not load; -1 with vkg_error() when there is none. */
int vkg_rundir_checkpoint_before(const char *dir, unsigned before, char *path, size_t size,
                                 unsigned *step);
/* Whether a write to `path` would replace one of the files of the run directory `dir` (which
 * need not exist yet), however either is written (links, "." and ".."): its config.json,
 * metrics.jsonl, metrics.csv, train.lock, reals.png, its checkpoints/ or samples/ folder, or a
 * step-* file of its checkpoints/ or samples/ (a checkpoint, one set aside, a sample grid, written
 * now or later). 1 with vkg_error() naming the file as the run's, else 0. For the output options of
 * the commands that read a run. */
int vkg_rundir_owns(const char *dir, const char *path);
/* The same for every run directory (one that holds a config.json and a metrics.jsonl): whether
 * path is one of the files above of the run directory it is in, or of the one its checkpoints/
 * or samples/ folder is in (or one of those folders). 1 with vkg_error() naming the file and the
 * run, else 0. For outputs that may land in a run the command does not read. */
int vkg_rundir_owns_any(const char *path);
/* The run directory a checkpoint is in (RUN of RUN/checkpoints/NAME, links resolved, when RUN
 * holds a config.json) into dir (size bytes): 1, or 0 when it is in none. */
int vkg_rundir_of_checkpoint(const char *checkpoint, char *dir, size_t size);
/* Reads and parses a JSON file (a run's config.json); owned by the caller (cJSON_Delete), or
 * NULL with vkg_error() naming it. */
struct cJSON *vkg_rundir_read_json(const char *path);
/* A run directory's config.json: a JSON object with an "options" object (its other members as
 * vkgan train writes them, or absent). Owned by the caller (cJSON_Delete), or NULL with
 * vkg_error() naming the file, and, when the run has a checkpoint, that `vkgan train --resume
 * DIR` writes it again from the checkpoints. */
struct cJSON *vkg_rundir_read_config(const char *dir);

/* The lines of a metrics.jsonl that vkg_metrics_read skipped as no metrics record, other than a
 * blank line and a torn last line (the start of a record, with no newline: what a run killed
 * while writing it leaves, and what a running run's reader may see): a damaged or foreign file,
 * which the commands warn about. */
typedef struct vkg_metrics_skipped {
    int lines;           /* how many */
    unsigned long first; /* the number of the first of them, from 1 */
} vkg_metrics_skipped;

/* Reads DIR/metrics.jsonl (one reader for the report, the viewer and the tests' fuzzer): calls
 * each(row, step, event, user) for every line that is a JSON object (and nothing else) with a
 * "step" that is a whole number in 0 .. 2^32 - 1; event is its "event" text or NULL. Other lines
 * are skipped, and counted in *skipped (may be NULL) unless blank or a torn last line. Stops at
 * the first non-zero return of each. 0, -1 with vkg_error() naming the file, or what each
 * returned. */
typedef int (*vkg_metrics_fn)(const struct cJSON *row, unsigned step, const char *event,
                              void *user);
int vkg_metrics_read(const char *dir, vkg_metrics_fn each, void *user,
                     vkg_metrics_skipped *skipped);

/* G alone, rebuilt from a checkpoint (its options and data shape from the metadata, the EMA
 * weights when there are any), at its training batch size (so batch norm sees batches like
 * training's), with its inputs: z [batch, latent], the class labels [batch] of a conditional
 * model, the virtual-BN reference batch, the RNG counter. */
typedef struct vkg_sampler {
    vkg_model g;
    vkg_tensor z, z_cat, labels, ref_z, ref_cat, ref_labels, counter;
    int classes; /* the model's classes (0: not conditional) */
} vkg_sampler;

/* The run's options and data shape (points (non-zero for 2D data), channels, height, width,
 * classes) from the checkpoint's metadata, every number checked; `path` names it in errors. */
int vkg_sampler_read_setup(const vkg_safetensors *st, const char *path, vkg_train_options *o,
                           int shape[5]);
/* Builds G in the arena and loads its weights; dropout masks follow `seed` and the counter. */
int vkg_sampler_setup(vkg_ctx *ctx, vkg_arena *arena, const vkg_safetensors *st, const char *path,
                      const vkg_train_options *o, const int shape[5], unsigned seed,
                      vkg_sampler *s);
/* Records one batch: z drawn for the counter's value (when draw_z; else z as uploaded), the
 * classes, the virtual-BN reference pass when there is one, G. Ends the recording. */
int vkg_sampler_record(vkg_rec *rec, vkg_sampler *s, unsigned seed, int draw_z);
/* Uploads the labels of examples first .. first + n - 1 (n: t's count): all `cls`, or
 * i % classes (cls < 0). */
int vkg_sampler_labels(vkg_ctx *ctx, const vkg_tensor *t, int first, int classes, int cls);

#endif
