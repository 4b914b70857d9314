/* vkgan train on the terminal: notes, warnings and the progress line, --profile's table, and
 * the VKGAN_FAULT test seam (see train_observers.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/train_observers.h"
#include "vkgan/clock.h"
#include "vkgan/error.h"

const char *train_console_clear(const train_console *c) {
    return c->tty ? "\r\033[K" : "";
}

static void message(void *user, vkg_train_level level, const char *text) {
    train_console *c = user;
    if (level == VKG_TRAIN_WARNING) {
        fprintf(stderr, "%s%s\n", train_console_clear(c), text);
    } else if (level == VKG_TRAIN_REMARK) {
        if (!c->quiet) fprintf(stderr, "%s\n", text);
    } else if (!c->quiet) {
        printf("%s\n", text);
        fflush(stdout);
    }
}

static int start(void *user, vkg_trainer *t, const vkg_train_info *info) {
    (void)t;
    train_console *c = user;
    c->batch = info->options->batch;
    c->start_step = info->start_step;
    return 0;
}

/* One line per metrics line, rewritten in place on a terminal. */
static int progress(void *user, const vkg_train_metrics *m) {
    train_console *c = user;
    if (c->quiet) return 0;
    char eta[32];
    double rate = m->images_per_s / c->batch; /* steps per second */
    vkg_duration_text(rate > 0 ? (m->total_steps - (int)m->step) / rate : 0, eta, sizeof eta);
    fprintf(stderr,
            "%sstep %u/%d (%.0f%%)  epoch %.2f  %.0f img/s  ETA %s  loss D %.3f G %.3f  "
            "D(x) %.3f  D(G(z)) %.3f",
            train_console_clear(c), m->step, m->total_steps, 100.0 * m->step / m->total_steps,
            m->epoch, m->images_per_s, eta, m->loss_d, m->loss_g, m->d_x, m->d_g_z);
    if (m->modes >= 0) fprintf(stderr, "  modes %d  hq %.0f%%", m->modes, 100 * m->high_quality);
    if (m->fcd_known) /* the newest check's, which may be older */
        fprintf(stderr, "  FCD %.2f (step %u)", m->fcd, m->fcd_step);
    fputs(c->tty ? "" : "\n", stderr);
    fflush(stderr);
    return 0;
}

static int event(void *user, const vkg_train_event *e) {
    train_console *c = user;
    if (e->kind == VKG_TRAIN_QUALITY) c->fcd_known = 1, c->fcd = e->fcd, c->fcd_step = e->step;
    if (e->kind == VKG_TRAIN_ROLLBACK) c->fcd_known = 0;
    return 0;
}

vkg_train_observer train_console_observer(train_console *c) {
    return (vkg_train_observer){
        .user = c, .message = message, .start = start, .metrics = progress, .event = event};
}

int train_print_profile(vkg_gan *gan) {
    const char *names[64];
    double ms[64], total = 0;
    int calls[64], n = vkg_gan_profile(gan, names, ms, calls, 64);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) total += ms[i];
    printf("GPU time of one step, by kernel (%.2f ms in all):\n", total);
    for (int i = 0; i < n; i++)
        printf("  %-28s %4d dispatches %9.2f ms %5.1f%%\n", names[i], calls[i], ms[i],
               100 * ms[i] / total);
    return 0;
}

/* ---- VKGAN_FAULT ---- */

int train_faults_parse(train_faults *f, const char *spec) {
    const int most = (int)(sizeof f->f / sizeof *f->f);
    for (const char *p = spec; p && *p;) {
        char kind[16], *end = NULL;
        int used = 0;
        unsigned long step = 0;
        /* KIND@STEP, STEP digits only (strtoul alone would take "-1" and wrap it) */
        int ok = sscanf(p, "%15[a-z-]@%n", kind, &used) == 1 && used > 0 &&
                 isdigit((unsigned char)p[used]);
        if (ok) {
            errno = 0;
            step = strtoul(p + used, &end, 10);
            ok = errno == 0 && step <= UINT_MAX && (*end == 0 || *end == ',');
        }
        if (!ok || (strcmp(kind, "nan") && strcmp(kind, "collapse") && strcmp(kind, "freeze-g")))
            return vkg_set_error("VKGAN_FAULT=%s: expected KIND@STEP[,KIND@STEP...] with KIND "
                                 "nan, collapse or freeze-g and STEP 0 to %u",
                                 spec, UINT_MAX);
        if (f->count == most) return vkg_set_error("VKGAN_FAULT=%s: at most %d faults", spec, most);
        train_fault *t = &f->f[f->count++];
        snprintf(t->kind, sizeof t->kind, "%s", kind);
        t->step = (unsigned)step;
        p = end + (*end == ',');
    }
    return 0;
}

static int inject(void *user, vkg_trainer *t, unsigned step) {
    train_faults *f = user;
    for (int i = 0; i < f->count; i++) {
        if (f->f[i].done || step != f->f[i].step) continue;
        f->f[i].done = 1;
        int rc = vkg_trainer_inject_fault(t, f->f[i].kind);
        fprintf(stderr, "%svkgan: VKGAN_FAULT: %s injected after step %u\n",
                train_console_clear(f->console), f->f[i].kind, step);
        if (rc < 0) return vkg_set_error("VKGAN_FAULT: %s", vkg_error());
    }
    return 0;
}

vkg_train_observer train_faults_observer(train_faults *f) {
    return (vkg_train_observer){.user = f, .submitted = inject};
}
