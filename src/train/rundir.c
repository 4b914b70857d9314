/* The run directory (see rundir.h). Every file but the append-only metrics logs is written
 * atomically; the logs are cut back to the resumed checkpoint's step when a run continues. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/rundir.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

static int make_dir(const char *path) {
    struct stat st;
    if (mkdir(path, 0777) == 0) return 0;
    if (errno != EEXIST)
        return vkg_set_error("cannot create the directory %s: %s", path, strerror(errno));
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    return vkg_set_error("%s is not a directory: move it aside", path);
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return vkg_set_error("path too long: %s", path);
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (make_dir(buf) < 0) return -1;
            *p = '/';
        }
    return make_dir(buf);
}

static unsigned last_logged_step(const char *path);

static int latest_step(const cJSON *row, unsigned step, const char *event, void *user) {
    (void)row, (void)event;
    unsigned *latest = user;
    if (step > *latest) *latest = step;
    return 0;
}

/* Whether DIR records training past step 0: a metrics line or a sample grid after it. */
static int past_step_zero(const char *dir) {
    char path[4200];
    unsigned latest = 0;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (last_logged_step(path) > 0) return 1;
    if (vkg_metrics_read(dir, latest_step, &latest, NULL) == 0 && latest > 0) return 1;
    int count;
    unsigned *steps = rundir_steps(dir, "samples", "png", &count);
    for (int i = 0; i < count; i++) latest |= steps[i];
    free(steps);
    return latest > 0;
}

/* Whether DIR holds only what a new run writes before its config.json (the lock, the folders,
 * the first samples, temporary files), with no checkpoint and nothing logged past step 0: what
 * a run killed in its first moments leaves. 0 when DIR holds anything else. */
int rundir_is_start(const char *dir) {
    static const char *ours[] = {"train.lock", "samples",       "checkpoints",
                                 "reals.png",  "metrics.jsonl", "metrics.csv"};
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int ok = 1;
    while (ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            vkg_is_atomic_temporary(e->d_name))
            continue;
        int known = 0;
        for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
            known |= !strcmp(e->d_name, ours[i]);
        ok = known;
    }
    closedir(d);
    unsigned step;
    char path[4200];
    return ok && vkg_rundir_newest_checkpoint(dir, path, sizeof path, &step) < 0 &&
           !past_step_zero(dir);
}

/* The error for a --out that cannot be a new run, true to what DIR holds. */
static int taken(const char *dir) {
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return vkg_set_error("--out %s is %s, not a directory: choose another --out", dir,
                             S_ISREG(st.st_mode) ? "a file" : "a device, pipe or socket");
    char config[4200];
    snprintf(config, sizeof config, "%s/config.json", dir);
    if (access(config, F_OK) == 0)
        return vkg_set_error("the run directory %s already exists: continue it with "
                             "'%s train --resume %s' or choose another --out",
                             dir, vkg_program(), dir);
    return vkg_set_error("%s exists and holds files that are not the start of a vkgan run: "
                         "choose another --out",
                         dir);
}

int rundir_claim_new(const char *base, char *dir, size_t size) {
    char parent[4200];
    snprintf(parent, sizeof parent, "%s", base);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (make_dirs(parent) < 0) return -1;
    }
    for (int n = 1; n <= 1000; n++) {
        if ((size_t)snprintf(dir, size, n == 1 ? "%s" : "%s-%d", base, n) >= size)
            return vkg_set_error("path too long: %s", base);
        if (mkdir(dir, 0777) == 0) return 0; /* ours: another process's mkdir fails */
        if (errno != EEXIST)
            return vkg_set_error("cannot create the directory %s: %s", dir, strerror(errno));
    }
    return vkg_set_error("%s to %s-1000 are taken: give --out", base, base);
}

int rundir_check_new(const char *dir) {
    struct stat st;
    return stat(dir, &st) == 0 && !(S_ISDIR(st.st_mode) && rundir_is_start(dir)) ? taken(dir) : 0;
}

int rundir_create(const char *dir, int *lock) {
    *lock = -1;
    if (rundir_check_new(dir) < 0 || make_dirs(dir) < 0 || rundir_lock(dir, lock) < 0) return -1;
    /* checked again under the lock (which made the folders): another process may have started a
     * run here meanwhile */
    return rundir_is_start(dir) ? 0 : taken(dir);
}

