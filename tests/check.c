/* Harness helpers: checks, per-test resources, data transfer, finite differences. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "vkgan/io.h"
#include "vkgan/train.h"

int close_enough(const char *what, const float *got, const double *want, size_t n, double atol,
                 double rtol) {
    size_t worst = 0;
    double worst_excess = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double excess = err - (atol + rtol * fabs(want[i]));
        if (!(excess <= 0)) { /* also catches NaN */
            if (!bad || excess > worst_excess || isnan(excess)) worst = i, worst_excess = excess;
            bad++;
        }
    }
    if (bad)
        test_fail(__FILE__, __LINE__,
                  "%s: %d of %zu elements off; worst [%zu] got %.9g want %.9g (atol %g rtol %g)",
                  what, bad, n, worst, got[worst], want[worst], atol, rtol);
    return !bad;
}

double *test_doubles(size_t n) {
    return test_alloc(n * sizeof(double));
}

double *random_doubles(size_t n, double lo, double hi, uint64_t seed) {
    double *x = test_doubles(n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s += 0x9E3779B97F4A7C15ull; /* splitmix64 */
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        x[i] = (float)(lo + (hi - lo) * (double)(z >> 11) / 9007199254740992.0);
    }
    return x;
}

vkg_tensor upload_tensor(vkg_ctx *ctx, vkg_arena *arena, int n, int c, int h, int w,
                         const double *data) {
    vkg_tensor t = {0};
    if (vkg_tensor_alloc(arena, n, c, h, w, &t) < 0) {
        test_fail(__FILE__, __LINE__, "tensor alloc: %s", vkg_error());
        return t;
    }
    size_t count = vkg_tensor_count(&t);
    float *f = test_alloc(count * sizeof(float));
    for (size_t i = 0; i < count; i++) f[i] = data ? (float)data[i] : 0.0f;
    if (vkg_tensor_upload(ctx, &t, f) < 0) test_fail(__FILE__, __LINE__, "upload: %s", vkg_error());
    return t;
}

vkg_tensor upload_guarded(vkg_ctx *ctx, vkg_arena *arena, int n, int c, int h, int w,
                          const double *data, int guard) {
    if (!guard) return upload_tensor(ctx, arena, n, c, h, w, data);
    size_t count = (size_t)n * c * h * w;
    double *parent = test_doubles(count + 8);
    for (size_t i = 0; i < count + 8; i++) parent[i] = i >= 4 && i < 4 + count ? data[i - 4] : NAN;
    vkg_tensor whole = upload_tensor(ctx, arena, 1, 1, 1, (int)count + 8, parent);
    return vkg_tensor_view(&whole, 4, n, c, h, w);
}

float *download_tensor(vkg_ctx *ctx, const vkg_tensor *t) {
    size_t count = vkg_tensor_count(t);
    float *f = test_alloc(count * sizeof(float));
    if (vkg_tensor_download(ctx, t, f) < 0)
        test_fail(__FILE__, __LINE__, "download: %s", vkg_error());
    return f;
}

int gradient_matches(const char *what, double *x, size_t n, scalar_fn f, void *user,
                     const double *analytic, double tol) {
    size_t stride = n > 61 ? n / 61 : 1;
    const double step = 1e-6;
    for (size_t i = 0; i < n; i += stride) {
        double saved = x[i];
        x[i] = saved + step;
        double up = f(user);
        x[i] = saved - step;
        double down = f(user);
        x[i] = saved;
        double fd = (up - down) / (2 * step);
        if (!(fabs(fd - analytic[i]) <= tol * (1 + fabs(analytic[i])))) {
            test_fail(__FILE__, __LINE__,
                      "%s: finite difference %.10g and analytic gradient %.10g differ at [%zu]",
                      what, fd, analytic[i], i);
            return 0;
        }
    }
    return 1;
}

double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

double *widen(const float *f, size_t n) {
    double *d = test_doubles(n);
    for (size_t i = 0; i < n; i++) d[i] = f[i];
    return d;
}

vkg_batchnorm upload_batchnorm(vkg_ctx *ctx, vkg_arena *arena, int c, const double *gamma,
                               const double *beta, const double *running_mean,
                               const double *running_var) {
    vkg_batchnorm bn = {.eps = 1e-5f, .momentum = 0.1f};
    bn.gamma = upload_tensor(ctx, arena, 1, c, 1, 1, gamma);
    bn.beta = upload_tensor(ctx, arena, 1, c, 1, 1, beta);
    bn.running_mean = upload_tensor(ctx, arena, 1, c, 1, 1, running_mean);
    bn.running_var = upload_tensor(ctx, arena, 1, c, 1, 1, running_var);
    bn.saved = upload_tensor(ctx, arena, 2, c, 1, 1, NULL);
    return bn;
}

const char *test_vkgan_path(void) {
    static char exe[PATH_MAX + 8];
    if (exe[0]) return exe;
    ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);
    if (n <= 0) return "vkgan";
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) strcpy(slash + 1, "vkgan");
    return exe;
}

