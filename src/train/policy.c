/* Training health as the run acts on it: quality checks (FCD, class entropy, diversity), the
 * events the health checks raise, and --on-failure: warn, stop, or roll back to the newest
 * checkpoint from before a failure's evidence with lower learning rates. And the fault seam the
 * tests provoke failures with. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/dist_run.h"
#include "train/rundir.h"
#include "train/trainer.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"

/* Warns of an event and tells the observers (its line holds the numbers it was judged on); the
 * first one is kept for --on-failure stop or rollback. */
static int report_event(vkg_trainer *t, const health_event *e, const cJSON *numbers) {
    const char *name = health_kind_name(e->kind);
    trainer_message(t, VKG_TRAIN_WARNING, "vkgan: warning: step %u: %s: %s", e->step, name,
                    e->detail);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", e->step);
    cJSON_AddStringToObject(j, "event", name);
    cJSON_AddNumberToObject(j, "since", e->since);
    cJSON_AddStringToObject(j, "detail", e->detail);
    cJSON_AddStringToObject(j, "policy", t->o->on_failure);
    for (const cJSON *n = numbers ? numbers->child : NULL; n; n = n->next)
        cJSON_AddItemToObject(j, n->string, cJSON_Duplicate(n, 0));
    vkg_train_event te = {.kind = VKG_TRAIN_HEALTH,
                          .step = e->step,
                          .name = name,
                          .detail = e->detail,
                          .since = e->since,
                          .line = j};
    int rc = j ? trainer_tell_event(t, &te) : vkg_set_error("out of host memory");
    cJSON_Delete(j);
    if (strcmp(t->o->on_failure, "warn") != 0 && !t->has_pending)
        t->pending = *e, t->has_pending = 1;
    return rc;
}

int trainer_report_events(vkg_trainer *t, const health_event *ev, int n, const cJSON *numbers) {
    for (int i = 0; i < n; i++)
        if (report_event(t, &ev[i], numbers) < 0) return -1;
    return 0;
}

/* The classifier a run's quality checks need: none for 2D points, with --health-every 0 or
 * --classifier none; the shipped one for --classifier auto (trainer_resolve); else the file. */
static const char *classifier_path(const vkg_train_options *o, const vkg_dataset *d) {
    if (trainer_is_points(d) || o->health_every == 0 || strcmp(o->classifier, "none") == 0)
        return NULL;
    return strcmp(o->classifier, "auto") == 0 ? quality_default_classifier(o->data) : o->classifier;
}

int trainer_check_classifier(const vkg_train_options *o, const vkg_dataset *d) {
    const char *path = classifier_path(o, d);
    if (!path) return 0;
    vkg_class_stats *real = malloc(sizeof *real);
    int r = real ? quality_check_file(path, d->channels, d->height, d->width,
                                      run_classes(o, d->classes), real)
                 : vkg_set_error("out of host memory");
    free(real);
    return r < 0 ? vkg_set_error("--classifier: %s", vkg_error()) : 0;
}

/* The classifier for the data (none for 2D points or without one), and the health state. */
int trainer_open_quality(vkg_trainer *t) {
    const vkg_train_options *o = t->o;
    const vkg_dataset *d = &t->data;
    const char *path = classifier_path(o, d); /* o->classifier is resolved: not "auto" */
    if (path) {
        if (quality_open(&t->q, t->ctx, path, d->channels, d->height, d->width,
                         run_classes(o, d->classes), t->gan.config.batch) < 0 ||
            quality_record_gan(&t->q, &t->gan, o->health_samples) < 0)
            return vkg_set_error("--classifier: %s", vkg_error());
        t->quality_on = 1;
        trainer_message(t, VKG_TRAIN_NOTE,
                        "quality: FCD, class entropy and diversity of %d samples every %d steps "
                        "(classifier %s)",
                        t->q.draws * o->batch, o->health_every, path);
    }
    health_init(&t->h, t->quality_on ? t->q.real.entropy : 0,
                t->quality_on ? t->q.real.diversity : 0);
    t->quality_upto = -1;
    return 0;
}

/* FCD, class entropy, diversity (and the generated class's accuracy) of G now. */
int trainer_quality_check(vkg_trainer *t, unsigned step) {
    quality_numbers q;
    if (vkg_gan_wait(&t->gan) < 0 || quality_measure(&t->q, &q) < 0) return -1;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", step);
    cJSON_AddNumberToObject(j, "fcd", q.fcd);
    cJSON_AddNumberToObject(j, "class_entropy", q.entropy);
    cJSON_AddNumberToObject(j, "diversity", q.diversity);
    if (q.accuracy >= 0) cJSON_AddNumberToObject(j, "class_accuracy", q.accuracy);
    cJSON_AddNumberToObject(j, "quality_samples", q.n);
    vkg_train_event te = {.kind = VKG_TRAIN_QUALITY,
                          .step = step,
                          .name = "quality",
                          .detail = "",
                          .fcd = q.fcd,
                          .entropy = q.entropy,
                          .line = j};
    int rc = j ? trainer_tell_event(t, &te) : vkg_set_error("out of host memory");
    health_event ev[4];
    int n = health_quality_check(&t->h, step, q.fcd, q.entropy, q.diversity, ev, 4);
    t->quality_upto = step;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "step"); /* the numbers, for the events */
    if (rc == 0) rc = trainer_report_events(t, ev, n, j);
    cJSON_Delete(j);
    return rc;
}