/* Deletes the temporary files in DIR (not in its subfolders). */
static int remove_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0; /* not made yet */
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (vkg_is_atomic_temporary(e->d_name) && unlink(path) < 0 && errno != ENOENT)
            r = vkg_set_error("cannot delete the stale temporary file %s: %s", path,
                              strerror(errno));
    }
    closedir(d);
    return r;
}

int rundir_lock(const char *dir, int *lock) {
    char path[4200];
    snprintf(path, sizeof path, "%s/train.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return vkg_set_error("cannot open the lock file %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(fd);
        if (err == EWOULDBLOCK)
            return vkg_set_error("the run directory %s is in use by another vkgan train (PID %s): "
                                 "wait for it to end or stop it",
                                 dir, pid[0] ? pid : "unknown");
        return vkg_set_error("cannot lock %s: %s", path, strerror(err));
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int err = errno;
        close(fd);
        return vkg_set_error("cannot write the lock file %s: %s", path, strerror(err));
    }
    *lock = fd;
    /* the folders a run writes to, made again when something removed them (a resume would
     * otherwise train up to its first checkpoint and fail to write it) */
    const char *subs[3] = {"", "/samples", "/checkpoints"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", dir, subs[i]);
        if ((i && make_dir(path) < 0) || remove_temporaries(path) < 0) return -1;
    }
    return 0;
}

/* The step of the last line of a metrics.csv (0: none, or no file). */
static unsigned last_logged_step(const char *path) {
    FILE *f = vkg_open_regular(path);
    char line[512];
    unsigned long step = 0, s;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lu,", &s) == 1) step = s;
    if (f) fclose(f);
    return (unsigned)step;
}

int rundir_start_over(const char *dir) {
    static const char *logs[2] = {"metrics.csv", "metrics.jsonl"};
    unsigned logged = 0;
    for (int i = 0; i < 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, logs[i]);
        if (i == 0) logged = last_logged_step(path);
        if (unlink(path) < 0 && errno != ENOENT)
            return vkg_set_error("cannot delete %s: %s", path, strerror(errno));
    }
    return logged > INT_MAX ? INT_MAX : (int)logged;
}

void rundir_checkpoint_path(const char *dir, unsigned step, char *path, size_t size) {
    snprintf(path, size, "%s/checkpoints/step-%09u.safetensors", dir, step);
}

void rundir_sample_path(const char *dir, unsigned step, char *path, size_t size) {
    snprintf(path, size, "%s/samples/step-%09u.png", dir, step);
}

unsigned *rundir_steps(const char *dir, const char *folder, const char *ext, int *count) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, folder);
    *count = 0;
    DIR *d = opendir(path);
    if (!d) {
        vkg_set_error("%s: %s", path, strerror(errno));
        *count = -1;
        return NULL;
    }
    unsigned *steps = NULL;
    int cap = 0;
    size_t ext_len = strlen(ext);
    struct dirent *e;
    while ((e = readdir(d))) { /* step-NNNNNNNNN.EXT exactly */
        const char *n = e->d_name;
        if (strlen(n) != 15 + ext_len || strncmp(n, "step-", 5) != 0 ||
            strspn(n + 5, "0123456789") != 9 || n[14] != '.' || strcmp(n + 15, ext) != 0)
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            unsigned *grown = realloc(steps, sizeof *steps * (size_t)cap);
            if (!grown) break;
            steps = grown;
        }
        steps[(*count)++] = (unsigned)strtoul(n + 5, NULL, 10);
    }
    closedir(d);
    for (int i = 1; i < *count; i++) /* insertion sort: a handful of files */
        for (int j = i; j > 0 && steps[j - 1] > steps[j]; j--) {
            unsigned t = steps[j];
            steps[j] = steps[j - 1], steps[j - 1] = t;
        }
    return steps;
}

/* The checkpoints' steps, sorted ascending (malloc'd); *count of them (NULL when none). */
static unsigned *checkpoint_steps(const char *dir, int *count) {
    unsigned *steps = rundir_steps(dir, "checkpoints", "safetensors", count);
    if (!steps && *count == 0)
        vkg_set_error("%s/checkpoints holds no checkpoint (step-NNNNNNNNN.safetensors)", dir);
    if (*count < 0) *count = 0;
    return steps;
}

