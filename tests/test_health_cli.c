/* Quality in a real (tiny) Fashion-MNIST run with the shipped classifier: the checks logged in
 * metrics.jsonl, a collapsed G caught as mode_collapse at the check after it, vkgan score on a
 * checkpoint and on a grid PNG, and vkgan report's self-contained HTML. Through the binary, with
 * validation on. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

#define TINY "--g-width 4 --d-width 6 --latent 8 --batch 16 --log-every 5 --quiet --validation"

/* The quality lines of a run: their steps and FCDs (up to max); returns the count. */
static int quality_lines(const char *run, unsigned *steps, double *fcd, double *entropy, int max) {
    char path[4500];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *text = test_read_text(path);
    int n = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line && n < max;
         line = strtok(NULL, "\n")) {
        cJSON *row = cJSON_Parse(line);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(row, "fcd");
        if (cJSON_IsNumber(f)) {
            steps[n] = (unsigned)cJSON_GetObjectItemCaseSensitive(row, "step")->valuedouble;
            entropy[n] = cJSON_GetObjectItemCaseSensitive(row, "class_entropy")->valuedouble;
            fcd[n++] = f->valuedouble;
        }
        cJSON_Delete(row);
    }
    return n;
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}

TEST(health_quality_score_and_report) {
    char args[4600], out[8192], run[4400], path[4600];
    const char *dir = test_tmpdir();
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(args, sizeof args,
             "train --out %s " TINY " --steps 40 --health-every 20 --health-samples 64 "
             "--sample-every 20",
             run);
    int code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0, "training: exit %d: %s", code, out);
    unsigned steps[8];
    double fcd[8], entropy[8];
    int n = quality_lines(run, steps, fcd, entropy, 8);
    CHECK(n == 3 && steps[0] == 0 && steps[1] == 20 && steps[2] == 40, "%d quality lines", n);
    for (int i = 0; i < n; i++)
        CHECK(isfinite(fcd[i]) && fcd[i] > 0 && entropy[i] >= 0 && entropy[i] <= log(10) + 1e-6,
              "check %d: FCD %g, entropy %g", i, fcd[i], entropy[i]);

    snprintf(args, sizeof args,
             "score --checkpoint %s/checkpoints/step-000000040.safetensors --samples 64 "
             "--validation",
             run);
    code = test_run_vkgan_output("", args, out, sizeof out);
    double f = -1;
    const char *at = strstr(out, "FCD ");
    CHECK(code == 0 && at && sscanf(at, "FCD %lf", &f) == 1 && f > 0 && strstr(out, "64 samples"),
          "score --checkpoint: exit %d: %s", code, out);
    snprintf(args, sizeof args, "score --images %s/samples/step-000000040.png --validation", run);
    code = test_run_vkgan_output("", args, out, sizeof out);
    at = strstr(out, "FCD ");
    CHECK(code == 0 && at && sscanf(at, "FCD %lf", &f) == 1 && f > 0 && strstr(out, "16 samples"),
          "score --images: exit %d: %s", code, out);
    /* a collapsed G's grid, all black: its 16 images scored (were dropped as unused places) */
    float *black = test_alloc(sizeof(float) * 16 * 28 * 28);
    for (int i = 0; i < 16 * 28 * 28; i++) black[i] = -1;
    snprintf(path, sizeof path, "%s/black.png", run);
    CHECK(vkg_write_png_grid(path, black, 16, 1, 28, 28, 4) == 0, "%s", vkg_error());
    snprintf(args, sizeof args, "score --images %s/black.png", run);
    code = test_run_vkgan_output("", args, out, sizeof out);
    at = strstr(out, "diversity ");
    CHECK(code == 0 && strstr(out, "16 samples") && at && sscanf(at, "diversity %lf", &f) == 1 &&
              f >= 0,
          "score --images of an all-black grid: exit %d: %s", code, out);
    snprintf(args, sizeof args, "score --images %s/nothing-here.png", run);
    code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 1 && strstr(out, "nothing-here.png") && count(out, "\n") == 1,
          "a missing image: exit %d: %s", code, out);
    code = test_run_vkgan_output("", "score", out, sizeof out);
    CHECK(code == 2 && strstr(out, "--checkpoint"), "no arguments: exit %d: %s", code, out);

    snprintf(args, sizeof args, "report %s", run);
    code = test_run_vkgan_output("", args, out, sizeof out);
    snprintf(path, sizeof path, "%s/report.html", run);
    char *html = test_read_text(path);
    CHECK(code == 0 && html, "report: exit %d: %s", code, out);
    /* grids at steps 0, 20, 40 and the real images, all inline; four charts; nothing external */
    CHECK(count(html, "src=\"data:image/png;base64,") == 4, "%d embedded images",
          count(html, "src=\"data:image/png;base64,"));
    CHECK(count(html, "<svg") == 4 && strstr(html, "FCD"), "the charts are missing");
    CHECK(!strstr(html, "src=\"http") && !strstr(html, "href="), "the report refers outside");
    snprintf(args, sizeof args, "report %s/no-such-run", dir);
    code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 1 && strstr(out, "no-such-run") && count(out, "\n") == 1,
          "report of a missing run: exit %d: %s", code, out);
}

