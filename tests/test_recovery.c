/* Crash safety through the binary: files crafted to break vkgan get one clear line, a failure
 * never leaves only a poisoned checkpoint, and a run directory can always be resumed, whatever
 * stopped it (SIGKILL before the first checkpoint, a stale temporary file, a second process). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "train/rundir.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

#define TINY                                                                                       \
    "--g-width 4 --d-width 6 --latent 8 --batch 16 --log-every 5 --classifier none --quiet "       \
    "--validation"
/* ring8 at its smallest: a run of it starts in well under a second */
#define RING "--data ring8 --batch 8 --mlp-hidden 8 --log-every 5 --quiet --validation"

/* Whether an error is one line (the report names what and where on it). */
static int one_line(const char *err) {
    const char *nl = strchr(err, '\n');
    return err[0] && (!nl || !nl[1]);
}

/* A file's bytes (test memory); *size of them. */
static unsigned char *read_bytes(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = test_alloc(*size + 1);
    *size = fread(b, 1, *size, f);
    fclose(f);
    return b;
}

/* Replaces `from` by `to` (not longer; padded with spaces, which JSON allows between tokens)
 * in a file's bytes, in place: a checkpoint's header edited without moving its data. */
static int patch_file(const char *path, const char *from, const char *to) {
    size_t size, n = strlen(from);
    unsigned char *b = read_bytes(path, &size);
    for (size_t i = 0; b && i + n <= size; i++) {
        if (memcmp(b + i, from, n) != 0) continue;
        memset(b + i, ' ', n);
        memcpy(b + i, to, strlen(to));
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(b, 1, size, f) == size;
        if (f) fclose(f);
        return ok ? 0 : -1;
    }
    return -1;
}

/* Issue 11, cases 1 and 2: a checkpoint whose data shape does not fit its model, and files that
 * vkgan train did not write, are one clear line from sample and score (was a heap overflow and
 * a SIGFPE). */
TEST(recovery_crafted_checkpoints_are_refused_by_name) {
    char err[8192], args[4600], ckpt[4300], empty[4300];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/run " TINY " --steps 2", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run failed (%d): %s", code, err);
    snprintf(ckpt, sizeof ckpt, "%s/run/checkpoints/step-000000002.safetensors", dir);
    CHECK(patch_file(ckpt, "\"0 1 28 28 0\"", "\"0 1 2 2 0\"") == 0, "no data shape in %s", ckpt);
    const char *commands[2] = {"sample --n 1 --out %s/s.png --checkpoint %s",
                               "score --samples 16 --checkpoint %s%s"};
    /* vkgan's CRC of its metadata catches the edit; without that key (a file another tool
     * wrote), the checks behind it do */
    snprintf(args, sizeof args, commands[0], dir, ckpt);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "metadata's CRC-32") && strstr(err, ckpt),
          "%s: exit %d: %s", args, code, err);
    CHECK(patch_file(ckpt, "\"vkgan.meta_crc32\"", "\"other.meta_crc32\"") == 0,
          "no vkgan.meta_crc32 in %s", ckpt);
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, commands[i], i ? "" : dir, ckpt);
        code = test_run_vkgan("", args, err, sizeof err);
        CHECK(code == 1 && one_line(err) && strstr(err, "vkgan.data_shape") && strstr(err, ckpt),
              "%s: exit %d: %s", args, code, err);
    }
    /* a NaN learning rate in the Adam state would poison every weight at the first step */
    CHECK(patch_file(ckpt, "\"G.adam\":\"0.000199999995", "\"G.adam\":\"nan") == 0,
          "no G.adam in %s", ckpt);
    snprintf(args, sizeof args, "train --resume %s/run --quiet --steps 4", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "G.adam") && strstr(err, ckpt),
          "resume from a NaN Adam state: exit %d: %s", code, err);
    /* the shipped classifier (a safetensors file of another kind), and a header of {} */
    static const unsigned char braces[16] = {8,   0,   0,   0,   0,   0,   0,   0,
                                             '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    test_write(dir, "empty.safetensors", braces, sizeof braces);
    snprintf(empty, sizeof empty, "%s/empty.safetensors", dir);
    const char *files[2] = {VKGAN_SOURCE_DIR "/assets/fashion-mnist-classifier.safetensors", empty};
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 2; i++) {
            snprintf(args, sizeof args, commands[i], i ? "" : dir, files[f]);
            code = test_run_vkgan("", args, err, sizeof err);
            CHECK(code == 1 && one_line(err) && strstr(err, files[f]) &&
                      strstr(err, "not a checkpoint written by vkgan train"),
                  "%s: exit %d: %s", args, code, err);
        }
}

/* A weight whose header shape is transposed (as many values, another shape) is refused by sample
 * as by a resume, not drawn from as if it were the model's. */
TEST(recovery_transposed_weight_is_refused_by_sample) {
    char err[8192], args[4600], ckpt[4300];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/run " RING " --steps 2", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run failed (%d): %s", code, err);
    snprintf(ckpt, sizeof ckpt, "%s/run/checkpoints/step-000000002.safetensors", dir);
    CHECK(patch_file(ckpt, "\"G.0.weight\":{\"dtype\":\"F32\",\"shape\":[16,8]",
                     "\"G.0.weight\":{\"dtype\":\"F32\",\"shape\":[8,16]") == 0,
          "no 16x8 G.0.weight in %s", ckpt);
    snprintf(args, sizeof args, "sample --n 4 --out %s/s.png --checkpoint %s", dir, ckpt);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "G.0.weight") && strstr(err, "another shape"),
          "sample from a transposed weight: exit %d: %s", code, err);
}