int rundir_drop_samples_after(const char *dir, long long step) {
    char folder[4200];
    struct stat st;
    snprintf(folder, sizeof folder, "%s/samples", dir);
    if (stat(folder, &st) != 0) return 0; /* none yet: made when the first grid is written */
    int n;
    unsigned *steps = rundir_steps(dir, "samples", "png", &n);
    int r = n < 0 ? -1 : 0;
    for (int i = 0; i < n && r == 0; i++) {
        char path[4200];
        rundir_sample_path(dir, steps[i], path, sizeof path);
        if ((long long)steps[i] > step && unlink(path) < 0 && errno != ENOENT)
            r = vkg_set_error("cannot delete %s: %s", path, strerror(errno));
    }
    free(steps);
    return r;
}

int vkg_rundir_newest_checkpoint(const char *dir, char *path, size_t size, unsigned *step) {
    return rundir_checkpoint_before(dir, UINT_MAX, path, size, step);
}

int vkg_rundir_checkpoint_before(const char *dir, unsigned before, char *path, size_t size,
                                 unsigned *step) {
    int n, i;
    unsigned *steps = checkpoint_steps(dir, &n);
    if (!steps) return -1;
    for (i = n - 1; i >= 0 && steps[i] >= before && before != UINT_MAX; i--) {
    }
    if (i >= 0) *step = steps[i];
    free(steps);
    if (i < 0)
        return vkg_set_error("%s/checkpoints holds no checkpoint before step %u", dir, before);
    rundir_checkpoint_path(dir, *step, path, size);
    return 0;
}

int rundir_set_aside(const char *path, char *kept, size_t size) {
    char aside[4300];
    struct stat st;
    for (int n = 1; n <= 100; n++) {
        snprintf(aside, sizeof aside, n == 1 ? "%s.damaged" : "%s.damaged.%d", path, n);
        if (lstat(aside, &st) == 0) continue;
        if (rename(path, aside) == 0) {
            if (kept) snprintf(kept, size, "%s", aside);
            return 0;
        }
        return vkg_set_error("cannot rename %s to %s: %s", path, aside, strerror(errno));
    }
    return vkg_set_error("cannot set %s aside: 100 damaged copies of it are kept already", path);
}

/* Deletes a checkpoint; a folder in its place is set aside instead. */
static int remove_checkpoint(const char *path) {
    if (unlink(path) == 0 || errno == ENOENT) return 0;
    if (errno == EISDIR) return rundir_set_aside(path, NULL, 0);
    return vkg_set_error("cannot delete %s: %s", path, strerror(errno));
}

int rundir_set_aside_checkpoints_after(const char *dir, long long step) {
    int n, moved = 0;
    unsigned *steps = checkpoint_steps(dir, &n);
    if (!steps) return -1;
    for (int i = 0; i < n && moved >= 0; i++) {
        char path[4200];
        rundir_checkpoint_path(dir, steps[i], path, sizeof path);
        if ((long long)steps[i] > step)
            moved = rundir_set_aside(path, NULL, 0) == 0 ? moved + 1 : -1;
    }
    free(steps);
    return moved;
}

int rundir_drop_checkpoints_after(const char *dir, unsigned step) {
    int n;
    unsigned *steps = checkpoint_steps(dir, &n);
    if (!steps) return -1;
    int r = 0;
    for (int i = 0; i < n; i++) {
        char path[4200];
        rundir_checkpoint_path(dir, steps[i], path, sizeof path);
        if (steps[i] > step && remove_checkpoint(path) < 0) r = -1;
    }
    free(steps);
    return r;
}

int rundir_checkpoint_reads(const char *path) {
    vkg_safetensors *st = vkg_safetensors_read(path);
    vkg_safetensors_free(st);
    return st != NULL;
}

