/* The scalars of finished steps, read as the GPU finishes them, and the metrics of each logging
 * interval: means, throughput from the GPU's own times, 2D mode coverage, and the health
 * checks run on them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"

static double epoch_of(const vkg_trainer *t, unsigned step) {
    return (double)step * t->o->d_steps * t->o->batch / t->data.count;
}

/* Mode coverage and quality of about 2560 fresh samples (2D data). */
static int mode_metrics(vkg_trainer *t, vkg_train_metrics *row) {
    int draws = (2560 + t->o->batch - 1) / t->o->batch, n = draws * t->o->batch;
    float *points = malloc(sizeof(float) * 2 * (size_t)n);
    if (!points) return vkg_set_error("out of host memory");
    int rc = 0;
    for (int k = 0; rc == 0 && k < draws; k++)
        rc = vkg_gan_sample(&t->gan, (uint32_t)k, points + (size_t)k * 2 * t->o->batch);
    if (rc == 0) vkg_mode_metrics(&t->data, points, n, &row->modes, &row->high_quality);
    free(points);
    return rc;
}

/* One metrics line for the steps read since the last one, ending at `step`. */
int trainer_log_metrics(vkg_trainer *t, unsigned step) {
    if (t->summed == 0) return 0;
    double now = vkg_now(), mean[VKG_LOSSES];
    unsigned from = t->last_step + 1; /* the interval's first step */
    for (int i = 0; i < VKG_LOSSES; i++) mean[i] = t->sums[i] / t->summed, t->sums[i] = 0;
    t->summed = 0;
    /* throughput from the GPU's own times of the interval's steps: the host reads finished
     * steps in bursts, so its clock says nothing about one interval */
    double gpu_ms = 0, ms, known = 0; /* (a resumed run knows the times of its own steps) */
    for (unsigned s = from; s <= step; s++)
        if (vkg_gan_step_ms(&t->gan, s, &ms) == 0) gpu_ms += ms, known++;
    double images = (known ? known : step - t->last_step) * t->o->batch * t->o->d_steps;
    vkg_train_metrics m = {.step = step,
                           .epoch = epoch_of(t, step),
                           .seconds = t->seconds_before + now - t->start,
                           .images_per_s = gpu_ms > 0 ? images / (gpu_ms * 1e-3)
                                                      : images / (now - t->last_time),
                           .loss_d = mean[VKG_LOSS_D_REAL] + mean[VKG_LOSS_D_FAKE],
                           .loss_g = mean[VKG_LOSS_G],
                           .d_x = mean[VKG_DX],
                           .d_g_z = mean[VKG_DGZ_D],
                           .d_g_z_after = mean[VKG_DGZ_G],
                           .lr_d = t->lr_d,
                           .lr_g = t->lr_g,
                           .modes = -1,
                           .total_steps = t->o->steps};
    t->last_step = step, t->last_time = now;
    if (trainer_is_points(&t->data) && mode_metrics(t, &m) < 0) return -1;
    health_interval in = {from, step, m.loss_d, m.loss_g, m.d_x, m.d_g_z, 0};
    if (vkg_gan_nonfinite(&t->gan, &in.nonfinite) < 0) return -1;
    if (t->quality_on && t->h.nchecks > 0) /* the newest check's, which may be older */
        m.fcd_known = 1, m.fcd = t->h.checks[t->h.nchecks - 1].fcd,
        m.fcd_step = t->h.checks[t->h.nchecks - 1].step;
    if (trainer_tell_metrics(t, &m) < 0) return -1;
    health_event ev[4];
    int n = health_interval_check(&t->h, &in, ev, 4);
    if (n == 0) return 0;
    cJSON *numbers = cJSON_CreateObject();
    cJSON_AddNumberToObject(numbers, "loss_d", m.loss_d);
    cJSON_AddNumberToObject(numbers, "loss_g", m.loss_g);
    cJSON_AddNumberToObject(numbers, "d_x", m.d_x);
    cJSON_AddNumberToObject(numbers, "d_g_z", m.d_g_z);
    cJSON_AddNumberToObject(numbers, "nonfinite_mask", in.nonfinite);
    int rc = trainer_report_events(t, ev, n, numbers);
    cJSON_Delete(numbers);
    return rc;
}

/* Reads the scalars of every step that has finished since the last call (in place, from the
 * GPU's ring: nothing waits) and writes a metrics line at each logging step among them (the run
 * loop closes the last interval after the last step's checkpoint). */
int trainer_read_finished_steps(vkg_trainer *t) {
    for (unsigned s = t->read_upto + 1; s <= t->gan.completed; s++) {
        float l[VKG_LOSSES];
        if (vkg_gan_step_losses(&t->gan, s, l) < 0) return -1;
        for (int i = 0; i < VKG_LOSSES; i++) t->sums[i] += l[i];
        t->summed++, t->read_upto = s;
        if (trainer_tell_step(t, s, l) < 0) return -1;
        /* (the run's last step, off the grid, is logged after its checkpoint, which carries the
         * interval still open: a run extended from it logs what one that never stopped logs) */
        if (s % (unsigned)t->o->log_every == 0 && trainer_log_metrics(t, s) < 0) return -1;
    }
    return 0;
}