/* Case 3: an image of zero height among the images of a folder dataset is refused by name
 * (stb decodes by content, whatever the name says), by train and by score. */
TEST(recovery_zero_height_image_is_refused_by_name) {
    char err[8192], args[4600], sub[4300];
    const char *dir = test_tmpdir();
    snprintf(sub, sizeof sub, "%s/data/cats", dir);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
    CHECK(system(cmd) == 0, "mkdir %s", sub);
    static const char ppm[] = "P6\n4 0\n255\n";
    test_write(sub, "x.png", ppm, sizeof ppm - 1);
    snprintf(args, sizeof args, "train --data folder:%s/data --out %s/run " TINY " --steps 1", dir,
             dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "x.png"), "train: exit %d: %s", code, err);
    snprintf(args, sizeof args, "score --images %s/data", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "x.png"), "score: exit %d: %s", code, err);
}

/* The number of non-finite values in a checkpoint's G.0.weight and its Adam moments (-1: the
 * file does not read). */
static long nonfinite_in(const char *path) {
    vkg_safetensors *st = vkg_safetensors_read(path);
    if (!st) return -1;
    static const char *names[3] = {"G.0.weight", "G.0.weight.exp_avg", "G.0.weight.exp_avg_sq"};
    long bad = 0;
    for (int i = 0; i < 3; i++) {
        int nd;
        int64_t shape[4];
        const unsigned char *d = vkg_safetensors_get(st, names[i], VKG_F32, &nd, shape);
        size_t n = 1;
        for (int k = 0; d && k < nd; k++) n *= (size_t)shape[k];
        for (size_t j = 0; d && j < n; j++) {
            float v;
            memcpy(&v, d + 4 * j, 4);
            bad += !isfinite(v);
        }
    }
    vkg_safetensors_free(st);
    return bad;
}

/* A numeric member of the first metrics.jsonl line with "event": kind (-1: none). */
static double event_number(const char *run, const char *kind, const char *key) {
    char path[4400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *text = test_read_text(path);
    double v = -1;
    for (char *line = text ? strtok(text, "\n") : NULL; line && v < 0; line = strtok(NULL, "\n")) {
        cJSON *row = cJSON_Parse(line);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(row, "event");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(row, key);
        if (cJSON_IsString(e) && strcmp(e->valuestring, kind) == 0 && cJSON_IsNumber(n))
            v = n->valuedouble;
        cJSON_Delete(row);
    }
    return v;
}

/* Case 4: a NaN after step 12, logged every 5 steps. No checkpoint is written with it; the event
 * names the first step of its interval (11); the rollback goes to a checkpoint before that, even
 * when rotation (--keep 1) would have deleted it; the run then ends normally. */
TEST(recovery_rollback_never_restores_a_nan) {
    char err[8192], args[4600], run[4300], path[4400];
    const char *dir = test_tmpdir();
    const char *plans[2] = {"--checkpoint-every 1", "--checkpoint-every 5 --keep 1"};
    for (int p = 0; p < 2; p++) {
        snprintf(run, sizeof run, "%s/run%d", dir, p);
        snprintf(args, sizeof args, "train --out %s " TINY " --steps 30 %s --on-failure rollback",
                 run, plans[p]);
        int code = test_run_vkgan("VKGAN_FAULT=nan@12", args, err, sizeof err);
        CHECK(code == 0, "%s: exit %d: %s", plans[p], code, err);
        double since = event_number(run, "nonfinite", "since");
        double to = event_number(run, "rollback", "to_step");
        CHECK(since == 11 && to >= 0 && to < since, "%s: nonfinite since %g, rolled back to %g",
              plans[p], since, to);
        CHECK(p == 1 || strstr(err, "not written"), "no word of the refused checkpoint: %s", err);
        for (unsigned s = 0; s <= 30; s++) {
            snprintf(path, sizeof path, "%s/checkpoints/step-%09u.safetensors", run, s);
            if (access(path, F_OK) != 0) continue;
            long bad = nonfinite_in(path);
            CHECK(bad == 0, "%s: %s holds %ld non-finite values", plans[p], path, bad);
        }
        snprintf(path, sizeof path, "%s/checkpoints/step-000000030.safetensors", run);
        CHECK(access(path, F_OK) == 0, "%s: no final checkpoint", plans[p]);
    }
}

/* The step, loss and learning-rate columns of a metrics.csv (test memory): what a resume must
 * reproduce. */
static char *loss_columns(const char *path) {
    char *text = test_read_text(path), *out = test_alloc(text ? strlen(text) + 1 : 1), *o = out;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        int col = 0;
        for (char *p = line; *p; p++) {
            col += *p == ',';
            if (col == 0 || (col >= 4 && col <= 10)) *o++ = *p; /* step; loss_d .. lr_g */
        }
        *o++ = '\n';
    }
    *o = 0;
    return out;
}

/* Fails the test unless run folders `uninterrupted` and `resumed` logged the same steps and
 * losses; `what` names the case. */
static void check_same_losses(const char *uninterrupted, const char *resumed, const char *what) {
    char a[4500], b[4500];
    snprintf(a, sizeof a, "%s/metrics.csv", uninterrupted);
    snprintf(b, sizeof b, "%s/metrics.csv", resumed);
    const char *want = loss_columns(a), *got = loss_columns(b);
    CHECK(strcmp(want, got) == 0, "metrics %s:\n%s\nuninterrupted:\n%s", what, got, want);
}