int rundir_prune_checkpoints(const char *dir, int keep, unsigned protect) {
    int n, kept = 0, guarded = 0, aside = 0, r = 0;
    unsigned *steps = checkpoint_steps(dir, &n);
    if (!steps) return -1;
    /* from the newest (just written: taken as read) down: the newest `keep` that read whole and
     * the newest before `protect` that does stay; one that does not read is set aside (it would
     * only be set aside by a resume), the others older than those kept are deleted */
    for (int i = n - 1; i >= 0 && r == 0; i--) {
        char path[4200];
        rundir_checkpoint_path(dir, steps[i], path, sizeof path);
        int wanted = kept < keep || (!guarded && steps[i] < protect);
        if (!wanted) {
            r = remove_checkpoint(path);
        } else if (i == n - 1 || rundir_checkpoint_reads(path)) {
            if (kept < keep) kept++;
            if (steps[i] < protect) guarded = 1;
        } else {
            r = rundir_set_aside(path, NULL, 0);
            aside++;
        }
    }
    free(steps);
    return r < 0 ? -1 : aside;
}

/* The name within the run directory RUN (a real path) of TARGET (a real path) when the run owns
 * it (vkg_rundir_owns), else NULL. */
static const char *owned_name(const char *run, const char *target) {
    static const char *files[] = {"config.json", "metrics.jsonl", "metrics.csv", "train.lock",
                                  "reals.png",   "checkpoints",   "samples"};
    static const char *folders[] = {"checkpoints/step-", "samples/step-"};
    size_t n = strcmp(run, "/") == 0 ? 0 : strlen(run);
    if (strncmp(target, run, n) != 0 || target[n] != '/') return NULL;
    const char *name = target + n + 1;
    int owned = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) owned |= strcmp(name, files[i]) == 0;
    for (size_t i = 0; i < sizeof folders / sizeof *folders; i++)
        owned |= strncmp(name, folders[i], strlen(folders[i])) == 0 &&
                 !strchr(name + strlen(folders[i]), '/');
    return owned ? name : NULL;
}

static int owns_error(const char *name, const char *dir) {
    vkg_set_error("that is %s of the run directory %s, one of the run's own files: choose another "
                  "file",
                  name, dir);
    return 1;
}

int vkg_rundir_owns(const char *dir, const char *path) {
    char run[4200], target[4200];
    if (vkg_real_path(dir, run, sizeof run) < 0 ||
        vkg_write_target(path, target, sizeof target) < 0)
        return 0; /* the write itself will say what is wrong */
    const char *name = owned_name(run, target);
    return name ? owns_error(name, dir) : 0;
}

/* Whether DIR is a run directory of vkgan train: it holds a config.json and a metrics.jsonl. */
static int is_run(const char *dir) {
    char path[4300];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (access(path, F_OK) != 0) return 0;
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    return access(path, F_OK) == 0;
}

int vkg_rundir_owns_any(const char *path) {
    char target[4200], run[4200];
    /* the file a write replaces; a directory (train --out) as it is */
    if (vkg_write_target(path, target, sizeof target) < 0 &&
        vkg_real_path(path, target, sizeof target) < 0)
        return 0;
    snprintf(run, sizeof run, "%s", target);
    for (int up = 0; up < 2; up++) { /* RUN/NAME, or RUN/checkpoints/NAME and RUN/samples/NAME */
        char *slash = strrchr(run, '/');
        if (!slash) return 0;
        if (slash == run) slash++; /* "/" */
        *slash = 0;
        const char *name = is_run(run) ? owned_name(run, target) : NULL;
        if (name) return owns_error(name, run);
        const char *base = strrchr(run, '/');
        base = base ? base + 1 : run;
        if (!*base || (strcmp(base, "checkpoints") != 0 && strcmp(base, "samples") != 0)) return 0;
    }
    return 0;
}

int rundir_inside_folder(const char *dir) {
    char path[4200];
    if (vkg_real_path(dir, path, sizeof path) < 0) return 0;
    for (char *slash; (slash = strrchr(path, '/')) && slash != path;) {
        *slash = 0; /* path: a folder that holds dir */
        const char *base = strrchr(path, '/') + 1;
        if (strcmp(base, "checkpoints") != 0 && strcmp(base, "samples") != 0) continue;
        char run[4200];
        snprintf(run, sizeof run, "%.*s", (int)(base - path - 1), path);
        if (is_run(run[0] ? run : "/")) {
            vkg_set_error("that is inside %s, the %s folder of the run directory %s: choose "
                          "another directory",
                          path, base, run[0] ? run : "/");
            return 1;
        }
    }
    return 0;
}

