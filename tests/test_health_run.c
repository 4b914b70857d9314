/* Training health end to end: failures provoked on purpose (VKGAN_FAULT, a frozen G against a
 * fast D) in tiny runs of the vkgan binary with validation on; each event must come at the step
 * its evidence completes, --on-failure stop must exit with the documented code, and rollback
 * must restore the exact weights of the checkpoint before the failure: a run rolled back (with
 * its learning rates kept) ends bit-identical to one that never failed. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train/health.h"
#include "vkgan/io.h"

#define TINY                                                                                       \
    "--g-width 4 --d-width 6 --latent 8 --batch 16 --log-every 5 --classifier none --quiet "       \
    "--validation"

/* The lines of DIR/metrics.jsonl with "event": KIND (first match's step, -1 when none), and the
 * number of such lines. */
static int event_step(const char *dir, const char *kind, int *count, cJSON **first) {
    char path[4400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *text = test_read_text(path);
    int step = -1;
    *count = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        cJSON *row = cJSON_Parse(line);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(row, "event");
        if (cJSON_IsString(e) && strcmp(e->valuestring, kind) == 0) {
            if (step < 0) {
                step = (int)cJSON_GetObjectItemCaseSensitive(row, "step")->valuedouble;
                if (first) *first = cJSON_Duplicate(row, 1);
            }
            ++*count;
        }
        cJSON_Delete(row);
    }
    return step;
}

/* Whether a metrics interval meets a failure's condition. */
typedef int (*interval_test)(double loss_d, double d_x, double d_g_z);

static int d_near_zero(double loss_d, double d_x, double d_g_z) {
    (void)d_x, (void)d_g_z;
    return loss_d < HEALTH_D_ZERO_LOSS;
}

static int saturated(double loss_d, double d_x, double d_g_z) {
    (void)loss_d;
    return d_x > 1 - HEALTH_SATURATION && d_g_z < HEALTH_SATURATION;
}

/* The first logged step from which the last `k` intervals (event lines left out) all met the
 * test (-1: none). */
static int first_run_step(const char *dir, int k, interval_test test) {
    char path[4400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *text = test_read_text(path);
    int run = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        cJSON *row = cJSON_Parse(line);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, "loss_d"),
                    *dx = cJSON_GetObjectItemCaseSensitive(row, "d_x"),
                    *dgz = cJSON_GetObjectItemCaseSensitive(row, "d_g_z");
        int step = -1;
        if (cJSON_IsNumber(d) && cJSON_IsNumber(dx) && cJSON_IsNumber(dgz) &&
            !cJSON_GetObjectItemCaseSensitive(row, "event")) {
            run = test(d->valuedouble, dx->valuedouble, dgz->valuedouble) ? run + 1 : 0;
            step = (int)cJSON_GetObjectItemCaseSensitive(row, "step")->valuedouble;
        }
        cJSON_Delete(row);
        if (step >= 0 && run >= k) return step;
    }
    return -1;
}

/* G frozen from step 1 and D's rate ten times the recipe's: D wins. Warned: d_loss_zero and
 * saturation each at the interval that completes their evidence in the logged metrics; with
 * stop, the same run ends there with exit code 11. */
TEST(health_frozen_g_d_wins_and_stop_exits_with_its_code) {
    char err[8192], args[4600], run[4300];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/warned " TINY " --steps 100 --lr-d 0.002", dir);
    int code = test_run_vkgan("VKGAN_FAULT=freeze-g@1", args, err, sizeof err);
    CHECK(code == 0, "warned run: exit %d: %s", code, err);
    snprintf(run, sizeof run, "%s/warned", dir);
    int n, m;
    cJSON *ev = NULL;
    int at = event_step(run, "d_loss_zero", &n, &ev);
    int want = first_run_step(run, HEALTH_PATIENCE, d_near_zero);
    CHECK(at > 0 && at == want && n == 1,
          "d_loss_zero logged at step %d (%d times); the "
          "metrics say %d",
          at, n, want);
    double since = ev ? cJSON_GetObjectItemCaseSensitive(ev, "since")->valuedouble : -1;
    const cJSON *loss = ev ? cJSON_GetObjectItemCaseSensitive(ev, "loss_d") : NULL;
    /* the first step of the first of the intervals */
    CHECK(since == at - 5 * HEALTH_PATIENCE + 1 && cJSON_IsNumber(loss) &&
              loss->valuedouble < HEALTH_D_ZERO_LOSS,
          "evidence since step %g, loss_d logged with it", since);
    cJSON_Delete(ev);
    int sat = event_step(run, "saturation", &m, NULL);
    int want_sat = first_run_step(run, HEALTH_PATIENCE, saturated);
    CHECK(sat > 0 && sat == want_sat, "saturation at step %d; the metrics say %d", sat, want_sat);
    CHECK(strstr(err, "warning: step") && strstr(err, "d_loss_zero"), "stderr: %s", err);

    snprintf(args, sizeof args,
             "train --out %s/stopped " TINY " --steps 100 --lr-d 0.002 --on-failure stop", dir);
    code = test_run_vkgan("VKGAN_FAULT=freeze-g@1", args, err, sizeof err);
    char stopped[64];
    snprintf(stopped, sizeof stopped, "stopped at step %d: d_loss_zero", at);
    CHECK(code == health_exit_code(HEALTH_D_ZERO) && code == 11 && strstr(err, stopped),
          "stop: exit %d: %s", code, err);
}