/* A rollback run resumed after a rollback goes on as one that never stopped: the rollbacks made
 * and the learning rates they lowered are in its checkpoints (a resumed run went back to --lr
 * and counted from 0: "rollback 1 of 3" at 5e-05 where the run that never stopped said "2 of 3"
 * at 2.5e-05). */
TEST(recovery_resumed_rollback_run_goes_on_as_one_that_never_stopped) {
    char err[8192], args[4600], a[4400], b[4400];
    const char *common = RING " --checkpoint-every 5 --log-every 5 --on-failure rollback";
    snprintf(a, sizeof a, "%s/straight", test_tmpdir());
    snprintf(b, sizeof b, "%s/stopped", test_tmpdir());
    snprintf(args, sizeof args, "train --out %s %s --steps 40", a, common);
    int code = test_run_vkgan("VKGAN_FAULT=nan@12,nan@27", args, err, sizeof err);
    CHECK(code == 0 && strstr(err, "rollback 2 of 3"), "the straight run (%d): %s", code, err);
    snprintf(args, sizeof args, "train --out %s %s --steps 20", b, common);
    code = test_run_vkgan("VKGAN_FAULT=nan@12", args, err, sizeof err);
    CHECK(code == 0 && strstr(err, "rollback 1 of 3"), "the first part (%d): %s", code, err);
    snprintf(args, sizeof args, "train --resume %s --quiet --steps 40", b);
    code = test_run_vkgan("VKGAN_FAULT=nan@27", args, err, sizeof err);
    CHECK(code == 0 && strstr(err, "rollback 2 of 3"), "the resumed part (%d): %s", code, err);
    check_same_losses(a, b, "of a rollback run resumed after its first rollback");
}

/* A run killed (SIGKILL) as soon as a checkpoint exists, off the logging grid, with a torn last
 * line in its logs, resumes to the metrics an uninterrupted run writes: every line up to the
 * checkpoint was written before it, and the interval in progress is carried in it (the first line
 * after a resume averaged only the steps since, and lines written after the checkpoint's rename
 * were lost to a kill). */
TEST(recovery_metrics_after_a_kill_match_an_uninterrupted_run) {
    char err[8192], args[4600], path[4400];
    const char *dir = test_tmpdir();
    const char *common = RING " --checkpoint-every 7 --steps 30";
    snprintf(args, sizeof args, "train --out %s/straight %s", dir, common);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the straight run: exit %d: %s", code, err);
    snprintf(args, sizeof args, "train --out %s/killed %s", dir, common);
    pid_t pid = test_spawn_vkgan(args);
    snprintf(path, sizeof path, "%s/killed/checkpoints/step-000000014.safetensors", dir);
    int seen = test_wait_for_file(path, pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(seen == 0, "the run ended before its step-14 checkpoint");
    static const char *torn[2][2] = {{"metrics.jsonl", "{\"step\":3"}, {"metrics.csv", "3"}};
    for (int i = 0; i < 2; i++) { /* a line torn in its step (a full disk): read as step 3 */
        snprintf(path, sizeof path, "%s/killed/%s", dir, torn[i][0]);
        FILE *f = fopen(path, "a");
        CHECK(f && fputs(torn[i][1], f) >= 0 && fclose(f) == 0, "cannot append to %s", path);
    }
    snprintf(args, sizeof args, "train --resume %s/killed --quiet", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the resume: exit %d: %s", code, err);
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/straight", dir);
    snprintf(b, sizeof b, "%s/killed", dir);
    check_same_losses(a, b, "after the kill and resume");
}

/* Ctrl-C between logging steps writes a line for the steps since the last one (so a run left
 * stopped shows them) and a checkpoint carrying that interval still open: the resumed run replaces
 * the line, and its metrics are an uninterrupted run's (the line used to stay, and the next one
 * averaged only the steps after the stop). */
TEST(recovery_metrics_after_ctrl_c_match_an_uninterrupted_run) {
    char err[8192], args[4600], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/stopped " RING " --log-every 7 --steps 100000",
             dir);
    pid_t pid = test_spawn_vkgan(args);
    snprintf(path, sizeof path, "%s/stopped/metrics.csv", dir);
    int logged = test_wait_for_lines(path, 3, pid); /* header and two lines: step 14 at least */
    kill(pid, SIGINT);
    int status;
    waitpid(pid, &status, 0);
    CHECK(logged == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 130,
          "the run: logged %d, status %d", logged, status);
    unsigned step = 0;
    snprintf(path, sizeof path, "%s/stopped/checkpoints", dir);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) sscanf(e->d_name, "step-%9u.safetensors", &step);
    if (d) closedir(d);
    CHECK(step >= 14, "no checkpoint after Ctrl-C (step %u)", step);
    unsigned total = step / 7 * 7 + 10; /* the next line off the grid of 7 */
    snprintf(args, sizeof args, "train --resume %s/stopped --quiet --steps %u", dir, total);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the resume: exit %d: %s", code, err);
    snprintf(args, sizeof args, "train --out %s/straight " RING " --log-every 7 --steps %u", dir,
             total);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the uninterrupted run: exit %d: %s", code, err);
    char a[4400], b[4400], what[64];
    snprintf(a, sizeof a, "%s/straight", dir);
    snprintf(b, sizeof b, "%s/stopped", dir);
    snprintf(what, sizeof what, "after Ctrl-C at step %u and a resume", step);
    check_same_losses(a, b, what);
}

/* A run ended off the logging grid and extended with --steps logs what a longer run logs: its
 * checkpoint carries the interval its last (partial) line closed, the resume drops that line, and
 * the next one averages the whole interval (it used to average only the steps after the end). */
