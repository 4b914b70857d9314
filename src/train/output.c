/* The run directory's files as training writes them: config.json, reals.png, the sample grids
 * of samples/ and the checkpoints (see train/rundir.h for the layout). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/rundir.h"
#include "train/trainer.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

size_t trainer_example_size(const vkg_trainer *t) {
    return trainer_is_points(&t->data) ? 2
                                       : (size_t)t->data.channels * t->data.height * t->data.width;
}

/* samples/step-<9 digits>.png: the fixed latent batch (at most 64 of it), or for 2D data a
 * scatter plot of it over the modes. */
int trainer_write_samples(vkg_trainer *t, unsigned step) {
    char path[VKG_PATH_MAX + 64];
    rundir_sample_path(t->o->out, step, path, sizeof path);
    if (vkg_gan_sample_fixed(&t->gan, t->images) < 0) return -1;
    const vkg_dataset *d = &t->data;
    if (trainer_is_points(d))
        return vkg_write_png_scatter(path, t->images, t->o->batch, d->modes, d->mode_count,
                                     d->mode_sigma);
    int k = run_classes(t->o, d->classes), n = k                  ? t->o->batch
                                               : t->o->batch < 64 ? t->o->batch
                                                                  : 64;
    return vkg_write_png_class_grid(path, t->images, n, k, d->channels, d->height, d->width, 8);
}

/* reals.png: the first examples of the data, as the samples are drawn. */
int trainer_write_reals(vkg_trainer *t, int missing_only) {
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/reals.png", t->o->out);
    struct stat st;
    if (missing_only && !(lstat(path, &st) < 0 && errno == ENOENT)) return 0;
    const vkg_dataset *d = &t->data;
    if (trainer_is_points(d)) {
        int n = d->count < 2048 ? d->count : 2048;
        return vkg_write_png_scatter(path, d->points, n, d->modes, d->mode_count, d->mode_sigma);
    }
    int n = d->count < 64 ? d->count : 64;
    size_t each = trainer_example_size(t);
    float *f = malloc(sizeof(float) * each * (size_t)n);
    if (!f) return vkg_set_error("out of host memory");
    for (size_t i = 0; i < each * (size_t)n; i++) f[i] = d->pixels[i] / 127.5f - 1;
    int rc = vkg_write_png_grid(path, f, n, d->channels, d->height, d->width, 8);
    free(f);
    return rc;
}

/* Writes a checkpoint of the current step: 0 written, 1 not written because the state is not
 * finite (a warning told to the observers; the health check reports the failure), -1 error.
 * Rotation keeps the newest --keep and, under rollback, the last one from before the evidence a
 * failure may still be judged on. */
int trainer_save_checkpoint(vkg_trainer *t) {
    char path[VKG_PATH_MAX + 64], seconds[32], shape[64], partial[512];
    /* every metrics line up to this step is written before the checkpoint exists, and the sums
     * of the interval in progress go into it: a run resumed from it logs exactly what one that
     * never stopped logs */
    if (vkg_gan_wait(&t->gan) < 0 || trainer_read_finished_steps(t) < 0) return -1;
    int used = snprintf(partial, sizeof partial, "%u %d", t->last_step, t->summed);
    for (int i = 0; i < VKG_LOSSES; i++)
        used += snprintf(partial + used, sizeof partial - (size_t)used, " %.17g", t->sums[i]);
    char health_text[4096], rollbacks[96]; /* a resumed run judges as one that never stopped */
    snprintf(rollbacks, sizeof rollbacks, "%d %.17g %.17g", t->rollbacks, t->lr_d, t->lr_g);
    int head = snprintf(health_text, sizeof health_text, "%lld ", t->quality_upto);
    if (health_save(&t->h, health_text + head, sizeof health_text - (size_t)head) >=
        (int)(sizeof health_text - (size_t)head))
        return vkg_set_error("the health state does not fit its checkpoint key");
    rundir_checkpoint_path(t->o->out, t->gan.steps, path, sizeof path);
    snprintf(seconds, sizeof seconds, "%.3f", t->seconds_before + vkg_now() - t->start);
    snprintf(shape, sizeof shape, "%d %d %d %d %d", trainer_is_points(&t->data), t->data.channels,
             t->data.height, t->data.width, run_classes(t->o, t->data.classes));
    const char *const extra[7][2] = {
        {"vkgan.options", t->config_text},    {"vkgan.seconds", seconds},
        {"vkgan.data_shape", shape},          {"vkgan.metrics_partial", partial},
        {"vkgan.health", health_text},        {"vkgan.rollbacks", rollbacks},
        {"vkgan.class_names", t->class_names}};
    int rc = vkg_gan_save(&t->gan, path, extra, t->class_names ? 7 : 6);
    if (rc == VKG_GAN_NONFINITE) {
        trainer_message(t, VKG_TRAIN_WARNING, "vkgan: warning: step %u: %s", t->gan.steps,
                        vkg_error());
        return 1;
    }
    if (rc < 0) return -1;
    /* a rollback needs the newest checkpoint from before the evidence still being judged */
    int rollback = strcmp(t->o->on_failure, "rollback") == 0;
    int aside =
        rundir_prune_checkpoints(t->o->out, t->o->keep, rollback ? health_horizon(&t->h) : 0);
    if (aside > 0)
        trainer_message(t, VKG_TRAIN_WARNING,
                        "vkgan: warning: %d older checkpoint%s of %s did not read whole (set "
                        "aside as NAME.damaged); the newest %d that do are kept",
                        aside, aside == 1 ? "" : "s", t->o->out, t->o->keep);
    return aside < 0 ? -1 : 0;
}