int vkg_trainer_inject_fault(vkg_trainer *t, const char *kind) {
    if (strcmp(kind, "nan") && strcmp(kind, "collapse") && strcmp(kind, "freeze-g"))
        return vkg_set_error("fault %s: expected nan, collapse or freeze-g", kind);
    const vkg_tensor *w = &t->gan.g.layers[0].w;
    if (vkg_gan_wait(&t->gan) < 0) return -1;
    int rc = 0;
    if (strcmp(kind, "nan") == 0) {
        float nan = NAN;
        rc = vkg_upload(t->ctx, &w->buf, &nan, sizeof nan);
    } else if (strcmp(kind, "collapse") == 0) {
        float *zero = calloc(vkg_tensor_count(w), sizeof(float));
        rc = zero ? vkg_upload(t->ctx, &w->buf, zero, sizeof(float) * vkg_tensor_count(w))
                  : vkg_set_error("out of host memory");
        free(zero);
    }
    if (rc == 0 && strcmp(kind, "nan") != 0) rc = vkg_model_set_lr(t->ctx, &t->gan.g, 0);
    return rc;
}

/* Back to the newest checkpoint from before the failure's evidence, with lower learning rates;
 * the later checkpoints (of the failed stretch) are deleted. */
static int rollback(vkg_trainer *t, const health_event *e) {
    vkg_train_options *o = t->o;
    char path[VKG_PATH_MAX + 64];
    unsigned to;
    if (rundir_checkpoint_before(o->out, e->since, path, sizeof path, &to) < 0 ||
        vkg_gan_wait(&t->gan) < 0 || vkg_gan_load(&t->gan, path) < 0)
        return -1;
    t->rollbacks++;
    t->lr_d *= o->rollback_lr_scale, t->lr_g *= o->rollback_lr_scale;
    if (vkg_model_set_lr(t->ctx, &t->gan.d, (float)t->lr_d) < 0 ||
        vkg_model_set_lr(t->ctx, &t->gan.g, (float)t->lr_g) < 0 ||
        rundir_drop_checkpoints_after(o->out, to) < 0 || rundir_drop_samples_after(o->out, to) < 0)
        return -1;
    dist_run_loaded(path, t->lr_d, t->lr_g); /* the other ranks roll back with it */
    trainer_message(t, VKG_TRAIN_WARNING,
                    "vkgan: rollback %d of %d: back to step %u (%s); learning rates D %g, G %g",
                    t->rollbacks, o->max_rollbacks, to, path, t->lr_d, t->lr_g);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", e->step);
    cJSON_AddStringToObject(j, "event", "rollback");
    cJSON_AddNumberToObject(j, "to_step", to);
    cJSON_AddStringToObject(j, "cause", health_kind_name(e->kind));
    cJSON_AddNumberToObject(j, "lr_d", t->lr_d);
    cJSON_AddNumberToObject(j, "lr_g", t->lr_g);
    vkg_train_event te = {.kind = VKG_TRAIN_ROLLBACK,
                          .step = e->step,
                          .name = "rollback",
                          .detail = "",
                          .to_step = to,
                          .line = j};
    int rc = j ? trainer_tell_event(t, &te) : vkg_set_error("out of host memory");
    cJSON_Delete(j);
    t->read_upto = t->last_step = to, t->last_time = vkg_now(), t->summed = 0;
    memset(t->sums, 0, sizeof t->sums);
    health_reset(&t->h, to);
    t->quality_upto = to; /* the checks before are in the bests, those after are undone */
    /* its checkpoint again, with the state the run goes on from (the health it judges by): a run
     * resumed from it goes on as this one does */
    if (rc == 0 && trainer_save_checkpoint(t) < 0) rc = -1;
    return rc;
}

/* --on-failure acting on the pending event: 0 to go on (warned, rolled back), 1 to stop (what
 * it stopped on in t->failure), -1 on error. */
int trainer_act_on_failure(vkg_trainer *t) {
    if (!t->has_pending) return 0;
    t->has_pending = 0;
    const health_event *e = &t->pending;
    int code = health_exit_code(e->kind);
    if (strcmp(t->o->on_failure, "rollback") == 0 && t->rollbacks < t->o->max_rollbacks) {
        if (rollback(t, e) == 0) return 0;
        trainer_message(t, VKG_TRAIN_WARNING, "vkgan: cannot roll back: %s", vkg_error());
    }
    vkg_train_failure *f = &t->failure;
    unsigned good;
    f->name = health_kind_name(e->kind), f->exit_code = code;
    f->step = e->step, f->since = e->since, f->rollbacks = t->rollbacks;
    if (rundir_checkpoint_before(t->o->out, e->since, f->checkpoint, sizeof f->checkpoint, &good) <
        0)
        f->checkpoint[0] = 0;
    return 1;
}