int vkg_rundir_of_checkpoint(const char *checkpoint, char *dir, size_t size) {
    char real[4200], config[4300];
    if (!realpath(checkpoint, real)) return 0;
    char *slash = strrchr(real, '/');
    if (!slash || slash - real < 12 || strncmp(slash - 12, "/checkpoints", 12) != 0) return 0;
    slash[-12] = 0; /* RUN */
    snprintf(config, sizeof config, "%s/config.json", real[0] ? real : "/");
    if (access(config, F_OK) != 0) return 0;
    snprintf(dir, size, "%s", real[0] ? real : "/");
    return 1;
}

int rundir_write_json(const char *path, const cJSON *json) {
    char *text = cJSON_Print(json);
    if (!text) return vkg_set_error("out of host memory");
    const void *parts[2] = {text, "\n"};
    size_t sizes[2] = {strlen(text), 1};
    int r = vkg_write_file_atomic(path, parts, sizes, 2);
    free(text);
    return r;
}

/* A whole file in memory (NUL-terminated); NULL with vkg_error(). */
static char *read_text(const char *path, size_t *size) {
    FILE *f = vkg_open_regular(path);
    if (!f) return NULL;
    char *text = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 4096 + 1 > cap) {
            char *grown = realloc(text, cap = 2 * cap + 8192);
            if (!grown) {
                free(text), fclose(f);
                vkg_set_error("out of host memory reading %s", path);
                return NULL;
            }
            text = grown;
        }
        got = fread(text + n, 1, 4096, f);
        n += got;
    } while (got == 4096);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        vkg_set_error("cannot read %s", path);
        return NULL;
    }
    text[n] = 0;
    if (size) *size = n;
    return text;
}

cJSON *vkg_rundir_read_json(const char *path) {
    char *text = read_text(path, NULL);
    if (!text) return NULL;
    cJSON *j = cJSON_ParseWithOpts(text, NULL, 1); /* nothing but blanks after the value */
    free(text);
    if (!j) vkg_set_error("%s is not valid JSON", path);
    return j;
}

int rundir_checkpoint_options(const char *dir, vkg_train_options *o, char *path, size_t size) {
    unsigned step;
    int shape[5];
    for (int r = vkg_rundir_newest_checkpoint(dir, path, size, &step); r == 0;
         r = rundir_checkpoint_before(dir, step, path, size, &step)) {
        vkg_safetensors *st = vkg_safetensors_read(path);
        int ok = st && vkg_sampler_read_setup(st, path, o, shape) == 0;
        vkg_safetensors_free(st);
        if (ok) return 0;
    }
    return -1;
}

cJSON *vkg_rundir_read_config(const char *dir) {
    char path[4200], newest[4300];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *j = vkg_rundir_read_json(path);
    if (j && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "options"))) {
        cJSON_Delete(j), j = NULL;
        vkg_set_error("%s is not a config.json of vkgan train (no \"options\" object)", path);
    }
    if (j) return j;
    char why[4400];
    snprintf(why, sizeof why, "%s", vkg_error());
    vkg_train_options *o = calloc(1, sizeof *o); /* the options themselves are not needed */
    int readable = o && rundir_checkpoint_options(dir, o, newest, sizeof newest) == 0;
    free(o);
    if (readable)
        vkg_set_error("%s (vkgan train --resume %s writes it again from the run's checkpoints)",
                      why, dir);
    else
        vkg_set_error("%s", why);
    return NULL;
}

static const char *csv_header = "step,epoch,seconds,images_per_s,loss_d,loss_g,d_x,d_g_z,"
                                "d_g_z_after,lr_d,lr_g,modes_covered,high_quality\n";

/* Whether a line with no newline is the start of a record as metrics_write and
 * metrics_write_object begin one: what a run killed while writing it leaves. */
static int torn_record(const char *line, size_t length);

/* A line of metrics.jsonl (length bytes, NUL bytes included) that is a metrics record: one JSON
 * object and nothing else, with a "step" that is a whole number in 0 .. 2^32 - 1 (*step). Owned
 * by the caller (cJSON_Delete), or NULL when the line is no record. */
