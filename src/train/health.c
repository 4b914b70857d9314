/* Failure detection over the logged intervals and quality checks (see health.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "train/health.h"

const char *health_kind_name(health_kind kind) {
    static const char *names[HEALTH_KINDS] = {"nonfinite",   "d_loss_zero", "saturation",
                                              "g_fooling_d", "oscillation", "mode_collapse",
                                              "fcd_jump"};
    return names[kind];
}

int health_exit_code(health_kind kind) {
    return 10 + (int)kind;
}

void health_init(health *h, double real_entropy, double real_diversity) {
    memset(h, 0, sizeof *h);
    h->real_entropy = real_entropy, h->real_diversity = real_diversity;
}

void health_reset(health *h, unsigned step) {
    h->count = h->nchecks = 0;
    h->judged_upto = step;
    memset(h->active, 0, sizeof h->active);
}

/* snprintf's length, however much of it fitted */
static size_t put(char *text, size_t size, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put(char *text, size_t size, size_t used, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(text + (used < size ? used : size), used < size ? size - used : 0, fmt, args);
    va_end(args);
    return used + (n > 0 ? (size_t)n : 0);
}

/* "h1 COUNT NCHECKS BEST_FCD MAX_ENTROPY MAX_DIVERSITY BEST_STEP JUDGED_UPTO ACTIVE..." then each
 * interval (FROM STEP LOSS_D LOSS_G D_X D_G_Z NONFINITE) and each check (STEP FCD); the numbers
 * as %a, exact */
int health_save(const health *h, char *text, size_t size) {
    size_t n = put(text, size, 0, "h1 %d %d %a %a %a %u %u", h->count, h->nchecks, h->best_fcd,
                   h->max_entropy, h->max_diversity, h->best_step, h->judged_upto);
    for (int k = 0; k < HEALTH_KINDS; k++) n = put(text, size, n, " %d", h->active[k]);
    for (int i = 0; i < h->count; i++) {
        const health_interval *v = &h->hist[i];
        n = put(text, size, n, " %u %u %a %a %a %a %u", v->from, v->step, v->loss_d, v->loss_g,
                v->d_x, v->d_g_z, v->nonfinite);
    }
    for (int i = 0; i < h->nchecks; i++)
        n = put(text, size, n, " %u %a", h->checks[i].step, h->checks[i].fcd);
    return (int)n;
}

int health_restore(health *h, const char *text) {
    health r = *h; /* the real data's numbers stay */
    int used = 0, at;
    if (!text ||
        sscanf(text, " h1 %d %d %lf %lf %lf %u %u%n", &r.count, &r.nchecks, &r.best_fcd,
               &r.max_entropy, &r.max_diversity, &r.best_step, &r.judged_upto, &used) != 7 ||
        r.count < 0 || r.count > HEALTH_WINDOW || r.nchecks < 0 || r.nchecks > HEALTH_WINDOW)
        return -1;
    for (int k = 0; k < HEALTH_KINDS; k++, used += at)
        if (sscanf(text + used, " %d%n", &r.active[k], &at) != 1) return -1;
    for (int i = 0; i < r.count; i++, used += at) {
        health_interval *v = &r.hist[i];
        if (sscanf(text + used, " %u %u %lf %lf %lf %lf %u%n", &v->from, &v->step, &v->loss_d,
                   &v->loss_g, &v->d_x, &v->d_g_z, &v->nonfinite, &at) != 7)
            return -1;
    }
    for (int i = 0; i < r.nchecks; i++, used += at)
        if (sscanf(text + used, " %u %lf%n", &r.checks[i].step, &r.checks[i].fcd, &at) != 2)
            return -1;
    if (text[used]) return -1;
    *h = r;
    return 0;
}

unsigned health_horizon(const health *h) {
    /* the interval trends reach back to the window's first interval, quality events to the
     * step after the previous check; new evidence starts after what was judged */
    unsigned from = h->count ? h->hist[0].from : h->judged_upto + 1;
    if (h->nchecks && h->checks[h->nchecks - 1].step + 1 < from)
        from = h->checks[h->nchecks - 1].step + 1;
    return from;
}

/* Raises kind when cond holds and it is not active; clears it when cond does not hold. */
static int raise(health *h, health_kind kind, int cond, unsigned step, unsigned since,
                 health_event *ev, int *n, int max, const char *fmt, ...) {
    if (!cond) {
        h->active[kind] = 0;
        return 0;
    }
    if (h->active[kind] || *n >= max) return 0;
    h->active[kind] = 1;
    health_event *e = &ev[(*n)++];
    e->kind = kind, e->step = step, e->since = since;
    va_list args;
    va_start(args, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, args);
    va_end(args);
    return 1;
}

/* The newest k intervals all satisfy the test. */
static int last_k(const health *h, int k, int (*test)(const health_interval *)) {
    if (h->count < k) return 0;
    for (int i = h->count - k; i < h->count; i++)
        if (!test(&h->hist[i])) return 0;
    return 1;
}

static int d_zero(const health_interval *i) {
    return i->loss_d < HEALTH_D_ZERO_LOSS;
}

static int saturated(const health_interval *i) {
    return i->d_x > 1 - HEALTH_SATURATION && i->d_g_z < HEALTH_SATURATION;
}

/* Series values of the window: which = 0 loss_d, 1 loss_g, 2 d_g_z. */
static double value(const health_interval *i, int which) {
    return which == 0 ? i->loss_d : which == 1 ? i->loss_g : i->d_g_z;
}

/* Mean of the first (or last) three intervals of the window. */
static double end_mean(const health *h, int which, int last) {
    double s = 0;
    for (int i = 0; i < 3; i++) s += value(&h->hist[last ? h->count - 1 - i : i], which);
    return s / 3;
}

/* Successive differences of the window: how many are negative, and how many change sign. */
static void moves(const health *h, int which, int *falls, int *turns, double *mean_abs) {
    *falls = *turns = 0, *mean_abs = 0;
    double prev = 0;
    for (int i = 1; i < h->count; i++) {
        double d = value(&h->hist[i], which) - value(&h->hist[i - 1], which);
        *falls += d < 0, *mean_abs += fabs(d) / (h->count - 1);
        if (i > 1 && d * prev < 0) ++*turns;
        prev = d;
    }
}

/* Whether a quality check inside the window improved on the best FCD from before it. */
static int fcd_improved_in_window(const health *h) {
    unsigned from = h->hist[0].step;
    double before = INFINITY, inside = INFINITY;
    int seen = 0;
    for (int i = 0; i < h->nchecks; i++) {
        if (h->checks[i].step < from) {
            before = fmin(before, h->checks[i].fcd);
        } else {
            inside = fmin(inside, h->checks[i].fcd), seen++;
        }
    }
    if (h->best_step < from && h->best_fcd > 0) before = fmin(before, h->best_fcd);
    return seen < 2 || !isfinite(before) || inside < before;
}

int health_interval_check(health *h, const health_interval *in, health_event *ev, int max) {
    int n = 0;
    if (h->count == HEALTH_WINDOW) memmove(h->hist, h->hist + 1, sizeof h->hist[0] * --h->count);
    h->hist[h->count++] = *in;
    if (in->step > h->judged_upto) h->judged_upto = in->step;
    unsigned s = in->step, first = h->hist[0].from;
    int bad_loss = !isfinite(in->loss_d) || !isfinite(in->loss_g);
    static const char *where[4] = {"G's weights", "G's gradients", "D's weights", "D's gradients"};
    char what[128] = "";
    for (int i = 0; i < 4; i++)
        if (in->nonfinite & 1u << i)
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? ", " : "",
                     where[i]);
    raise(h, HEALTH_NONFINITE, bad_loss || in->nonfinite, s, in->from, ev, &n, max,
          "not finite: %s%s(loss D %g, G %g)", what, what[0] ? " " : "", in->loss_d, in->loss_g);
    if (bad_loss || in->nonfinite) return n; /* the trends below mean nothing now */
    unsigned kth = h->count >= HEALTH_PATIENCE ? h->hist[h->count - HEALTH_PATIENCE].from : s;
    raise(h, HEALTH_D_ZERO, last_k(h, HEALTH_PATIENCE, d_zero), s, kth, ev, &n, max,
          "D's loss below %.2f for %d intervals (now %.4f): D has won and G gets no gradient",
          HEALTH_D_ZERO_LOSS, HEALTH_PATIENCE, in->loss_d);
    raise(h, HEALTH_SATURATED, last_k(h, HEALTH_PATIENCE, saturated), s, kth, ev, &n, max,
          "D(x) %.4f and D(G(z)) %.4f for %d intervals: D is saturated", in->d_x, in->d_g_z,
          HEALTH_PATIENCE);
    if (h->count < HEALTH_WINDOW) return n;
    int falls, turns, rises_dgz, turns_dgz, turns_d, falls_d;
    double swing, swing_dgz, swing_d;
    moves(h, 1, &falls, &turns, &swing);
    moves(h, 2, &rises_dgz, &turns_dgz, &swing_dgz);
    rises_dgz = HEALTH_WINDOW - 1 - rises_dgz;
    double g0 = end_mean(h, 1, 0), g1 = end_mean(h, 1, 1);
    double p0 = end_mean(h, 2, 0), p1 = end_mean(h, 2, 1);
    int fooling = g1 < 0.8 * g0 && falls >= 6 && p1 - p0 > 0.1 && rises_dgz >= 6 &&
                  h->best_fcd > 0 && !fcd_improved_in_window(h);
    raise(h, HEALTH_G_FOOLING, fooling, s, first, ev, &n, max,
          "G's loss fell %.3f -> %.3f and D(G(z)) rose %.3f -> %.3f over steps %u-%u while the "
          "FCD did not improve (best %.2f at step %u)",
          g0, g1, p0, p1, first, s, h->best_fcd, h->best_step);
    moves(h, 0, &falls_d, &turns_d, &swing_d);
    double mean_g = (g0 + g1) / 2, mean_d = (end_mean(h, 0, 0) + end_mean(h, 0, 1)) / 2;
    int osc_g = turns >= HEALTH_WINDOW - 3 && swing > 0.5 * mean_g;
    int osc_d = turns_d >= HEALTH_WINDOW - 3 && swing_d > 0.5 * mean_d;
    raise(h, HEALTH_OSCILLATION, osc_g || osc_d, s, first, ev, &n, max,
          "the %s loss changed direction %d times in %d intervals, by %.3f on average (mean "
          "%.3f)",
          osc_g ? "G" : "D", osc_g ? turns : turns_d, HEALTH_WINDOW, osc_g ? swing : swing_d,
          osc_g ? mean_g : mean_d);
    return n;
}

