/* The window (vkgan train --view, vkgan view) under Xvfb on lavapipe with validation on: it
 * trains and draws, keys work, screenshots equal what X shows, resizing and unmapping cause no
 * error, and vkgan view shows a headless run. Needs Xvfb, xdotool and ImageMagick's import
 * (tools/setup.sh installs them). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stb_image.h>

#include "check.h"
#include "view/panels.h"

/* ---- waiting: for events and files, never for an amount of time ----
 * Every wait below ends when its condition holds (a file with its final name that parses, a line
 * in a log, a visible window, a process that exited). PATIENCE bounds each one only so that a
 * broken build fails instead of hanging: a loaded machine takes seconds, never this long. */
#define PATIENCE 300.0

static double clock_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* A short pause between two looks at a condition (so that polling leaves the CPU to others). */
static void between_looks(double s) {
    struct timespec t = {0, (long)(s * 1e9)};
    nanosleep(&t, NULL);
}

/* A file's first size-1 bytes as text ("" when it cannot be read). */
static void read_text(const char *path, char *text, size_t size) {
    text[0] = 0;
    FILE *f = fopen(path, "r");
    if (f) text[fread(text, 1, size - 1, f)] = 0, fclose(f);
}

/* Its last size-1 bytes (where a failing program's error is). */
static void read_tail(const char *path, char *text, size_t size) {
    text[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)size - 1)
        fseek(f, -((long)size - 1), SEEK_END);
    else
        fseek(f, 0, SEEK_SET);
    text[fread(text, 1, size - 1, f)] = 0;
    fclose(f);
}

/* ---- the processes a test starts: every one is killed and reaped however the test ends ---- */

typedef struct child {
    pid_t pid;
    int done, code; /* reaped; its exit code (-1 after a signal) */
} child;

static child children[8];
static int child_count;
static struct {
    pid_t pid;
    int display, had_display;
    char old_display[256];
} xvfb;

static void record_status(child *c, int status) {
    c->done = 1;
    c->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A process in a process group of its own, which the kernel signals when the tests die. */
static pid_t start_process(char *const *argv, const char *out, const char *err, int death_signal) {
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, death_signal);
        if (getppid() != parent) _exit(127);
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr)) _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0) setpgid(pid, pid); /* either side may win the race; both ask for the same */
    return pid;
}

/* Whether the process has exited (then reaped, with its exit code in *code). */
static int has_exited(pid_t pid, int *code) {
    for (int i = 0; i < child_count; i++) {
        child *c = &children[i];
        if (c->pid != pid) continue;
        int status;
        if (!c->done && waitpid(pid, &status, WNOHANG) == pid) record_status(c, status);
        if (c->done && code) *code = c->code;
        return c->done;
    }
    if (code) *code = -1; /* not one of ours */
    return 1;
}

static int xvfb_exited(void) {
    int status;
    if (xvfb.pid <= 0) return 1;
    if (waitpid(xvfb.pid, &status, WNOHANG) != xvfb.pid) return 0;
    xvfb.pid = 0;
    return 1;
}

/* An X server of the test's own: Xvfb picks a free display and writes its number to a pipe
 * once it accepts connections. */
