/* The window (vkgan train --view, vkgan view) under Xvfb on lavapipe with validation on: it
 * trains and draws, keys work, screenshots equal what X shows, resizing and unmapping cause no
 * error, and vkgan view shows a headless run. Needs Xvfb, xdotool and ImageMagick's import
 * (tools/setup.sh installs them). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stb_image.h>

#include "check.h"
#include "view/panels.h"

static void nap(double s) {
    struct timespec t = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* ---- an X server of the test's own ---- */

typedef struct xserver {
    pid_t pid;
    char old_display[256];
    int had_display;
} xserver;

static int start_xvfb(xserver *x) {
    const char *old = getenv("DISPLAY");
    x->had_display = old != NULL;
    snprintf(x->old_display, sizeof x->old_display, "%s", old ? old : "");
    for (int n = 100 + getpid() % 300, tries = 0; tries < 20; n++, tries++) {
        char lock[64], sock[64], display[16];
        snprintf(lock, sizeof lock, "/tmp/.X%d-lock", n);
        snprintf(sock, sizeof sock, "/tmp/.X11-unix/X%d", n);
        snprintf(display, sizeof display, ":%d", n);
        struct stat st;
        if (stat(lock, &st) == 0) continue;
        pid_t pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);
            freopen("/dev/null", "w", stderr);
            execlp("Xvfb", "Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp",
                   (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 100; i++) { /* up to 10 s for its socket */
            if (stat(sock, &st) == 0) {
                x->pid = pid;
                setenv("DISPLAY", display, 1);
                return 0;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid) break; /* it died: try another number */
            nap(0.1);
        }
    }
    return -1;
}

static void stop_xvfb(xserver *x) {
    if (x->pid > 0) kill(x->pid, SIGTERM), waitpid(x->pid, NULL, 0);
    if (x->had_display)
        setenv("DISPLAY", x->old_display, 1);
    else
        unsetenv("DISPLAY");
}

/* ---- processes and shell tools ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* vkgan with these arguments in the background, stderr to `log`. */
static pid_t spawn_vkgan(const char *log, char *const *args) {
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        freopen(log, "w", stderr);
        char *argv[64] = {"vkgan"};
        for (int i = 0; args[i] && i < 62; i++) argv[i + 1] = args[i];
        execv(test_vkgan_path(), argv);
        _exit(127);
    }
    return pid;
}