TEST(recovery_metrics_of_an_extended_run_match_a_longer_run) {
    char err[8192], args[4600], a[4400], b[4400];
    const char *dir = test_tmpdir();
    snprintf(a, sizeof a, "%s/straight", dir);
    snprintf(b, sizeof b, "%s/extended", dir);
    const char *common = RING " --log-every 25 --lr-d 0.005 --lr-g 0.005";
    snprintf(args, sizeof args, "train --out %s %s --steps 60", a, common);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the longer run: exit %d: %s", code, err);
    snprintf(args, sizeof args, "train --out %s %s --steps 40", b, common);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the first run: exit %d: %s", code, err);
    snprintf(args, sizeof args, "train --resume %s --steps 60 --quiet", b);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the extension: exit %d: %s", code, err);
    check_same_losses(a, b, "after --steps 40 and an extension to 60");
}

/* The loss lines' steps of a run's metrics.jsonl, one a line (test memory). */
static char *jsonl_loss_steps(const char *run) {
    char path[4500];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *text = test_read_text(path), *out = test_alloc(text ? strlen(text) + 1 : 1), *o = out;
    unsigned step;
    *o = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        if (strstr(line, "\"loss_d\"") && sscanf(line, "{\"step\":%u", &step) == 1)
            o += sprintf(o, "%u\n", step);
    return out;
}

/* Lines of the metrics logs that are no record (random bytes, a line cut short in the middle) are
 * dropped by a resume with one warning naming the file, and the good lines after them are kept
 * (the first such line used to end the log, and a cut-short one was kept as it was). A log
 * that is random bytes from end to end is named too. */
TEST(recovery_damaged_metrics_lines_are_dropped_with_a_warning) {
    char err[8192], args[4600], run[4400], path[4500];
    const char *dir = test_tmpdir();
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(args, sizeof args, "train --out %s " RING " --steps 20", run);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: exit %d: %s", code, err);
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    char *log = test_read_text(path);
    char *second = log ? strchr(log, '\n') : NULL;
    CHECK(second && strlen(second) > 40, "metrics.jsonl: %s", log ? log : "(none)");
    /* line 2: random bytes; line 3 (the step-10 line) cut short */
    static const char junk[] = "\x01\xff\x00garbage\x7f\n";
    char *third = strchr(second + 1, '\n');
    size_t head = (size_t)(second + 1 - log);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(log, 1, head, f) == head && fwrite(junk, 1, sizeof junk - 1, f) &&
              fwrite(second + 1, 1, 20, f) == 20 && fputs(third, f) >= 0 && fclose(f) == 0,
          "cannot write %s", path);
    snprintf(args, sizeof args, "train --resume %s --steps 30 --quiet", run);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && one_line(err) && strstr(err, "metrics.jsonl: 2 damaged lines") &&
              strstr(err, "line 2"),
          "the resume: exit %d: %s", code, err);
    const char *steps = jsonl_loss_steps(run);
    CHECK(strcmp(steps, "5\n15\n20\n25\n30\n") == 0, "loss lines kept:\n%s", steps);

    static const unsigned char noise[] = {0x9b, 0x00, 0x37, 0xfe, 0x22, 0x7b, 0x0a, 0xc3, 0x11};
    test_write(run, "metrics.jsonl", noise, sizeof noise);
    snprintf(args, sizeof args, "train --resume %s --steps 40 --quiet", run);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && one_line(err) && strstr(err, "metrics.jsonl: 2 damaged lines"),
          "the resume of a log of random bytes: exit %d: %s", code, err);
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    char *csv = test_read_text(path);
    CHECK(csv && strstr(csv, "\n30,") && strstr(csv, "\n40,"), "metrics.csv: %s", csv);
}

/* Case 5 and 6: a run killed (SIGKILL) before its first checkpoint resumes from step 0, exactly
 * as a run that never stopped; stale temporary files of atomic writes are removed; --out of the
 * same directory gives advice that works. */
