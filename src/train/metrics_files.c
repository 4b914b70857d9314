/* The observer that writes a run's metrics files, DIR/metrics.jsonl and DIR/metrics.csv (see
 * vkg_train_metrics_files in include/vkgan/train.h; the format is train/rundir.c's). */
#include <stdlib.h>

#include "train/rundir.h"
#include "train/trainer.h"
#include "vkgan/error.h"
#include "vkgan/train.h"

typedef struct files {
    metrics_log log;
} files;

static int start(void *user, vkg_trainer *t, const vkg_train_info *info) {
    files *f = user;
    const char *dir = info->options->out;
    if (metrics_open(&f->log, dir, info->resuming, info->start_step, info->logged_step) < 0)
        return -1;
    static const char *const names[2] = {"metrics.jsonl", "metrics.csv"};
    for (int i = 0; i < 2; i++) {
        const vkg_metrics_skipped *d = &f->log.damaged[i];
        if (d->lines)
            trainer_message(t, VKG_TRAIN_WARNING,
                            "vkgan: warning: %s/%s: %d damaged line%s (the first is line %lu) "
                            "dropped on resume; the lines around %s are kept",
                            dir, names[i], d->lines, d->lines == 1 ? "" : "s", d->first,
                            d->lines == 1 ? "it" : "them");
    }
    return 0;
}

static int metrics(void *user, const vkg_train_metrics *m) {
    files *f = user;
    return metrics_write(&f->log, m);
}

static int event(void *user, const vkg_train_event *e) {
    files *f = user;
    return metrics_write_object(&f->log, e->line);
}

static void finish(void *user) {
    files *f = user;
    metrics_close(&f->log);
    free(f);
}

int vkg_train_metrics_files(vkg_train_observer *out) {
    files *f = calloc(1, sizeof *f);
    if (!f) return vkg_set_error("out of host memory");
    *out = (vkg_train_observer){
        .user = f, .start = start, .metrics = metrics, .event = event, .close = finish};
    return 0;
}