static int start_xvfb(void) {
    const char *old = getenv("DISPLAY");
    xvfb.had_display = old != NULL;
    snprintf(xvfb.old_display, sizeof xvfb.old_display, "%s", old ? old : "");
    int fds[2];
    if (pipe(fds) != 0) {
        test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
        return -1;
    }
    char fd[16], log[4200];
    snprintf(fd, sizeof fd, "%d", fds[1]);
    snprintf(log, sizeof log, "%s/xvfb.txt", test_tmpdir());
    /* -noreset: by default the server resets when its last client leaves, and a client that
     * connects meanwhile (vkgan starting as an xdotool search ends) cannot open the display */
    char *argv[] = {"Xvfb", "-displayfd",  fd,          "-noreset", "-screen",
                    "0",    "1280x800x24", "-nolisten", "tcp",      NULL};
    /* SIGTERM, not SIGKILL, when the tests die: Xvfb then removes its socket */
    xvfb.pid = start_process(argv, "/dev/null", log, SIGTERM);
    close(fds[1]);
    char number[32] = "";
    size_t got = 0;
    double end = clock_s() + PATIENCE;
    while (xvfb.pid > 0 && !strchr(number, '\n') && got < sizeof number - 1) {
        int ms = (int)((end - clock_s()) * 1000);
        if (ms <= 0) break;
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ssize_t n = read(fds[0], number + got, sizeof number - 1 - got);
        if (n <= 0) break; /* it exited without a display */
        number[got += (size_t)n] = 0;
    }
    close(fds[0]);
    if (!strchr(number, '\n')) {
        char err[1024];
        read_text(log, err, sizeof err);
        test_fail(__FILE__, __LINE__, "Xvfb gave no display (apt-get install xvfb): %s", err);
        return -1;
    }
    xvfb.display = atoi(number);
    char display[32];
    snprintf(display, sizeof display, ":%d", xvfb.display);
    setenv("DISPLAY", display, 1);
    return 0;
}

/* Kills and reaps everything the test started, restores DISPLAY. */
static void stop_all(void) {
    for (int i = 0; i < child_count; i++) {
        child *c = &children[i];
        if (!c->done) {
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            int status;
            if (waitpid(c->pid, &status, 0) == c->pid) record_status(c, status);
        }
    }
    child_count = 0;
    if (xvfb.pid > 0) {
        kill(xvfb.pid, SIGTERM); /* it removes its socket on the way out */
        for (double end = clock_s() + PATIENCE; !xvfb_exited() && clock_s() < end;)
            between_looks(0.02);
        if (xvfb.pid > 0) { /* stuck: killed, and its socket file removed here */
            kill(xvfb.pid, SIGKILL);
            waitpid(xvfb.pid, NULL, 0);
            char path[64];
            snprintf(path, sizeof path, "/tmp/.X11-unix/X%d", xvfb.display);
            unlink(path);
        }
        xvfb.pid = 0;
        if (xvfb.had_display)
            setenv("DISPLAY", xvfb.old_display, 1);
        else
            unsetenv("DISPLAY");
    }
}

/* ---- shell tools ---- */

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

/* ---- a vkgan with a window, in the background ---- */

typedef struct app {
    const char *name; /* for messages, and the window's name */
    pid_t pid;
    char log[4200];   /* its stderr */
    char shots[4200]; /* where P writes: "vkgan: wrote <shots>/..." lines in the log */
    unsigned long wid;
    int shot_count; /* screenshots it reported writing */
} app;

static int start_app(app *a, const char *name, const char *log, const char *run, char **args) {
    memset(a, 0, sizeof *a);
    a->name = name;
    snprintf(a->log, sizeof a->log, "%s", log);
    snprintf(a->shots, sizeof a->shots, "%s/screenshots/", run);
    char *argv[64] = {(char *)test_vkgan_path()};
    for (int i = 0; args[i] && i < 62; i++) argv[i + 1] = args[i];
    if (child_count == (int)(sizeof children / sizeof *children)) return -1;
    a->pid = start_process(argv, "/dev/null", log, SIGKILL);
    if (a->pid < 0) return -1;
    children[child_count++] = (child){.pid = a->pid};
    return 0;
}

/* Whether it exited (then the test fails, with the end of its stderr). */
static int app_gone(app *a) {
    int code = -1;
    if (!has_exited(a->pid, &code)) return 0;
    char err[2048];
    read_tail(a->log, err, sizeof err);
    test_fail(__FILE__, __LINE__, "%s exited early (%d): %s", a->name, code, err);
    return 1;
}