int test_run_shell(const char *cmd, char *out, size_t size) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t got = fread(out, 1, size - 1, p);
    out[got] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs `env vkgan args redirect` and reads what the pipe gets. */
static int run_capture(const char *env, const char *args, const char *redirect, char *out,
                       size_t size) {
    char cmd[PATH_MAX + 9000];
    snprintf(cmd, sizeof cmd, "%s '%s' %s %s", env, test_vkgan_path(), args, redirect);
    return test_run_shell(cmd, out, size);
}

int test_run_vkgan(const char *env, const char *args, char *err, size_t size) {
    return run_capture(env, args, "2>&1 >/dev/null", err, size);
}

int test_run_vkgan_output(const char *env, const char *args, char *out, size_t size) {
    return run_capture(env, args, "2>&1", out, size);
}

int test_spawn_vkgan(const char *args) {
    char cmd[PATH_MAX + 4600];
    snprintf(cmd, sizeof cmd, "exec '%s' %s 2>/dev/null", test_vkgan_path(), args);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int line_count(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF) n += c == '\n';
    if (f) fclose(f);
    return n;
}

/* 0 when the process has ended (reaped), else sleeps a poll interval and returns 1. */
static int still_running(int pid, long ns) {
    if (waitpid(pid, NULL, WNOHANG) == pid) return 0;
    nanosleep(&(struct timespec){0, ns}, NULL); /* a poll, not a deadline */
    return 1;
}

int test_wait_for_file(const char *path, int pid) {
    while (access(path, F_OK) != 0)
        if (!still_running(pid, 1000000)) return -1;
    return 0;
}

int test_wait_for_lines(const char *path, int lines, int pid) {
    while (line_count(path) < lines)
        if (!still_running(pid, 20000000)) return -1;
    return 0;
}

char *test_read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = test_alloc((size_t)n + 1);
    text[fread(text, 1, (size_t)n, f)] = 0;
    fclose(f);
    return text;
}

int test_same_tensors(const char *a, const char *b, const char *const *names, int count,
                      const char *const *keys, int nkeys, char *why, size_t size) {
    vkg_safetensors *x = vkg_safetensors_read(a), *y = vkg_safetensors_read(b);
    int same = x && y && vkg_safetensors_count(x) == vkg_safetensors_count(y);
    snprintf(why, size, "%s", same ? "" : "the files do not read or differ in tensor count");
    for (int i = 0; same && i < count; i++) {
        int nx, ny;
        int64_t sx[4], sy[4];
        const void *dx = vkg_safetensors_get(x, names[i], VKG_F32, &nx, sx);
        const void *dy = vkg_safetensors_get(y, names[i], VKG_F32, &ny, sy);
        size_t n = 1;
        for (int k = 0; dx && k < nx; k++) n *= (size_t)sx[k];
        same = dx && dy && nx == ny && !memcmp(sx, sy, sizeof(int64_t) * (size_t)nx) &&
               !memcmp(dx, dy, n * sizeof(float));
        if (!same) snprintf(why, size, "tensor %s differs", names[i]);
    }
    for (int i = 0; same && i < nkeys; i++) {
        const char *vx = vkg_safetensors_meta(x, keys[i]), *vy = vkg_safetensors_meta(y, keys[i]);
        same = vx && vy && strcmp(vx, vy) == 0;
        if (!same) snprintf(why, size, "metadata %s differs", keys[i]);
    }
    vkg_safetensors_free(x);
    vkg_safetensors_free(y);
    return same;
}

int test_train(vkg_train_options *o, const vkg_train_observer *extra, int n) {
    vkg_train_observer obs[8];
    if (n > 6 || vkg_train_metrics_files(&obs[0]) < 0) return -1;
    for (int i = 0; i < n; i++) obs[1 + i] = extra[i];
    vkg_trainer *t;
    int rc = vkg_trainer_open(&t, o, obs, 1 + n);
    if (rc != 0) return rc;
    rc = vkg_trainer_run(t, NULL);
    if (vkg_trainer_close(t) < 0 && rc >= 0) rc = -1;
    return rc;
}

int test_poison_safetensors(const char *path) {
    char *file = test_read_text(path); /* whole, binary or not: its size from the header */
    FILE *f = fopen(path, "rb");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (f) fclose(f);
    uint64_t header = 0;
    for (int i = 7; file && size >= 8 && i >= 0; i--) header = header << 8 | (uint8_t)file[i];
    char *crc = file && size > 12 ? strstr(file + 8, "\"vkgan.crc32\":\"") : NULL;
    if (!crc || header + 12 > (uint64_t)size) return -1;
    float nan = NAN;
    memcpy(file + size - 4, &nan, sizeof nan);
    uLong sum = crc32_z(0L, (const Bytef *)file + 8 + header, (size_t)size - 8 - header);
    char hex[9];
    snprintf(hex, sizeof hex, "%08lx", (unsigned long)sum);
    memcpy(crc + 15, hex, 8);
    f = fopen(path, "wb");
    int ok = f && fwrite(file, 1, (size_t)size, f) == (size_t)size;
    if (f && fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}