/* G's first layer zeroed (every sample the same) after step 20: the check at step 20 must
 * raise mode_collapse. */
TEST(health_collapsed_g_raises_mode_collapse) {
    char args[4600], out[8192], run[4400], path[4600];
    const char *dir = test_tmpdir();
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(args, sizeof args,
             "train --out %s " TINY " --steps 30 --health-every 10 --health-samples 64", run);
    int code = test_run_vkgan_output("VKGAN_FAULT=collapse@20", args, out, sizeof out);
    CHECK(code == 0, "training: exit %d: %s", code, out);
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *log = test_read_text(path);
    const char *ev = log ? strstr(log, "\"event\":\"mode_collapse\"") : NULL;
    CHECK(ev != NULL, "no mode_collapse event; the log:\n%s", log ? log : "");
    const char *line = ev;
    while (line > log && line[-1] != '\n') line--;
    unsigned step = 0;
    CHECK(sscanf(line, "{\"step\":%u", &step) == 1 && step == 20, "mode_collapse at step %u", step);
}

/* The check at the last step comes after the last progress line: the closing line reports it, so
 * the run's final FCD is on the terminal and not only in metrics.jsonl. */
TEST(health_done_line_names_the_final_fcd) {
    char args[4600], out[16384], run[4400];
    snprintf(run, sizeof run, "%s/run", test_tmpdir());
    snprintf(args, sizeof args,
             "train --out %s --g-width 4 --d-width 6 --latent 8 --batch 16 --log-every 5 "
             "--validation --steps 10 --health-every 10 --health-samples 16",
             run);
    int code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0, "training: exit %d: %s", code, out);
    unsigned steps[4];
    double fcd[4], entropy[4], shown = 0;
    int n = quality_lines(run, steps, fcd, entropy, 4);
    CHECK(n == 2 && steps[1] == 10, "%d quality lines", n);
    const char *done = strstr(out, "done: 10 steps in ");
    const char *at = done ? strstr(done, "; FCD ") : NULL;
    unsigned step = 0;
    CHECK(at && sscanf(at, "; FCD %lf (step %u)", &shown, &step) == 2, "no FCD on: %s",
          done ? done : out);
    CHECK(step == 10 && fabs(shown - fcd[1]) <= 0.005 + 1e-9 * fcd[1],
          "done line: FCD %g at step %u; metrics.jsonl: %g at step %u", shown, step, fcd[1],
          steps[1]);
}

/* The lines of a run's metrics.jsonl that hold no wall time: its quality checks and its events
 * (test memory). */
static char *judged_lines(const char *run) {
    char path[4500];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *text = test_read_text(path), *out = test_alloc(text ? strlen(text) + 1 : 1), *o = out;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        if (!strstr(line, "\"seconds\"")) o += sprintf(o, "%s\n", line);
    *o = 0;
    return out;
}

/* A run stopped at step 10 (its checkpoint there comes before its check there) and resumed to
 * step 30 judges as one that never stopped: G collapsed after step 20 raises mode_collapse at the
 * check at step 20 with the same bests. A resume used to forget the checks before it, and with
 * them the diversity a collapse falls from: no event. */
TEST(health_resumed_run_raises_the_events_of_one_that_never_stopped) {
    char args[4600], out[8192], straight[4400], resumed[4400];
    const char *dir = test_tmpdir();
    snprintf(straight, sizeof straight, "%s/straight", dir);
    snprintf(resumed, sizeof resumed, "%s/resumed", dir);
    const char *common = TINY " --health-every 10 --health-samples 64";
    snprintf(args, sizeof args, "train --out %s %s --steps 30", straight, common);
    int code = test_run_vkgan_output("VKGAN_FAULT=collapse@20", args, out, sizeof out);
    CHECK(code == 0, "the straight run: exit %d: %s", code, out);
    snprintf(args, sizeof args, "train --out %s %s --steps 10", resumed, common);
    code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0, "the first part: exit %d: %s", code, out);
    snprintf(args, sizeof args, "train --resume %s --steps 30 --quiet --validation", resumed);
    code = test_run_vkgan_output("VKGAN_FAULT=collapse@20", args, out, sizeof out);
    CHECK(code == 0, "the resume: exit %d: %s", code, out);
    const char *want = judged_lines(straight), *got = judged_lines(resumed);
    CHECK(strstr(want, "\"event\":\"mode_collapse\""), "no mode_collapse uninterrupted:\n%s", want);
    CHECK(strcmp(want, got) == 0, "checks and events after the resume:\n%s\nuninterrupted:\n%s",
          got, want);
}