static cJSON *metrics_record(const char *line, size_t length, unsigned *step) {
    const char *end = NULL;
    cJSON *row = cJSON_ParseWithLengthOpts(line, length, &end, 0);
    while (row && end < line + length && *end && strchr(" \t\r\n", *end)) end++;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(row, "step");
    double v = cJSON_IsNumber(s) ? s->valuedouble : -1;
    if (row && end == line + length && cJSON_IsObject(row) && v >= 0 && v <= UINT_MAX &&
        v == floor(v)) {
        *step = (unsigned)v;
        return row;
    }
    cJSON_Delete(row);
    return NULL;
}

/* A line of a log that is a record: *step its step, *loss whether it is a loss line (the CSV's
 * are all; a JSON line with "loss_d"); the CSV's header is one with *header set. */
static int log_record(const char *line, size_t len, int csv, unsigned long *step, int *loss,
                      int *header) {
    *header = csv && len >= 5 && strncmp(line, "step,", 5) == 0;
    if (*header) return 1;
    if (csv) { /* STEP,... with the header's 13 columns, nothing but numbers */
        int commas = 0;
        for (size_t i = 0; i < len; i++) {
            if (!line[i] || !strchr("0123456789.,-+eEinfatyINFATY\r\n", line[i])) return 0;
            commas += line[i] == ',';
        }
        *loss = 1;
        return commas == 12 && sscanf(line, "%lu,", step) == 1;
    }
    unsigned s;
    cJSON *row = metrics_record(line, len, &s); /* as vkg_metrics_read reads a line */
    if (row) *step = s, *loss = cJSON_GetObjectItemCaseSensitive(row, "loss_d") != 0;
    cJSON_Delete(row);
    return row != NULL;
}

/* Keeps the lines of a log whose step is at most `keep_until` (the CSV's header too). A line that
 * is no record (a damaged disk, an editor) is dropped and counted in *damaged, and the log read on
 * past it; a torn last line, what a kill leaves, goes without a word. */
static int cut_log(const char *path, int csv, unsigned keep_until, unsigned losses_until,
                   vkg_metrics_skipped *damaged) {
    *damaged = (vkg_metrics_skipped){0};
    if (access(path, F_OK) != 0) return 0;
    size_t size;
    char *text = read_text(path, &size);
    if (!text) return -1;
    size_t kept = 0;
    unsigned long number = 1;
    for (char *line = text; line < text + size; number++) {
        char *end = memchr(line, '\n', (size_t)(text + size - line));
        size_t len = end ? (size_t)(end - line) + 1 : (size_t)(text + size - line);
        unsigned long step = 0;
        int loss = 0, header;
        int ok = end && log_record(line, len, csv, &step, &loss, &header);
        int blank = strspn(line, " \t\r\n") >= len;
        int torn = !end && (csv ? log_record(line, len, 1, &step, &loss, &header) ||
                                      strspn(line, "0123456789") == len
                                : torn_record(line, len));
        if (!ok && !blank && !torn && damaged->lines++ == 0) damaged->first = number;
        /* (after a rollback steps go back: read on) */
        if (ok && (header || step <= (loss ? losses_until : keep_until))) {
            memmove(text + kept, line, len);
            kept += len;
        }
        line += len;
    }
    const void *parts[1] = {text};
    int r = vkg_write_file_atomic(path, parts, &kept, 1);
    free(text);
    return r;
}

int metrics_open(metrics_log *log, const char *dir, int resuming, unsigned keep_until,
                 unsigned losses_until) {
    char jsonl[4200], csv[4200];
    snprintf(jsonl, sizeof jsonl, "%s/metrics.jsonl", dir);
    snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
    log->jsonl = log->csv = NULL;
    memset(log->damaged, 0, sizeof log->damaged);
    if (resuming && (cut_log(jsonl, 0, keep_until, losses_until, &log->damaged[0]) < 0 ||
                     cut_log(csv, 1, keep_until, losses_until, &log->damaged[1]) < 0))
        return -1;
    struct stat st; /* a log killed before its first line is written has no header yet */
    int fresh = stat(csv, &st) != 0 || st.st_size == 0;
    log->jsonl = fopen(jsonl, "a");
    log->csv = fopen(csv, "a");
    if (!log->jsonl || !log->csv) {
        metrics_close(log);
        return vkg_set_error("cannot open the metrics logs in %s: %s", dir, strerror(errno));
    }
    if (fresh) fputs(csv_header, log->csv);
    return 0;
}