TEST(recovery_killed_before_the_first_checkpoint_resumes) {
    char err[8192], args[4600], run[4300], path[4400], why[200];
    const char *dir = test_tmpdir();
    snprintf(run, sizeof run, "%s/killed", dir);
    snprintf(args, sizeof args, "train --out %s " RING " --steps 100000 --checkpoint-every 100000",
             run);
    pid_t pid = test_spawn_vkgan(args);
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    int logged = test_wait_for_lines(path, 3, pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(logged == 0, "the run ended before it logged two lines");
    snprintf(path, sizeof path, "%s/checkpoints", run);
    test_write(path, "step-000000005.safetensors.tmp99999", "torn", 4); /* as a kill leaves */
    test_write(run, "config.json.tmp4242", "{", 1);

    snprintf(args, sizeof args, "train --out %s " RING " --steps 20", run);
    int code = test_run_vkgan("", args, err, sizeof err);
    char advice[PATH_MAX + 32]; /* the command as it was run, so pasting it works */
    snprintf(advice, sizeof advice, "'%s train --resume", test_vkgan_path());
    CHECK(code == 1 && one_line(err) && strstr(err, advice), "same --out: exit %d: %s", code, err);
    snprintf(args, sizeof args, "train --resume %s --steps 20 --quiet", run);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "resume without a checkpoint: exit %d: %s", code, err);
    snprintf(path, sizeof path, "%s/checkpoints/step-000000005.safetensors.tmp99999", run);
    CHECK(access(path, F_OK) != 0, "the stale temporary checkpoint is still there");
    snprintf(path, sizeof path, "%s/config.json.tmp4242", run);
    CHECK(access(path, F_OK) != 0, "the stale temporary config is still there");

    snprintf(args, sizeof args, "train --out %s/straight " RING " --steps 20", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the straight run: exit %d: %s", code, err);
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/checkpoints/step-000000020.safetensors", run);
    snprintf(b, sizeof b, "%s/straight/checkpoints/step-000000020.safetensors", dir);
    static const char *const names[] = {"G.0.weight", "G.0.weight.exp_avg", "D.0.weight",
                                        "D.0.weight.exp_avg_sq", "fixed_z"};
    static const char *const keys[] = {"step", "batches_drawn", "G.adam", "D.adam"};
    CHECK(test_same_tensors(a, b, names, 5, keys, 4, why, sizeof why),
          "resumed from step 0 and straight: %s", why);
    snprintf(a, sizeof a, "%s/metrics.csv", run);
    snprintf(b, sizeof b, "%s/straight/metrics.csv", dir);
    char *ta = test_read_text(a), *tb = test_read_text(b);
    int la = 0, lb = 0;
    for (char *p = ta; p && *p; p++) la += *p == '\n';
    for (char *p = tb; p && *p; p++) lb += *p == '\n';
    CHECK(la == 5 && lb == 5, "metrics.csv lines: resumed %d, straight %d (header + 4)", la, lb);

    /* a directory left by a run killed before its config.json: a new run may take it */
    snprintf(run, sizeof run, "%s/early", dir);
    char mkdir[8800];
    snprintf(mkdir, sizeof mkdir, "mkdir -p '%s/samples' '%s/checkpoints'", run, run);
    CHECK(system(mkdir) == 0, "mkdir");
    test_write(run, "train.lock", "1\n", 2);
    snprintf(args, sizeof args, "train --out %s " RING " --steps 2", run);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "a new run in what a killed start left: exit %d: %s", code, err);
    /* a folder of someone else's files is not taken, and the message does not say --resume */
    snprintf(run, sizeof run, "%s/notes", dir);
    snprintf(mkdir, sizeof mkdir, "mkdir -p '%s/samples'", run);
    CHECK(system(mkdir) == 0, "mkdir");
    test_write(run, "todo.txt", "x", 1);
    snprintf(args, sizeof args, "train --out %s " RING " --steps 2", run);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && !strstr(err, "--resume") && strstr(err, run),
          "someone else's folder: exit %d: %s", code, err);
}

/* Case 5, the other way to end before a checkpoint: --on-failure stop names the checkpoint from
 * before the failure, and it exists (a step-0 one when the failure comes first). */
TEST(recovery_stop_names_a_checkpoint_that_exists) {
    char err[8192], args[4600], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/run " TINY " --steps 20 --on-failure stop", dir);
    int code = test_run_vkgan("VKGAN_FAULT=nan@3", args, err, sizeof err);
    snprintf(path, sizeof path, "%s/run/checkpoints/step-000000000.safetensors", dir);
    CHECK(code == 10 && strstr(err, path) && access(path, F_OK) == 0, "stop: exit %d: %s", code,
          err);
    snprintf(args, sizeof args, "train --resume %s/run --quiet", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "resume after the stop: exit %d: %s", code, err);
}

/* A damaged newest checkpoint (truncated, as a full disk or a broken copy leaves it; a folder in
 * its place) does not lock the run: the resume says so in one warning, renames it NAME.damaged and
 * continues from the newest one that loads, and training writes that step's checkpoint whole
 * again. With no checkpoint that loads, all are set aside and the run starts over from step 0,
 * with one warning naming the newest one's error. A run whose checkpoints
 * folder was removed gets it back before training, not a failure at its first checkpoint. */