/* What a rollback must restore exactly (the metadata holds the wall time: left out). */
static const char *const restored[] = {"G.0.weight",         "G.1.weight",       "D.0.weight",
                                       "D.0.weight.exp_avg", "G.1.running_mean", "fixed_z"};

TEST(health_nan_rollback_restores_the_exact_weights) {
    char err[8192], args[4600], a[4300], b[4300], why[128];
    const char *dir = test_tmpdir();
    const char *common = TINY " --steps 40 --checkpoint-every 10";
    snprintf(args, sizeof args, "train --out %s/clean %s", dir, common);
    CHECK(test_run_vkgan("", args, err, sizeof err) == 0, "the clean run failed: %s", err);
    snprintf(args, sizeof args,
             "train --out %s/rolled %s --on-failure rollback --rollback-lr-scale 1", dir, common);
    int code = test_run_vkgan("VKGAN_FAULT=nan@25", args, err, sizeof err);
    CHECK(code == 0, "the rolled-back run: exit %d: %s", code, err);
    snprintf(a, sizeof a, "%s/rolled", dir);
    int n;
    cJSON *ev = NULL;
    int at = event_step(a, "nonfinite", &n, NULL);
    CHECK(at == 25 && n == 1, "nonfinite at step %d (%d events)", at, n);
    at = event_step(a, "rollback", &n, &ev);
    double to = ev ? cJSON_GetObjectItemCaseSensitive(ev, "to_step")->valuedouble : -1;
    cJSON_Delete(ev);
    CHECK(at == 25 && n == 1 && to == 20, "rollback at %d to step %g", at, to);
    snprintf(a, sizeof a, "%s/rolled/checkpoints/step-000000040.safetensors", dir);
    snprintf(b, sizeof b, "%s/clean/checkpoints/step-000000040.safetensors", dir);
    CHECK(test_same_tensors(a, b, restored, 6, NULL, 0, why, sizeof why),
          "after the rollback the run is not the clean one: %s", why);
    /* the checkpoint it went back to is written again with the state the run went on from: the
     * health history forgotten after step 20 (a run resumed from it judges as this one did) */
    snprintf(a, sizeof a, "%s/rolled/checkpoints/step-000000020.safetensors", dir);
    vkg_safetensors *st = vkg_safetensors_read(a);
    const char *health = st ? vkg_safetensors_meta(st, "vkgan.health") : NULL;
    CHECK(health && strncmp(health, "20 h1 0 0 ", 10) == 0, "its health state: %s",
          health ? health : "(none)");
    vkg_safetensors_free(st);
}

TEST(health_rollback_limit_then_stop_and_lower_rates) {
    char err[8192], args[4600], run[4300];
    const char *dir = test_tmpdir();
    /* two NaNs: the first rolled back (rates halved), the second over --max-rollbacks 1 */
    snprintf(args, sizeof args,
             "train --out %s/run " TINY " --steps 60 --checkpoint-every 10 --on-failure rollback "
             "--max-rollbacks 1",
             dir);
    int code = test_run_vkgan("VKGAN_FAULT=nan@15,nan@35", args, err, sizeof err);
    CHECK(code == health_exit_code(HEALTH_NONFINITE) && code == 10, "exit %d: %s", code, err);
    snprintf(run, sizeof run, "%s/run", dir);
    int n;
    cJSON *ev = NULL;
    event_step(run, "rollback", &n, &ev);
    double lr = ev ? cJSON_GetObjectItemCaseSensitive(ev, "lr_d")->valuedouble : -1;
    cJSON_Delete(ev);
    CHECK(n == 1 && fabs(lr - 1e-4) < 1e-12, "%d rollbacks, D's rate then %g", n, lr);
    CHECK(event_step(run, "nonfinite", &n, NULL) == 15 && n == 2, "%d nonfinite events", n);
    CHECK(strstr(err, "again after the last rollback") != NULL, "stderr: %s", err);
}

TEST(health_bad_policy_and_fault_are_one_line_errors) {
    char err[4096], args[4400];
    snprintf(args, sizeof args, "train --on-failure panic --steps 1 --out %s/a", test_tmpdir());
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 2 && strstr(err, "--on-failure panic: expected one of warn|stop|rollback"),
          "exit %d: %s", code, err);
    /* an unknown kind, a step that is not a whole number in range, more faults than kept */
    static const char *faults[] = {"boom@3", "nan@-1", "nan@99999999999999999999",
                                   "nan@",   "nan@1x", "nan@1,nan@2,nan@3,nan@4,nan@5"};
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) {
        char env[128];
        snprintf(env, sizeof env, "VKGAN_FAULT=%s", faults[i]);
        snprintf(args, sizeof args, "train " TINY " --steps 1 --out %s/b%zu", test_tmpdir(), i);
        code = test_run_vkgan(env, args, err, sizeof err);
        CHECK(code == 1 && strstr(err, env) && !strchr(strchr(err, '\n') + 1, '\n'),
              "%s: exit %d: %s", env, code, err);
    }
}