int health_quality_check(health *h, unsigned step, double fcd, double entropy, double diversity,
                         health_event *ev, int max) {
    int n = 0;
    if (h->nchecks == HEALTH_WINDOW)
        memmove(h->checks, h->checks + 1, sizeof h->checks[0] * --h->nchecks);
    h->checks[h->nchecks].step = step, h->checks[h->nchecks++].fcd = fcd;
    if (step > h->judged_upto) h->judged_upto = step;
    /* the state at the previous check was judged healthy: the evidence starts after it */
    unsigned since = h->nchecks > 1 ? h->checks[h->nchecks - 2].step + 1 : step;
    if (!isfinite(fcd)) return n;
    /* collapse is a fall: the value must have been above its threshold before */
    double low_div = HEALTH_COLLAPSE_DIVERSITY * h->real_diversity,
           low_ent = HEALTH_COLLAPSE_ENTROPY * h->real_entropy;
    int fell_div = h->max_diversity >= low_div && diversity < low_div;
    int fell_ent = h->max_entropy >= low_ent && entropy < low_ent;
    int fell_far = h->max_diversity > 0 && diversity < HEALTH_COLLAPSE_FALL * h->max_diversity;
    raise(h, HEALTH_MODE_COLLAPSE, h->real_entropy > 0 && (fell_div || fell_ent || fell_far), step,
          since, ev, &n, max,
          "sample diversity %.3g (real %.3g, best %.3g) and class entropy %.3f nats (real %.3f, "
          "best %.3f): the samples collapsed",
          diversity, h->real_diversity, h->max_diversity, entropy, h->real_entropy, h->max_entropy);
    raise(h, HEALTH_FCD_JUMP, h->best_fcd > 0 && fcd > HEALTH_FCD_JUMP_FACTOR * h->best_fcd, step,
          since, ev, &n, max, "FCD %.2f is %.1fx its best %.2f (step %u)", fcd, fcd / h->best_fcd,
          h->best_fcd, h->best_step);
    if (diversity > h->max_diversity) h->max_diversity = diversity;
    if (entropy > h->max_entropy) h->max_entropy = entropy;
    if (h->best_fcd <= 0 || fcd < h->best_fcd) h->best_fcd = fcd, h->best_step = step;
    return n;
}