TEST(recovery_damaged_newest_checkpoint_resumes_from_the_one_before) {
    char err[8192], args[4600], ckpt[3][4400], aside[4500];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/run " TINY " --steps 4 --checkpoint-every 2", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run failed (%d): %s", code, err);
    for (int i = 0; i < 3; i++)
        snprintf(ckpt[i], sizeof ckpt[i], "%s/run/checkpoints/step-00000000%d.safetensors", dir,
                 2 * i);
    /* one bit of the newest checkpoint's last weight flipped: its CRC-32 no longer matches */
    FILE *f = fopen(ckpt[2], "r+b");
    int byte = f && fseek(f, -1, SEEK_END) == 0 ? fgetc(f) : EOF;
    int flipped = byte != EOF && fseek(f, -1, SEEK_END) == 0 && fputc(byte ^ 0x10, f) != EOF;
    if (f) fclose(f);
    CHECK(flipped, "cannot flip a bit of %s", ckpt[2]);
    /* a grid past the step resumed from is not the run's any more: dropped as the logs are */
    char stale[4400];
    snprintf(stale, sizeof stale, "%s/run/samples/step-000000099.png", dir);
    test_write(dir, "run/samples/step-000000099.png", "x", 1);
    snprintf(args, sizeof args, "train --resume %s/run --quiet --steps 6", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(access(stale, F_OK) != 0, "%s is left after the resume", stale);
    snprintf(aside, sizeof aside, "%s.damaged", ckpt[2]);
    CHECK(code == 0 && one_line(err) && strstr(err, "warning") && strstr(err, ckpt[2]) &&
              strstr(err, "CRC-32") && strstr(err, ckpt[1]) && access(aside, F_OK) == 0,
          "resume past a checkpoint with a flipped bit: exit %d: %s", code, err);
    snprintf(args, sizeof args, "sample --n 1 --out %s/s.png --checkpoint %s", dir, ckpt[2]);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "step 4's checkpoint after the resume: exit %d: %s", code, err);
    /* steps 3 and 4 ran again: the metrics are an uninterrupted run's, no line twice */
    snprintf(args, sizeof args, "train --out %s/straight " TINY " --steps 6 --checkpoint-every 2",
             dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the uninterrupted run failed (%d): %s", code, err);
    char resumed[4400], straight[4400];
    snprintf(resumed, sizeof resumed, "%s/run", dir);
    snprintf(straight, sizeof straight, "%s/straight", dir);
    check_same_losses(straight, resumed, "after the fallback");
    if (test_failed()) return;
    /* a folder where the newest checkpoint should be, its .damaged name taken by a folder kept
     * before: set aside as .damaged.2, and step 6 written again */
    snprintf(ckpt[0], sizeof ckpt[0], "%s/straight/checkpoints/step-000000006.safetensors", dir);
    snprintf(aside, sizeof aside, "%s.damaged", ckpt[0]);
    CHECK(unlink(ckpt[0]) == 0 && mkdir(ckpt[0], 0777) == 0 && mkdir(aside, 0777) == 0,
          "cannot make %s a folder", ckpt[0]);
    test_write(aside, "kept", "x", 1);
    snprintf(args, sizeof args, "train --resume %s/straight --quiet --steps 8", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    struct stat st;
    snprintf(aside, sizeof aside, "%s.damaged.2", ckpt[0]);
    CHECK(code == 0 && stat(ckpt[0], &st) == 0 && S_ISREG(st.st_mode) && stat(aside, &st) == 0 &&
              S_ISDIR(st.st_mode),
          "resume past a folder in a checkpoint's place: exit %d: %s", code, err);
    /* a folder in an older checkpoint's place: set aside when rotation drops it, not a failure */
    snprintf(ckpt[0], sizeof ckpt[0], "%s/straight/checkpoints/step-000000004.safetensors", dir);
    CHECK(unlink(ckpt[0]) == 0 && mkdir(ckpt[0], 0777) == 0, "cannot make %s a folder", ckpt[0]);
    snprintf(args, sizeof args, "train --resume %s/straight --quiet --steps 10", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(aside, sizeof aside, "%s.damaged", ckpt[0]);
    CHECK(code == 0 && access(ckpt[0], F_OK) != 0 && access(aside, F_OK) == 0,
          "rotation past a folder in an older checkpoint's place: exit %d: %s", code, err);
    /* no checkpoints folder at all: made again, the run starts over and writes its checkpoints */
    snprintf(args, sizeof args, "rm -rf '%s/straight/checkpoints'", dir);
    CHECK(system(args) == 0, "cannot remove the checkpoints folder");
    snprintf(args, sizeof args, "train --resume %s/straight --quiet --steps 2", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(ckpt[0], sizeof ckpt[0], "%s/straight/checkpoints/step-000000002.safetensors", dir);
    CHECK(code == 0 && access(ckpt[0], F_OK) == 0 && strstr(err, "warning") &&
              strstr(err, "logged to step 10 are dropped"),
          "resume without a checkpoints folder: exit %d: %s", code, err);
    /* resumed at its --steps already: it says there is nothing to train */
    char out[8192];
    snprintf(args, sizeof args, "train --resume %s/straight --steps 2", dir);
    code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0 && strstr(out, "nothing to train"), "a finished run resumed: exit %d: %s", code,
          out);
    /* every checkpoint damaged: the newest's error, one line, and nothing resumed */
    snprintf(args, sizeof args, "train --out %s/all " TINY " --steps 4 --checkpoint-every 2", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the second run failed (%d): %s", code, err);
    for (int i = 0; i < 2; i++) {
        snprintf(ckpt[i], sizeof ckpt[i], "%s/all/checkpoints/step-00000000%d.safetensors", dir,
                 2 * i + 2);
        CHECK(truncate(ckpt[i], 100) == 0, "cannot truncate %s", ckpt[i]);
    }
    snprintf(stale, sizeof stale, "%s/all/samples/step-000000099.png", dir);
    test_write(dir, "all/samples/step-000000099.png", "x", 1);
    snprintf(args, sizeof args, "train --resume %s/all --quiet --steps 6", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(access(stale, F_OK) != 0, "the start-over left %s", stale);
    char aside2[4500];
    snprintf(aside, sizeof aside, "%s.damaged", ckpt[0]);
    snprintf(aside2, sizeof aside2, "%s.damaged", ckpt[1]);
    CHECK(code == 0 && one_line(err) && strstr(err, "warning") && strstr(err, ckpt[1]) &&
              strstr(err, "2 checkpoints set aside") && strstr(err, "from step 0") &&
              access(aside, F_OK) == 0 && access(aside2, F_OK) == 0,
          "resume with no loadable checkpoint: exit %d: %s", code, err);
    /* it began again exactly as it began: an uninterrupted run's losses */
    snprintf(args, sizeof args, "train --out %s/all6 " TINY " --steps 6 --checkpoint-every 2", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the uninterrupted run failed (%d): %s", code, err);
    snprintf(resumed, sizeof resumed, "%s/all", dir);
    snprintf(straight, sizeof straight, "%s/all6", dir);
    check_same_losses(straight, resumed, "after starting over");
}

/* A checkpoint that holds a NaN under a CRC-32 that matches (made or altered elsewhere) is
 * refused by every command that reads it, in one line naming it, and a resume treats it as a
 * damaged one: set aside, and on from the newest one before it. */
TEST(recovery_nonfinite_checkpoint_is_refused_and_resumed_past) {
    char err[8192], args[4600], ckpt[2][4400], aside[4500];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args, "train --out %s/run " TINY " --steps 4 --checkpoint-every 2", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run failed (%d): %s", code, err);
    for (int i = 0; i < 2; i++)
        snprintf(ckpt[i], sizeof ckpt[i], "%s/run/checkpoints/step-00000000%d.safetensors", dir,
                 2 * i + 2);
    CHECK(test_poison_safetensors(ckpt[1]) == 0, "cannot poison %s", ckpt[1]);
    snprintf(args, sizeof args, "sample --n 1 --out %s/s.png --checkpoint %s", dir, ckpt[1]);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, ckpt[1]) && strstr(err, "non-finite"),
          "sample from a checkpoint holding a NaN: exit %d: %s", code, err);
    snprintf(args, sizeof args, "train --resume %s/run --quiet --steps 6", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(aside, sizeof aside, "%s.damaged", ckpt[1]);
    CHECK(code == 0 && one_line(err) && strstr(err, "warning") && strstr(err, ckpt[1]) &&
              strstr(err, "non-finite") && strstr(err, ckpt[0]) && access(aside, F_OK) == 0,
          "resume past a checkpoint holding a NaN: exit %d: %s", code, err);
}

/* A run's config.json as written, its run-directory paths ("out", "resume") left out. */
static char *config_without_paths(const char *run) {
    char path[4400];
    snprintf(path, sizeof path, "%s/config.json", run);
    char *text = test_read_text(path), *printed = NULL;
    cJSON *j = text ? cJSON_Parse(text) : NULL, *o = cJSON_GetObjectItemCaseSensitive(j, "options");
    if (o) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "out");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "resume");
        printed = cJSON_PrintUnformatted(j);
    }
    char *copy = test_alloc(printed ? strlen(printed) + 1 : 1);
    strcpy(copy, printed ? printed : "");
    free(printed);
    cJSON_Delete(j);
    return copy;
}

/* A damaged, missing or altered config.json is no dead end: every checkpoint carries the run's
 * options, so the resume takes them from the newest that reads (one warning naming both files),
 * keeps the damaged file as config.json.damaged (.2, ...) and writes the config.json a plain
 * resume writes; report says so. A FIFO in its place is no hang. Without a checkpoint to read,
 * the resume is one line naming config.json. */
TEST(recovery_damaged_config_resumes_from_a_checkpoint) {
    char err[8192], args[9000], a[4300], b[4300], path[4400], aside[4500];
    snprintf(a, sizeof a, "%s/a", test_tmpdir());
    snprintf(b, sizeof b, "%s/b", test_tmpdir());
    snprintf(args, sizeof args, "train --out %s " RING " --steps 4 --checkpoint-every 2", a);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run failed (%d): %s", code, err);
    snprintf(args, sizeof args, "cp -r '%s' '%s'", a, b);
    CHECK(system(args) == 0, "cannot copy the run directory");
    snprintf(path, sizeof path, "%s/config.json", b);
    snprintf(aside, sizeof aside, "%s.damaged", path);
    static const char damaged[] = "{\"options\": {\"batch\": 8,";
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(damaged, f) >= 0 && fclose(f) == 0, "cannot damage %s", path);
    snprintf(args, sizeof args, "report %s --out %s/r.html", b, test_tmpdir());
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, path) && strstr(err, "train --resume"),
          "report of a run with a damaged config.json (%d): %s", code, err);
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "train --resume %s --quiet --steps %d", i ? b : a, 6);
        code = test_run_vkgan("", args, err, sizeof err);
        CHECK(code == 0, "resume %s (%d): %s", i ? "with config.json damaged" : "", code, err);
    }
    CHECK(one_line(err) && strstr(err, "warning") && strstr(err, path) &&
              strstr(err, "step-000000004.safetensors"),
          "no one warning names config.json and the checkpoint: %s", err);
    char *kept = test_read_text(aside), *want = config_without_paths(a);
    CHECK(kept && strcmp(kept, damaged) == 0, "the damaged config.json was not kept aside");
    CHECK(want[0] && strcmp(config_without_paths(b), want) == 0,
          "the config.json written again differs from a plain resume's");
    CHECK(unlink(path) == 0, "cannot remove %s", path);
    snprintf(args, sizeof args, "train --resume %s --quiet --steps 8 --batch 16", b);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 2 && strstr(err, "--batch") && strstr(err, "step-000000006.safetensors"),
          "a changed option against the checkpoint's (%d): %s", code, err);
    snprintf(args, sizeof args, "train --resume %s --quiet --steps 8", b);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && strstr(err, "missing") && access(path, F_OK) == 0,
          "resume without config.json (%d): %s", code, err);
    /* a FIFO in its place is no wait for a writer; the warning names the name it is kept as */
    CHECK(unlink(path) == 0 && mkfifo(path, 0644) == 0, "cannot make a FIFO at %s", path);
    snprintf(args, sizeof args, "report %s --out %s/r.html", b, test_tmpdir());
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "not a regular file"), "report (%d): %s", code, err);
    snprintf(args, sizeof args, "train --resume %s --quiet --steps 10", b);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && strstr(err, "not a regular file") && strstr(err, "config.json.damaged.2"),
          "resume with a FIFO for config.json (%d): %s", code, err);
    /* one that reads but is not the run's (edited, or another run's): the checkpoints' options */
    /* (its total, raised by a resume, is kept: config.json is the newest record of it) */
    CHECK(patch_file(path, "0.0002", "0.0003") == 0 &&
              patch_file(path, "\"steps\":\t10", "\"steps\":\t12") == 0,
          "no lr or steps in %s", path);
    snprintf(args, sizeof args, "train --resume %s --quiet", b);
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(aside, sizeof aside, "%s/checkpoints/step-000000012.safetensors", b);
    CHECK(code == 0 && one_line(err) && strstr(err, "does not match") && strstr(err, "--lr") &&
              strstr(config_without_paths(b), "0.0002") && access(aside, F_OK) == 0,
          "resume with an edited config.json (%d): %s", code, err);
    /* a total edited below the run's step is not blamed on a --steps never given */
    CHECK(patch_file(path, "\"steps\":\t12", "\"steps\":\t4") == 0, "no steps in %s", path);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 2 && one_line(err) && !strstr(err, "--steps 4") && strstr(err, "its config.json"),
          "resume with a total below the step (%d): %s", code, err);
    f = fopen(path, "w");
    CHECK(f && fputs("[", f) >= 0 && fclose(f) == 0, "cannot damage %s", path);
    snprintf(args, sizeof args, "rm -f '%s'/checkpoints/*", b);
    CHECK(system(args) == 0, "cannot remove the checkpoints");
    snprintf(args, sizeof args, "report %s --out %s/r.html", b, test_tmpdir());
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, path) && !strstr(err, "train --resume"),
          "report of a run with no checkpoint to rebuild config.json (%d): %s", code, err);
    snprintf(args, sizeof args, "train --resume %s --quiet --steps 14", b);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, path) && strstr(err, "no checkpoint"),
          "a damaged config.json and no checkpoint (%d): %s", code, err);
    /* without it, a run that logged steps did not stop before it began: it is not started over
     * (which appended a new run's metrics to the old ones) */
    CHECK(unlink(path) == 0, "cannot remove %s", path);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "cannot be resumed"),
          "no config.json and no checkpoint (%d): %s", code, err);
    snprintf(args, sizeof args, "train --out %s " RING " --steps 2", b);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && one_line(err) && strstr(err, "not the start of a vkgan run"),
          "a new run into what is left of one (%d): %s", code, err);
}