static int out_of_patience(double end, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int out_of_patience(double end, const char *fmt, ...) {
    if (clock_s() < end) return 0;
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    test_fail(__FILE__, __LINE__, "%s (gave up after %.0f s)", what, PATIENCE);
    return 1;
}

/* Waits for its window to be mapped (keys reach a viewable window only); 1 once it is. */
static int find_window(app *a) {
    for (double end = clock_s() + PATIENCE; !app_gone(a); between_looks(0.1)) {
        char cmd[256], out[64] = "";
        snprintf(cmd, sizeof cmd, "xdotool search --onlyvisible --name '%s' 2>/dev/null | head -1",
                 a->name);
        FILE *p = popen(cmd, "r");
        int got = p && fgets(out, sizeof out, p);
        if (p) pclose(p);
        if (got && (a->wid = strtoul(out, NULL, 10)) != 0) return 1;
        if (out_of_patience(end, "no window for %s", a->name)) return 0;
    }
    return 0;
}

static int key(app *a, const char *keys) {
    return sh("xdotool windowfocus --sync %lu >/dev/null 2>&1 && xdotool key %s", a->wid, keys);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

/* Waits for `path` (written by the app) to have `want` complete lines. */
static int wait_lines(app *a, const char *path, int want) {
    for (double end = clock_s() + PATIENCE; !app_gone(a); between_looks(0.05)) {
        int n = count_lines(path);
        if (n >= want) return 1;
        if (out_of_patience(end, "%s has %d lines, not %d", path, n, want)) return 0;
    }
    return 0;
}

/* Waits for the app to exit; its exit code (-1 after a signal or when it did not exit). */
static int wait_exit(app *a) {
    int code = -1;
    for (double end = clock_s() + PATIENCE; !has_exited(a->pid, &code); between_looks(0.05))
        if (out_of_patience(end, "%s did not exit", a->name)) return -1;
    return code;
}

/* The path of the n-th (from 1) complete "vkgan: wrote <shots>/..." line of the log, or 0. */
static int nth_shot(const app *a, int n, char *path, size_t size) {
    static char text[1 << 16];
    read_text(a->log, text, sizeof text);
    const char *tag = "vkgan: wrote ";
    for (const char *p = text; (p = strstr(p, tag)) != NULL; p += strlen(tag)) {
        const char *name = p + strlen(tag), *eol = strchr(name, '\n');
        if (!eol) return 0; /* still being written */
        if (strncmp(name, a->shots, strlen(a->shots)) != 0) continue;
        if (--n == 0) {
            snprintf(path, size, "%.*s", (int)(eol - name), name);
            return 1;
        }
    }
    return 0;
}

/* ---- pictures ---- */

typedef struct picture {
    unsigned char *px;
    int w, h;
} picture;

static unsigned char *held[64]; /* freed when the test ends, however it ends */
static int held_count;

static picture load(const char *path) {
    picture p = {0};
    p.px = stbi_load(path, &p.w, &p.h, &(int){0}, 3);
    if (p.px && held_count < (int)(sizeof held / sizeof *held))
        held[held_count++] = p.px;
    else if (p.px) { /* more than a test needs: not kept */
        stbi_image_free(p.px);
        p.px = NULL;
    }
    return p;
}

/* Frees a picture before the test ends (one of many tries). */
static void drop(picture *p) {
    for (int i = 0; p->px && i < held_count; i++)
        if (held[i] == p->px) {
            stbi_image_free(held[i]);
            held[i] = held[--held_count];
            break;
        }
    *p = (picture){0};
}

static void drop_all(void) {
    for (int i = 0; i < held_count; i++) stbi_image_free(held[i]);
    held_count = 0;
}

/* Presses P and waits for the app to report the screenshot written; reads it. The report comes
 * after the rename that completes the file, so only a complete file with its final name is read
 * (never an atomic write's temporary). 1 when it was read. */
static int take_shot(app *a, picture *shot) {
    *shot = (picture){0};
    if (key(a, "p") != 0) {
        test_fail(__FILE__, __LINE__, "xdotool key p failed");
        return 0;
    }
    char path[4200];
    int n = a->shot_count + 1;
    for (double end = clock_s() + PATIENCE; !app_gone(a); between_looks(0.05)) {
        if (nth_shot(a, n, path, sizeof path)) {
            a->shot_count = n;
            *shot = load(path);
            if (!shot->px) test_fail(__FILE__, __LINE__, "cannot read the screenshot %s", path);
            return shot->px != NULL;
        }
        if (out_of_patience(end, "%s reported no screenshot %d after P", a->name, n)) return 0;
    }
    return 0;
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

static void trains_draws_and_takes_keys(void) {
    if (start_xvfb() < 0) return;
    const char *dir = test_tmpdir();
    char run[4200], log[4200], metrics[4300], ext[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(log, sizeof log, "%s/stderr.txt", dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run);
    snprintf(ext, sizeof ext, "%s/external.png", dir);
    char *args[] = {"train",       "--view", "--validation", "--quiet", "--steps", "100000",
                    "--g-width",   "4",      "--d-width",    "6",       "--batch", "16",
                    "--log-every", "5",      "--out",        run,       NULL};
    app a;
    CHECK(start_app(&a, "vkgan train", log, run, args) == 0, "cannot start vkgan train");
    CHECK(find_window(&a), "no window appeared");
    CHECK(wait_lines(&a, metrics, 2), "training did not log 10 steps");
    /* paused, the window's own screenshot equals what X shows (once X shows the last frame) */
    CHECK(key(&a, "space") == 0, "xdotool key failed");
    picture own, shown;
    rect window = {0, 0, 0, 0};
    for (double end = clock_s() + PATIENCE;;) {
        CHECK(take_shot(&a, &own), "no screenshot after P");
        CHECK(sh("import -window root '%s'", ext) == 0, "import -window root failed");
        shown = load(ext);
        CHECK(shown.px && shown.w >= own.w && shown.h >= own.h, "cannot read X's picture");
        window = (rect){0, 0, own.w, own.h};
        int d = differing(&own, &shown, window);
        if (d <= area(window) / 1000) break;
        if (out_of_patience(end, "%d pixels of the window differ from X's picture", d)) return;
        drop(&own), drop(&shown);
    }
    check_frame(&own, "first screenshot");
    /* resumed, the samples change (once a preview after the logged steps is shown) */
    int logged = count_lines(metrics);
    CHECK(key(&a, "space") == 0, "xdotool key failed");
    CHECK(wait_lines(&a, metrics, logged + 3), "training did not go on after Space");
    layout l = panels_layout(own.w, own.h);
    rect grid = {l.image.x0 + 8, l.image.y0 + 28, l.image.x1 - 8, l.image.y1 - 8};
    picture later;
    for (double end = clock_s() + PATIENCE;;) {
        CHECK(take_shot(&a, &later), "no second screenshot");
        int d = later.w == own.w && later.h == own.h ? differing(&own, &later, grid) : 0;
        if (d > area(grid) / 20) break;
        if (out_of_patience(end, "only %d grid pixels changed as training went on", d)) return;
        drop(&later);
    }
    check_frame(&later, "second screenshot");
    /* resizing, unmapping and mapping again: no error, the frame follows the size */
    CHECK(sh("xdotool windowsize --sync %lu 900 560", a.wid) == 0, "xdotool windowsize failed");
    picture small;
    for (double end = clock_s() + PATIENCE;;) {
        CHECK(take_shot(&a, &small), "no screenshot after resizing");
        if (small.w == 900 && small.h == 560) break;
        if (out_of_patience(end, "after resizing the frame is %dx%d", small.w, small.h)) return;
        drop(&small);
    }
    CHECK(sh("xdotool windowminimize %lu && xdotool windowunmap --sync %lu", a.wid, a.wid) == 0,
          "xdotool windowunmap failed");
    CHECK(sh("xdotool windowmap --sync %lu", a.wid) == 0, "xdotool windowmap failed");
    CHECK(key(&a, "h l f plus minus") == 0, "xdotool key failed");
    CHECK(take_shot(&a, &small), "no screenshot after unmapping and mapping");
    CHECK(small.w == 900 && small.h == 560, "after mapping again the frame is %dx%d", small.w,
          small.h);
    /* Q writes a checkpoint and exits 0; with --validation any message would exit 1 */
    CHECK(key(&a, "q") == 0, "xdotool key failed");
    int code = wait_exit(&a);
    char err[4096];
    read_text(log, err, sizeof err);
    CHECK(code == 0, "exit code %d after Q: %s", code, err);
    CHECK(!strstr(err, "alidation"), "stderr: %s", err);
    char ckpt[4300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints", run);
    CHECK(sh("ls '%s'/step-*.safetensors >/dev/null 2>&1", ckpt) == 0, "no checkpoint after Q");
}

TEST(view_trains_draws_and_takes_keys) {
    trains_draws_and_takes_keys();
    stop_all();
    drop_all();
}

static void shows_a_headless_run(void) {
    const char *dir = test_tmpdir();
    char args[8400], err[4096], shot[4200];
    snprintf(args, sizeof args,
             "train --quiet --steps 30 --g-width 4 --d-width 6 --batch 16 --log-every 5 "
             "--sample-every 10 --health-every 10 --health-samples 32 --out '%s/run'",
             dir);
    int code = test_run_vkgan("env -u DISPLAY", args, err, sizeof err);
    CHECK(code == 0, "headless training failed (%d): %s", code, err);
    if (start_xvfb() < 0) return;
    snprintf(shot, sizeof shot, "%s/view.png", dir);
    snprintf(args, sizeof args, "view '%s/run' --validation --screenshot '%s'", dir, shot);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "vkgan view failed (%d): %s", code, err);
    picture p = load(shot);
    check_frame(&p, "vkgan view");
    CHECK(p.px, "no screenshot from vkgan view --screenshot");
    layout l = panels_layout(p.w, p.h);
    /* the graph spans the logged steps: 5 .. 30 */
    CHECK(count_color(&p, l.graphs[1], 0x5fd068, 8) > 100, "no D(x) line");
    CHECK(count_color(&p, l.graphs[2], 0xc58af0, 8) > 100, "no FCD line");
    /* interactive: Home shows the first saved grid (step 0), W walks through latent space */
    char log[4200], run[4200];
    snprintf(log, sizeof log, "%s/view-stderr.txt", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    char *view_args[] = {"view", run, "--validation", NULL};
    app a;
    CHECK(start_app(&a, "vkgan view", log, run, view_args) == 0, "cannot start vkgan view");
    CHECK(find_window(&a), "no window for vkgan view");
    CHECK(key(&a, "Home") == 0, "xdotool key failed");
    picture saved, walking;
    CHECK(take_shot(&a, &saved), "no screenshot of the saved grid");
    CHECK(saved.w == p.w && saved.h == p.h, "the view's screenshot is %dx%d", saved.w, saved.h);
    rect grid = {l.image.x0 + 8, l.image.y0 + 28, l.image.x1 - 8, l.image.y1 - 40};
    CHECK(differing(&p, &saved, grid) > area(grid) / 20, "the saved grid looks like G's");
    CHECK(key(&a, "w") == 0, "xdotool key failed");
    for (double end = clock_s() + PATIENCE;;) { /* the walk starts at the fixed z, then leaves */
        CHECK(take_shot(&a, &walking), "no screenshot of the walk");
        CHECK(walking.w == p.w && walking.h == p.h, "the walk's screenshot is %dx%d", walking.w,
              walking.h);
        int d = differing(&p, &walking, grid);
        if (d > area(grid) / 20) break;
        if (out_of_patience(end, "the walk looks like the fixed z (%d pixels differ)", d)) return;
        drop(&walking);
    }
    CHECK(distinct_levels(&walking, grid) > 20, "the walk shows no samples");
    CHECK(key(&a, "q") == 0, "xdotool key failed");
    code = wait_exit(&a);
    read_tail(log, err, sizeof err);
    CHECK(code == 0, "vkgan view did not exit 0 after Q (%d): %s", code, err);
    /* the same run, a 2D one, through --view --screenshot of training itself */
    snprintf(shot, sizeof shot, "%s/ring.png", dir);
    snprintf(args, sizeof args,
             "train --data ring8 --quiet --steps 40 --log-every 10 --view --validation "
             "--screenshot '%s' --out '%s/ring'",
             shot, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "ring8 --view --screenshot failed (%d): %s", code, err);
    p = load(shot);
    CHECK(p.px != NULL, "no screenshot from train --view --screenshot");
    l = panels_layout(p.w, p.h);
    CHECK(count_color(&p, l.image, 0xe8a33d, 0) > 200, "no generated points in the scatter");
    CHECK(count_color(&p, l.image, 0x5b8fd9, 40) > 100, "no mode circles in the scatter");
}

TEST(view_shows_a_headless_run) {
    shows_a_headless_run();
    stop_all();
    drop_all();
}

/* A damaged newest checkpoint (a flipped bit, a NaN under a matching CRC-32, a folder in its
 * place) no longer refuses the whole run: view shows G from the newest one that loads, with one
 * warning line naming the damaged one, and with none that loads shows the run without G. */
static void passes_over_damaged_checkpoints(void) {
    const char *dir = test_tmpdir();
    char args[8400], err[4096], shot[4200], ckpt[2][4300];
    snprintf(args, sizeof args,
             "train --data ring8 --quiet --steps 4 --log-every 2 --checkpoint-every 2 "
             "--out '%s/run'",
             dir);
    int code = test_run_vkgan("env -u DISPLAY", args, err, sizeof err);
    CHECK(code == 0, "headless training failed (%d): %s", code, err);
    for (int i = 0; i < 2; i++)
        snprintf(ckpt[i], sizeof ckpt[i], "%s/run/checkpoints/step-00000000%d.safetensors", dir,
                 2 * i + 2);
    if (start_xvfb() < 0) return;
    snprintf(shot, sizeof shot, "%s/view.png", dir);
    snprintf(args, sizeof args, "view '%s/run' --validation --screenshot '%s'", dir, shot);
    for (int c = 0; c < 3; c++) {
        if (c == 0) { /* one bit of its last weight flipped: the CRC-32 no longer matches */
            FILE *f = fopen(ckpt[1], "r+b");
            int byte = f && fseek(f, -1, SEEK_END) == 0 ? fgetc(f) : EOF;
            int flipped =
                byte != EOF && fseek(f, -1, SEEK_END) == 0 && fputc(byte ^ 0x10, f) != EOF;
            if (f) fclose(f);
            CHECK(flipped, "cannot flip a bit of %s", ckpt[1]);
        } else if (c == 1) {
            CHECK(unlink(ckpt[1]) == 0 && mkdir(ckpt[1], 0777) == 0, "cannot make a folder");
        } else {
            CHECK(test_poison_safetensors(ckpt[0]) == 0, "cannot poison %s", ckpt[0]);
        }
        code = test_run_vkgan("", args, err, sizeof err);
        const char *warning = strstr(err, "vkgan: warning:");
        CHECK(code == 0 && warning && strstr(err, ckpt[1]) &&
                  !strstr(warning + 1, "vkgan: warning:"),
              "case %d: vkgan view (%d): %s", c, code, err);
        CHECK(c == 2 ? strstr(err, "no checkpoint loads") != NULL
                     : strstr(err, "of step 2, the newest that loads") != NULL,
              "case %d: %s", c, err);
        picture p = load(shot);
        CHECK(p.px, "case %d: no screenshot", c);
        layout l = panels_layout(p.w, p.h);
        int points = count_color(&p, l.image, 0xe8a33d, 0);
        CHECK(c == 2 ? points == 0 : points > 8, "case %d: %d generated points", c, points);
        drop(&p);
    }
}

TEST(view_passes_over_damaged_checkpoints) {
    passes_over_damaged_checkpoints();
    stop_all();
    drop_all();
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