int trainer_write_config(vkg_trainer *t) {
    const model_totals *g = &t->tg, *d = &t->td;
    const vkg_device_info *dev = vkg_ctx_device(t->ctx);
    cJSON *j = cJSON_CreateObject(), *o = vkg_train_options_json(t->o);
    cJSON *device = cJSON_AddObjectToObject(j, "device"),
          *data = cJSON_AddObjectToObject(j, "data");
    cJSON *models = cJSON_AddObjectToObject(j, "models");
    cJSON_AddStringToObject(j, "vkgan", VKGAN_VERSION);
    cJSON_AddItemToObject(j, "options", o);
    cJSON_AddStringToObject(device, "name", dev->name);
    cJSON_AddStringToObject(device, "type", dev->type);
    cJSON_AddStringToObject(device, "driver", dev->driver_name);
    cJSON_AddStringToObject(data, "name", t->data.name);
    cJSON_AddNumberToObject(data, "count", t->data.count);
    cJSON_AddNumberToObject(data, "channels", t->data.channels);
    cJSON_AddNumberToObject(data, "height", t->data.height);
    cJSON_AddNumberToObject(data, "width", t->data.width);
    cJSON_AddNumberToObject(data, "classes", t->data.classes);
    cJSON *names = cJSON_AddArrayToObject(data, "class_names"); /* label i is names[i] */
    for (int c = 0; names && t->data.class_names && c < t->data.classes; c++)
        cJSON_AddItemToArray(names, cJSON_CreateString(t->data.class_names[c]));
    free(t->class_names);
    t->class_names =
        run_classes(t->o, t->data.classes) && names ? cJSON_PrintUnformatted(names) : NULL;
    cJSON_AddNumberToObject(models, "g_parameters", (double)g->params);
    cJSON_AddNumberToObject(models, "d_parameters", (double)d->params);
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", t->o->out);
    int rc = o && data && models ? rundir_write_json(path, j) : vkg_set_error("out of memory");
    char *compact = o ? cJSON_PrintUnformatted(o) : NULL;
    snprintf(t->config_text, sizeof t->config_text, "%s", compact ? compact : "{}");
    free(compact);
    cJSON_Delete(j);
    return rc;
}

/* The interval in progress at a checkpoint (the last logged step, the steps read since and their
 * sums), so the first metrics line after a resume is the one an uninterrupted run writes. A
 * missing or inconsistent value starts a new interval at the checkpoint. */
void trainer_restore_partial(vkg_trainer *t, const char *text, unsigned at) {
    int used = 0, n = text ? sscanf(text, "%u %d%n", &t->last_step, &t->summed, &used) : 0;
    for (int i = 0; n == 2 && i < VKG_LOSSES; i++) {
        int more = 0;
        n = sscanf(text + used, " %lf%n", &t->sums[i], &more) == 1 ? 2 : 0;
        used += more;
    }
    if (n != 2 || text[used] || t->last_step > at || t->summed != (int)(at - t->last_step)) {
        t->last_step = at, t->summed = 0;
        memset(t->sums, 0, sizeof t->sums);
    }
}

/* The newest quality line of metrics.jsonl at a step (its numbers; found is set). */
typedef struct quality_line {
    unsigned step;
    int found;
    double fcd, entropy, diversity;
} quality_line;

static int find_quality_line(const cJSON *row, unsigned step, const char *event, void *user) {
    quality_line *q = user;
    const cJSON *fcd = cJSON_GetObjectItemCaseSensitive(row, "fcd"),
                *ent = cJSON_GetObjectItemCaseSensitive(row, "class_entropy"),
                *div = cJSON_GetObjectItemCaseSensitive(row, "diversity");
    if (step == q->step && !event && fcd && cJSON_IsNumber(ent) && cJSON_IsNumber(div))
        q->found = 1, q->fcd = cJSON_IsNumber(fcd) ? fcd->valuedouble : NAN,
        q->entropy = ent->valuedouble, q->diversity = div->valuedouble;
    return 0; /* the last one at the step: after a rollback the log goes back and on */
}

void trainer_restore_rollbacks(vkg_trainer *t, const char *text) {
    int k = 0, used = 0;
    double d = 0, g = 0;
    if (text && sscanf(text, "%d %lf %lf%n", &k, &d, &g, &used) == 3 && !text[used] && k >= 0 &&
        k <= t->o->max_rollbacks && isfinite(d) && isfinite(g) && d > 0 && g > 0)
        t->rollbacks = k, t->lr_d = d, t->lr_g = g;
}

void trainer_restore_health(vkg_trainer *t, const char *text, unsigned at) {
    long long upto = -1;
    int used = 0;
    if (!text || sscanf(text, "%lld%n", &upto, &used) != 1 ||
        health_restore(&t->h, text + used) < 0) {
        health_reset(&t->h, t->last_step);
        return;
    }
    t->quality_upto = upto;
    /* the check at the checkpoint's step comes after the checkpoint: logged, not in it */
    quality_line q = {.step = at};
    if (!t->quality_on || upto >= (long long)at ||
        vkg_metrics_read(t->o->out, find_quality_line, &q, NULL) < 0 || !q.found)
        return;
    health_event ev[4]; /* raised then, and logged: the replay only sets them active */
    health_quality_check(&t->h, at, q.fcd, q.entropy, q.diversity, ev, 4);
    t->quality_upto = at;
}