/* An older checkpoint that no longer reads whole (a damaged disk, a broken copy) does not count
 * toward --keep: rotation sets it aside and keeps the newest that do, where it deleted a good
 * one and kept the damaged one. */
TEST(recovery_rotation_keeps_checkpoints_that_read) {
    char err[8192], args[4600], ckpt[4][4400], aside[4500];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --out %s/run " TINY " --steps 6 --checkpoint-every 2 --keep 3", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run failed (%d): %s", code, err);
    for (int i = 0; i < 4; i++)
        snprintf(ckpt[i], sizeof ckpt[i], "%s/run/checkpoints/step-00000000%d.safetensors", dir,
                 2 * i + 2);
    CHECK(truncate(ckpt[1], 100) == 0, "cannot truncate %s", ckpt[1]);
    snprintf(args, sizeof args, "train --resume %s/run --quiet --steps 8", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(aside, sizeof aside, "%s.damaged", ckpt[1]);
    CHECK(code == 0 && one_line(err) && strstr(err, "did not read whole") &&
              access(ckpt[0], F_OK) == 0 && access(ckpt[2], F_OK) == 0 &&
              access(ckpt[3], F_OK) == 0 && access(ckpt[1], F_OK) != 0 && access(aside, F_OK) == 0,
          "rotation past a damaged checkpoint: exit %d: %s", code, err);
}