/* The exit code, or -1 when it did not end within `seconds` (then it is killed). */
static int wait_exit(pid_t pid, double seconds) {
    for (double t = 0; t < seconds; t += 0.1) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        nap(0.1);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static int wait_lines(const char *path, int want, double seconds) {
    for (double t = 0; t < seconds; t += 0.1, nap(0.1))
        if (count_lines(path) >= want) return 1;
    return 0;
}

/* The window id of the first window whose name contains `name` (0 when none within 60 s). */
static unsigned long find_window(const char *name) {
    for (int i = 0; i < 600; i++, nap(0.1)) {
        char cmd[256], out[64] = "";
        snprintf(cmd, sizeof cmd, "xdotool search --name '%s' 2>/dev/null | head -1", name);
        FILE *p = popen(cmd, "r");
        if (p && fgets(out, sizeof out, p)) {
            pclose(p);
            return strtoul(out, NULL, 10);
        }
        if (p) pclose(p);
    }
    return 0;
}

static int key(unsigned long wid, const char *k) {
    return sh("xdotool windowfocus --sync %lu >/dev/null 2>&1; xdotool key %s", wid, k);
}

/* Presses P and waits for the screenshot count in dir/screenshots to reach `n`; its path. */
static int screenshot(unsigned long wid, const char *dir, int n, char *path, size_t size) {
    if (key(wid, "p") != 0) return -1;
    for (int i = 0; i < 300; i++, nap(0.1)) {
        char cmd[4200], line[4096] = "";
        snprintf(cmd, sizeof cmd, "ls -tr '%s'/screenshots 2>/dev/null | sed -n %dp", dir, n);
        FILE *p = popen(cmd, "r");
        int got = p && fgets(line, sizeof line, p);
        if (p) pclose(p);
        if (got) {
            line[strcspn(line, "\n")] = 0;
            snprintf(path, size, "%s/screenshots/%s", dir, line);
            nap(0.2); /* written atomically: present means complete */
            return 0;
        }
    }
    return -1;
}

/* ---- pictures ---- */

typedef struct picture {
    unsigned char *px;
    int w, h;
} picture;

static picture load(const char *path) {
    picture p = {0};
    p.px = stbi_load(path, &p.w, &p.h, &(int){0}, 3);
    return p;
}

static const unsigned char *at(const picture *p, int x, int y) {
    return p->px + 3 * ((size_t)y * p->w + x);
}

/* Distinct grey levels in a rectangle (a uniform panel has one or two). */
static int distinct_levels(const picture *p, rect r) {
    char seen[256] = {0};
    int n = 0;
    for (int y = r.y0; y < r.y1; y++)
        for (int x = r.x0; x < r.x1; x++) {
            int v = at(p, x, y)[1];
            n += !seen[v], seen[v] = 1;
        }
    return n;
}

/* Pixels within `tol` of the colour 0xRRGGBB. */
static int count_color(const picture *p, rect r, unsigned rgb, int tol) {
    int n = 0;
    for (int y = r.y0; y < r.y1; y++)
        for (int x = r.x0; x < r.x1; x++) {
            const unsigned char *q = at(p, x, y);
            n += abs(q[0] - (int)(rgb >> 16 & 255)) <= tol &&
                 abs(q[1] - (int)(rgb >> 8 & 255)) <= tol && abs(q[2] - (int)(rgb & 255)) <= tol;
        }
    return n;
}

static int differing(const picture *a, const picture *b, rect r) {
    int n = 0;
    for (int y = r.y0; y < r.y1; y++)
        for (int x = r.x0; x < r.x1; x++) n += memcmp(at(a, x, y), at(b, x, y), 3) != 0;
    return n;
}

static int area(rect r) {
    return (r.x1 - r.x0) * (r.y1 - r.y0);
}

#define LOSS_D_COLOR 0xef8a3c

/* The grid shows samples (many grey levels) and the loss graph has line pixels. */
static void check_frame(const picture *p, const char *what) {
    CHECK(p->px != NULL, "%s: cannot read the screenshot", what);
    if (!p->px) return;
    layout l = panels_layout(p->w, p->h);
    rect grid = {l.image.x0 + 8, l.image.y0 + 28, l.image.x1 - 8, l.image.y1 - 8};
    int levels = distinct_levels(p, grid), line = count_color(p, l.graphs[0], LOSS_D_COLOR, 8);
    CHECK(levels > 20, "%s: the grid region has only %d grey levels", what, levels);
    CHECK(line > 100, "%s: the loss graph has %d pixels of loss_d's colour", what, line);
}

TEST(view_trains_draws_and_takes_keys) {
    xserver x = {0};
    CHECK(start_xvfb(&x) == 0, "cannot start Xvfb (apt-get install xvfb)");
    if (test_failed()) return;
    const char *dir = test_tmpdir();
    char run[4200], log[4200], metrics[4300], path[3][4400], ext[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(log, sizeof log, "%s/stderr.txt", dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run);
    snprintf(ext, sizeof ext, "%s/external.png", dir);
    char *args[] = {"train",       "--view", "--validation", "--quiet", "--steps", "100000",
                    "--g-width",   "4",      "--d-width",    "6",       "--batch", "16",
                    "--log-every", "5",      "--out",        run,       NULL};
    pid_t pid = spawn_vkgan(log, args);
    unsigned long wid = find_window("vkgan train");
    CHECK(wid != 0, "no window appeared");
    CHECK(wait_lines(metrics, 2, 120), "training did not log 10 steps");
    /* paused, the window's own screenshot equals what X shows */
    CHECK(wid && key(wid, "space") == 0, "xdotool key failed");
    nap(1);
    CHECK(screenshot(wid, run, 1, path[0], sizeof path[0]) == 0, "no screenshot after P");
    CHECK(sh("import -window root '%s'", ext) == 0, "import -window root failed");
    picture own = load(path[0]), shown = load(ext);
    check_frame(&own, "first screenshot");
    if (own.px && shown.px) {
        rect window = {0, 0, own.w, own.h};
        int d = differing(&own, &shown, window);
        CHECK(d <= area(window) / 1000, "%d pixels of the window differ from X's picture", d);
    }
    /* resumed, the samples change */
    int logged = count_lines(metrics);
    CHECK(key(wid, "space") == 0, "xdotool key failed");
    CHECK(wait_lines(metrics, logged + 3, 120), "training did not go on after Space");
    nap(2); /* a preview refresh */
    CHECK(screenshot(wid, run, 2, path[1], sizeof path[1]) == 0, "no second screenshot");
    picture later = load(path[1]);
    check_frame(&later, "second screenshot");
    if (own.px && later.px) {
        layout l = panels_layout(own.w, own.h);
        rect grid = {l.image.x0 + 8, l.image.y0 + 28, l.image.x1 - 8, l.image.y1 - 8};
        int d = differing(&own, &later, grid);
        CHECK(d > area(grid) / 20, "only %d grid pixels changed as training went on", d);
    }
    /* resizing, unmapping and mapping again: no error, the frame follows the size */
    sh("xdotool windowsize %lu 900 560", wid);
    nap(1.5);
    sh("xdotool windowminimize %lu; xdotool windowunmap %lu", wid, wid);
    nap(1.5);
    sh("xdotool windowmap %lu", wid);
    nap(1);
    CHECK(key(wid, "h l f plus minus") == 0, "xdotool key failed");
    CHECK(screenshot(wid, run, 3, path[2], sizeof path[2]) == 0, "no screenshot after resizing");
    picture small = load(path[2]);
    CHECK(small.w == 900 && small.h == 560, "after resizing the frame is %dx%d", small.w, small.h);
    /* Q writes a checkpoint and exits 0; with --validation any message would exit 1 */
    CHECK(key(wid, "q") == 0, "xdotool key failed");
    int code = wait_exit(pid, 60);
    char err[4096] = "";
    FILE *f = fopen(log, "r");
    if (f) err[fread(err, 1, sizeof err - 1, f)] = 0, fclose(f);
    CHECK(code == 0, "exit code %d after Q: %s", code, err);
    CHECK(!strstr(err, "alidation"), "stderr: %s", err);
    char ckpt[4300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints", run);
    CHECK(sh("ls '%s'/step-*.safetensors >/dev/null 2>&1", ckpt) == 0, "no checkpoint after Q");
    stbi_image_free(own.px), stbi_image_free(shown.px), stbi_image_free(later.px);
    stbi_image_free(small.px);
    stop_xvfb(&x);
}

TEST(view_shows_a_headless_run) {
    const char *dir = test_tmpdir();
    char args[8400], err[4096], shot[4200];
    snprintf(args, sizeof args,
             "train --quiet --steps 30 --g-width 4 --d-width 6 --batch 16 --log-every 5 "
             "--sample-every 10 --health-every 10 --health-samples 32 --out '%s/run'",
             dir);
    int code = test_run_vkgan("env -u DISPLAY", args, err, sizeof err);
    CHECK(code == 0, "headless training failed (%d): %s", code, err);
    xserver x = {0};
    CHECK(start_xvfb(&x) == 0, "cannot start Xvfb (apt-get install xvfb)");
    if (test_failed()) return;
    snprintf(shot, sizeof shot, "%s/view.png", dir);
    snprintf(args, sizeof args, "view '%s/run' --validation --screenshot '%s'", dir, shot);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "vkgan view failed (%d): %s", code, err);
    picture p = load(shot);
    check_frame(&p, "vkgan view");
    if (p.px) { /* the graph spans the logged steps: 5 .. 30 */
        layout l = panels_layout(p.w, p.h);
        CHECK(count_color(&p, l.graphs[1], 0x5fd068, 8) > 100, "no D(x) line");
        CHECK(count_color(&p, l.graphs[2], 0xc58af0, 8) > 100, "no FCD line");
    }
    /* interactive: Home shows the first saved grid (step 0), W walks through latent space */
    char log[4200], run[4200], first[4400], walk[4400];
    snprintf(log, sizeof log, "%s/view-stderr.txt", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    char *view_args[] = {"view", run, "--validation", NULL};
    pid_t pid = spawn_vkgan(log, view_args);
    unsigned long wid = find_window("vkgan view");
    CHECK(wid != 0, "no window for vkgan view");
    CHECK(wid && key(wid, "Home") == 0, "xdotool key failed");
    CHECK(screenshot(wid, run, 1, first, sizeof first) == 0, "no screenshot of the saved grid");
    CHECK(key(wid, "w") == 0, "xdotool key failed");
    nap(3);
    CHECK(screenshot(wid, run, 2, walk, sizeof walk) == 0, "no screenshot of the walk");
    CHECK(key(wid, "q") == 0, "xdotool key failed");
    CHECK(wait_exit(pid, 60) == 0, "vkgan view did not exit 0 after Q");
    picture saved = load(first), walking = load(walk);
    if (p.px && saved.px && walking.px) {
        layout l = panels_layout(p.w, p.h);
        rect grid = {l.image.x0 + 8, l.image.y0 + 28, l.image.x1 - 8, l.image.y1 - 40};
        CHECK(differing(&p, &saved, grid) > area(grid) / 20, "the saved grid looks like G's");
        CHECK(differing(&p, &walking, grid) > area(grid) / 20, "the walk looks like the fixed z");
        CHECK(distinct_levels(&walking, grid) > 20, "the walk shows no samples");
    }
    CHECK(saved.px && walking.px, "cannot read the view's screenshots");
    stbi_image_free(saved.px), stbi_image_free(walking.px), stbi_image_free(p.px);
    /* the same run, a 2D one, through --view --screenshot of training itself */
    snprintf(shot, sizeof shot, "%s/ring.png", dir);
    snprintf(args, sizeof args,
             "train --data ring8 --quiet --steps 40 --log-every 10 --view --validation "
             "--screenshot '%s' --out '%s/ring'",
             shot, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "ring8 --view --screenshot failed (%d): %s", code, err);
    p = load(shot);
    if (p.px) {
        layout l = panels_layout(p.w, p.h);
        CHECK(count_color(&p, l.image, 0xe8a33d, 0) > 200, "no generated points in the scatter");
        CHECK(count_color(&p, l.image, 0x5b8fd9, 40) > 100, "no mode circles in the scatter");
    }
    CHECK(p.px != NULL, "no screenshot from train --view --screenshot");
    stbi_image_free(p.px);
    stop_xvfb(&x);
}

TEST(view_without_a_display_is_one_clear_line) {
    const char *dir = test_tmpdir();
    char args[4200], err[4096];
    snprintf(args, sizeof args, "train --view --steps 2 --out '%s/run'", dir);
    int code = test_run_vkgan("env -u DISPLAY -u WAYLAND_DISPLAY", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "no display") && strchr(err, '\n') == strrchr(err, '\n'),
          "%d: %s", code, err);
    snprintf(args, sizeof args, "view '%s'", dir);
    code = test_run_vkgan("env -u DISPLAY -u WAYLAND_DISPLAY", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "not a run directory"), "%d: %s", code, err);
    code = test_run_vkgan("", "train --screenshot x.png --steps 1", err, sizeof err);
    CHECK(code == 2 && strstr(err, "--screenshot needs --view"), "%d: %s", code, err);
}