/* ,"key":value, with null for a value that is not finite (JSON has no NaN) */
static void json_number(FILE *f, const char *key, double v) {
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.6g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

int metrics_write(metrics_log *log, const metrics_row *m) {
    fprintf(log->jsonl, "{\"step\":%u,\"epoch\":%.4f,\"seconds\":%.2f,\"images_per_s\":%.1f",
            m->step, m->epoch, m->seconds, m->images_per_s);
    const double v[7] = {m->loss_d, m->loss_g, m->d_x, m->d_g_z, m->d_g_z_after, m->lr_d, m->lr_g};
    static const char *keys[7] = {"loss_d",      "loss_g", "d_x", "d_g_z",
                                  "d_g_z_after", "lr_d",   "lr_g"};
    for (int i = 0; i < 7; i++) json_number(log->jsonl, keys[i], v[i]);
    if (m->modes >= 0)
        fprintf(log->jsonl, ",\"modes_covered\":%d,\"high_quality\":%.4f", m->modes,
                m->high_quality);
    fputs("}\n", log->jsonl);
    fprintf(log->csv, "%u,%.4f,%.2f,%.1f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", m->step, m->epoch,
            m->seconds, m->images_per_s, m->loss_d, m->loss_g, m->d_x, m->d_g_z, m->d_g_z_after,
            m->lr_d, m->lr_g);
    if (m->modes >= 0)
        fprintf(log->csv, "%d,%.4f\n", m->modes, m->high_quality);
    else
        fputs(",\n", log->csv);
    if (fflush(log->jsonl) != 0 || fflush(log->csv) != 0)
        return vkg_set_error("cannot write the metrics logs: %s", strerror(errno));
    return 0;
}

int metrics_write_object(metrics_log *log, const cJSON *object) {
    char *text = cJSON_PrintUnformatted(object);
    if (!text) return vkg_set_error("out of memory");
    int r = fprintf(log->jsonl, "%s\n", text) < 0 || fflush(log->jsonl) != 0;
    free(text);
    return r ? vkg_set_error("cannot write the metrics log: %s", strerror(errno)) : 0;
}

void metrics_close(metrics_log *log) {
    if (log->jsonl) fclose(log->jsonl);
    if (log->csv) fclose(log->csv);
    log->jsonl = log->csv = NULL;
}

/* Whether a line with no newline is the start of a record as metrics_write and
 * metrics_write_object begin one: what a run killed while writing it leaves. */
static int torn_record(const char *line, size_t length) {
    static const char start[] = "{\"step\":";
    size_t n = length < sizeof start - 1 ? length : sizeof start - 1;
    return length > 0 && line[length - 1] != '\n' && memcmp(line, start, n) == 0;
}

int vkg_metrics_read(const char *dir, vkg_metrics_fn each, void *user,
                     vkg_metrics_skipped *skipped) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    vkg_metrics_skipped none;
    if (!skipped) skipped = &none;
    *skipped = (vkg_metrics_skipped){0};
    FILE *f = vkg_open_regular(path);
    if (!f) {
        char why[4400];
        snprintf(why, sizeof why, "%s", vkg_error());
        return vkg_set_error("%s: not a vkgan run directory?", why);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t length;
    int r = 0;
    for (unsigned long number = 1; r == 0 && (length = getline(&line, &cap, f)) >= 0; number++) {
        unsigned step;
        cJSON *row = metrics_record(line, (size_t)length, &step);
        const cJSON *event = cJSON_GetObjectItemCaseSensitive(row, "event");
        if (row)
            r = each(row, step, cJSON_IsString(event) ? event->valuestring : NULL, user);
        else if (strspn(line, " \t\r\n") != (size_t)length && !torn_record(line, (size_t)length) &&
                 skipped->lines++ == 0)
            skipped->first = number;
        cJSON_Delete(row);
    }
    free(line);
    fclose(f);
    return r;
}