/* Case 7: a second process on a run directory is refused with the holder's PID; the lock goes
 * with its holder. */
TEST(recovery_second_process_is_refused_with_the_holders_pid) {
    char err[8192], args[4600], run[4300], lock[4400];
    const char *dir = test_tmpdir();
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(args, sizeof args, "train --out %s " RING " --steps 5", run);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: exit %d: %s", code, err);
    snprintf(lock, sizeof lock, "%s/train.lock", run);
    int fd = open(lock, O_RDWR);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "cannot take %s", lock);
    CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, "4242\n", 5, 0) == 5, "cannot write %s", lock);
    snprintf(args, sizeof args, "train --resume %s --steps 10 --quiet", run);
    code = test_run_vkgan("", args, err, sizeof err);
    close(fd); /* as when the holder ends */
    CHECK(code == 1 && one_line(err) && strstr(err, "in use by another vkgan train (PID 4242)"),
          "second process: exit %d: %s", code, err);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "after the holder ended: exit %d: %s", code, err);
}

/* Two runs started in the same second without --out: the default name of the second is not the
 * first's (which it would be refused as "already exists"): -2, -3, ... taken with one mkdir each,
 * so two processes never take the same. */
TEST(recovery_default_run_names_never_collide) {
    char base[4300], got[4400], want[4400];
    snprintf(base, sizeof base, "%s/runs/ring8-20260101-120000", test_tmpdir());
    CHECK(rundir_claim_new(base, got, sizeof got) == 0 && strcmp(got, base) == 0, "first: %s", got);
    for (int n = 2; n <= 3; n++) { /* the name taken (by a run started in the same second) */
        snprintf(want, sizeof want, "%s-%d", base, n);
        CHECK(rundir_claim_new(base, got, sizeof got) == 0 && strcmp(got, want) == 0,
              "claim %d: %s, not %s", n, got, want);
        struct stat st;
        CHECK(stat(got, &st) == 0 && S_ISDIR(st.st_mode), "%s was not made", got);
        CHECK(rundir_check_new(got) == 0, "%s is not a new run's: %s", got, vkg_error());
    }
}
