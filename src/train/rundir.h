/* The run directory of vkgan train: its layout, checkpoints and metrics logs. */
#ifndef VKGAN_TRAIN_RUNDIR_H
#define VKGAN_TRAIN_RUNDIR_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

#include "vkgan/rundir.h"
#include "vkgan/train.h"

/* DIR/config.json, DIR/metrics.jsonl, DIR/metrics.csv, DIR/samples/, DIR/checkpoints/ and
 * DIR/train.lock. A new run needs DIR absent, empty, or left by a run that stopped before it
 * wrote its config.json; it is created with its parents and locked (rundir_lock). 0 or -1 with
 * vkg_error(). */
int rundir_create(const char *dir, int *lock);
/* Creates the first of BASE, BASE-2, BASE-3, ... that does not exist (its parents made as
 * needed), each tried with one mkdir, so that two processes never take the same one; its name
 * into dir (size bytes). The default --out of a new run. 0, or -1 with vkg_error(). */
int rundir_claim_new(const char *base, char *dir, size_t size);
/* Whether DIR is inside the checkpoints/ or samples/ folder of a run directory (one with a
 * config.json and a metrics.jsonl), at any depth: 1 with vkg_error() naming them, else 0. Not a
 * place for a new run. */
int rundir_inside_folder(const char *dir);
/* Whether DIR may be a new run's (absent, empty, or the start of one): 0, or -1 with vkg_error()
 * saying what it holds instead; rundir_create checks it again under the lock. */
int rundir_check_new(const char *dir);
/* Whether DIR holds only what a run killed before its config.json leaves (the lock, the folders,
 * the first samples, temporary files) and no checkpoint: it may be started again with the same
 * --out. */
int rundir_is_start(const char *dir);
/* Locks the run directory for this process (flock on DIR/train.lock, which holds the PID; the
 * kernel drops the lock when the process ends, however it ends), makes samples/ and
 * checkpoints/ where they are missing (a file in their place is an error), then removes the
 * temporary files of atomic writes that a killed run left (NAME.tmpPID). *lock is the descriptor to
 * close at the end. -1 with vkg_error() naming the holder's PID when another process has it. */
int rundir_lock(const char *dir, int *lock);
/* Deletes the metrics logs of a run that is started again from step 0: the step of the last
 * loss line they held (0: none), or -1. */
int rundir_start_over(const char *dir);
/* DIR/checkpoints/step-<9 digits>.safetensors */
void rundir_checkpoint_path(const char *dir, unsigned step, char *path, size_t size);
/* DIR/samples/step-<9 digits>.png */
void rundir_sample_path(const char *dir, unsigned step, char *path, size_t size);
/* The newest checkpoint (highest step); -1 with vkg_error() when there is none. The trainer's
 * name for vkg_rundir_newest_checkpoint (include/vkgan/rundir.h, with vkg_rundir_read_json and
 * vkg_metrics_read, the readers vkgan view and the report share). */
static inline int rundir_newest_checkpoint(const char *dir, char *path, size_t size,
                                           unsigned *step) {
    return vkg_rundir_newest_checkpoint(dir, path, size, step);
}
/* The newest checkpoint from before step `before` (a rollback's target): the trainer's name for
 * vkg_rundir_checkpoint_before. */
static inline int rundir_checkpoint_before(const char *dir, unsigned before, char *path,
                                           size_t size, unsigned *step) {
    return vkg_rundir_checkpoint_before(dir, before, path, size, step);
}
/* The options recorded in DIR's newest checkpoint that reads whole and holds them (every
 * checkpoint carries the run's options, vkgan.options) into o, that checkpoint's path into
 * path: 0, or -1 when none does. */
int rundir_checkpoint_options(const char *dir, vkg_train_options *o, char *path, size_t size);
/* Renames a file that cannot be used (a damaged checkpoint or config.json, a folder in its place)
 * to the first free NAME.damaged, NAME.damaged.2, ...: kept for a look, never over one kept
 * before, its name in kept (size bytes; NULL: not wanted). 0, or -1 with vkg_error(). */
int rundir_set_aside(const char *path, char *kept, size_t size);
/* Renames the checkpoints after `step` (-1: all of them) to NAME.damaged, or the first free
 * NAME.damaged.N (those a resume could not load, kept for a look but out of the way of the
 * checkpoints training writes again); how many, or -1. */
int rundir_set_aside_checkpoints_after(const char *dir, long long step);
/* The steps N of DIR/FOLDER/step-NNNNNNNNN.EXT, sorted ascending (malloc'd), *count of them;
 * NULL when there are none, or with *count -1 and vkg_error() when the folder cannot be read. */
unsigned *rundir_steps(const char *dir, const char *folder, const char *ext, int *count);
/* Deletes the sample grids samples/step-N.png after `step` (-1: all): a run that went back to
 * `step` writes them again, and those of the steps it will not reach are not its own. */
int rundir_drop_samples_after(const char *dir, long long step);
/* Deletes the checkpoints after `step` (those of a run that was rolled back). */
int rundir_drop_checkpoints_after(const char *dir, unsigned step);
/* Whether a checkpoint reads whole (vkg_safetensors_read: its header parses, its data matches its
 * CRC-32, its values are finite). */
int rundir_checkpoint_reads(const char *path);
/* Deletes all but the newest `keep` checkpoints that read whole, and never the newest one from
 * before step `protect` (the last state known to be good while a failure may still be judged);
 * those of them that do not read (a damaged disk, a broken copy) are set aside as
 * NAME.damaged instead of counted. Returns how many were set aside, or -1. */
int rundir_prune_checkpoints(const char *dir, int keep, unsigned protect);
/* Writes JSON to path atomically. */
int rundir_write_json(const char *path, const cJSON *json);
/* One metrics line (include/vkgan/train.h); the mode metrics only for 2D data (modes < 0:
 * none). */
typedef vkg_train_metrics metrics_row;

typedef struct metrics_log {
    FILE *jsonl, *csv;
    vkg_metrics_skipped damaged[2]; /* .jsonl's, .csv's lines a resume dropped as no record */
} metrics_log;
/* Opens DIR/metrics.jsonl and .csv for appending; when resuming, the lines after `keep_until`
 * (written after the checkpoint that is resumed) are dropped first, and the loss lines after
 * `losses_until` (the start of the interval the checkpoint carries, whose line is written
 * again); so are the lines that are no record (log->damaged counts them: the caller warns), the
 * good lines after them kept. */
int metrics_open(metrics_log *log, const char *dir, int resuming, unsigned keep_until,
                 unsigned losses_until);
int metrics_write(metrics_log *log, const metrics_row *row);
/* A line of its own in metrics.jsonl (a quality check, an event): the object must have "step"
 * as its first member. */
int metrics_write_object(metrics_log *log, const cJSON *object);
void metrics_close(metrics_log *log);

#endif
