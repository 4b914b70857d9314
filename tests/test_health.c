/* Failure detection on made-up training curves: each event is raised at the interval where its
 * evidence is complete (not before), once, with the numbers that triggered it; healthy curves
 * (noisy, as real ones are) raise nothing. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "train/health.h"

/* Feeds intervals 1..n (steps 50 (i - 1) + 1 .. 50 i) from a curve; returns the step of the first
 * event of `kind` (0: none) and counts all events. */
typedef void (*curve_fn)(int i, health_interval *out);

static unsigned feed(health *h, curve_fn curve, int n, health_kind kind, int *events,
                     health_event *first) {
    unsigned at = 0;
    *events = 0;
    for (int i = 1; i <= n; i++) {
        health_interval in = {.from = 50u * (i - 1) + 1, .step = 50u * i};
        curve(i, &in);
        health_event ev[8];
        int k = health_interval_check(h, &in, ev, 8);
        *events += k;
        for (int j = 0; j < k; j++)
            if (ev[j].kind == kind && !at) at = ev[j].step, *first = ev[j];
    }
    return at;
}

/* A healthy run: losses wander around 1.2 / 1.0 with noise, D(x) ~ 0.7, D(G(z)) ~ 0.3. */
static void healthy(int i, health_interval *o) {
    double noise = sin(i * 2.3) * 0.08 + cos(i * 0.7) * 0.05;
    o->loss_d = 1.2 + noise, o->loss_g = 1.0 - noise, o->d_x = 0.7 + noise / 4, o->d_g_z = 0.3;
}

/* Healthy, then from interval 11 on D's loss is 0.01 and D is saturated. */
static void d_wins(int i, health_interval *o) {
    healthy(i, o);
    if (i >= 11) o->loss_d = 0.01, o->d_x = 0.995, o->d_g_z = 0.005, o->loss_g = 6;
}

static void nan_at_7(int i, health_interval *o) {
    healthy(i, o);
    if (i == 7) o->nonfinite = 2; /* G's gradients */
}

static void oscillating(int i, health_interval *o) {
    healthy(i, o);
    if (i >= 5) o->loss_g = i % 2 ? 3.0 : 0.5;
}

/* G's loss falls from 3 to 0.5 and D(G(z)) rises from 0.1 to 0.6 over intervals 1..10. */
static void fooling(int i, health_interval *o) {
    healthy(i, o);
    o->loss_g = 3.0 - 0.25 * (i - 1) + 0.01 * (i % 2), o->d_g_z = 0.1 + 0.055 * (i - 1);
}

TEST(health_healthy_run_raises_nothing) {
    health h;
    health_init(&h, log(10), 5);
    health_event e;
    int events;
    feed(&h, healthy, 200, HEALTH_D_ZERO, &events, &e);
    CHECK(events == 0, "%d events on a healthy curve", events);
    for (int i = 1; i <= 20; i++) { /* FCD falling with noise, entropy and diversity fine */
        health_event ev[4];
        int k = health_quality_check(&h, 100u * i, 80.0 / i + 3 * (i % 3), 2.1, 4 + (i % 2), ev, 4);
        CHECK(k == 0, "quality check %d raised %s", i, k ? health_kind_name(ev[0].kind) : "");
    }
}

TEST(health_d_loss_zero_and_saturation_after_patience) {
    health h;
    health_init(&h, 0, 0);
    health_event e;
    int events;
    unsigned at = feed(&h, d_wins, 30, HEALTH_D_ZERO, &events, &e);
    /* the evidence starts at interval 11 (steps 501-550) and is complete 5 intervals later */
    CHECK(at == 50u * (10 + HEALTH_PATIENCE), "d_loss_zero at step %u", at);
    CHECK(e.since == 501, "since step %u", e.since);
    CHECK(strstr(e.detail, "0.0100") != NULL, "detail: %s", e.detail);
    health_init(&h, 0, 0);
    at = feed(&h, d_wins, 30, HEALTH_SATURATED, &events, &e);
    CHECK(at == 50u * (10 + HEALTH_PATIENCE), "saturation at step %u", at);
    CHECK(events == 2, "%d events: each kind once while it lasts", events);
}

TEST(health_nonfinite_at_once) {
    health h;
    health_init(&h, 0, 0);
    health_event e;
    int events;
    unsigned at = feed(&h, nan_at_7, 12, HEALTH_NONFINITE, &events, &e);
    /* the NaN is in the interval of steps 301-350: a rollback goes to step 300 or before */
    CHECK(at == 350 && e.since == 301, "nonfinite at step %u since %u", at, e.since);
    CHECK(strstr(e.detail, "G's gradients") != NULL, "detail: %s", e.detail);
    health_interval nan_loss = {.from = 651, .step = 700, .loss_d = NAN, .loss_g = 1};
    health_event ev[4];
    CHECK(health_interval_check(&h, &nan_loss, ev, 4) == 1 && ev[0].kind == HEALTH_NONFINITE,
          "a NaN loss is an event");
}

TEST(health_oscillation_once_the_window_is_full) {
    health h;
    health_init(&h, 0, 0);
    health_event e;
    int events;
    unsigned at = feed(&h, oscillating, 40, HEALTH_OSCILLATION, &events, &e);
    /* swinging by 2.5 from interval 5 (the noise before turns too, but by 0.1): judged from the
     * first full window, interval 10 */
    CHECK(at == 50u * HEALTH_WINDOW, "oscillation at step %u (%s)", at, e.detail);
    CHECK(events == 1, "%d events", events);
}

TEST(health_g_fooling_d_needs_flat_quality) {
    for (int improving = 0; improving < 2; improving++) {
        health h;
        health_init(&h, 0, 0);
        health_event ev[4];
        health_quality_check(&h, 0, 50, 2, 5, ev, 4); /* the best FCD before the window */
        /* quality checks every other interval: flat at 60, or improving to 20 */
        int events = 0;
        unsigned at = 0;
        for (int i = 1; i <= 10; i++) {
            health_interval in = {.from = 50u * (i - 1) + 1, .step = 50u * i};
            fooling(i, &in);
            if (i % 2 == 0)
                health_quality_check(&h, in.step, improving ? 50.0 - 3 * i : 60, 2, 5, ev, 4);
            int k = health_interval_check(&h, &in, ev, 4);
            for (int j = 0; j < k; j++)
                if (ev[j].kind == HEALTH_G_FOOLING) at = in.step, events++;
        }
        if (improving)
            CHECK(events == 0, "raised while the FCD improved");
        else
            CHECK(events == 1 && at == 500, "g_fooling_d at step %u (%d events)", at, events);
    }
}

TEST(health_mode_collapse_and_fcd_jump) {
    health h;
    health_init(&h, log(10), 5);
    health_event ev[4];
    /* early noise: low entropy before it ever rose is not a collapse */
    CHECK(health_quality_check(&h, 100, 300, 0.2, 0.3, ev, 4) == 0, "early low entropy raised");
    CHECK(health_quality_check(&h, 200, 40, 2.2, 4.0, ev, 4) == 0, "a good check raised");
    CHECK(health_quality_check(&h, 300, 30, 2.1, 4.2, ev, 4) == 0, "a better check raised");
    int k = health_quality_check(&h, 400, 31, 2.0, 0.5, ev, 4); /* diversity 0.5 < 0.2 * 5 */
    /* the check at 300 was healthy: the evidence starts after it */
    CHECK(k == 1 && ev[0].kind == HEALTH_MODE_COLLAPSE && ev[0].step == 400 && ev[0].since == 301,
          "mode collapse: %d events", k);
    k = health_quality_check(&h, 500, 80, 2.0, 4.0, ev, 4); /* 80 > 2.5 * 30 */
    CHECK(k == 1 && ev[0].kind == HEALTH_FCD_JUMP && strstr(ev[0].detail, "2.7x"),
          "fcd jump: %d events %s", k, k ? ev[0].detail : "");
    /* a fall to a tenth of its own best, however low the best was (a tiny G's) */
    health_init(&h, log(10), 100);
    CHECK(health_quality_check(&h, 0, 90, 0, 0.3, ev, 4) == 0, "the first check raised");
    CHECK(health_quality_check(&h, 10, 90, 0, 0.2, ev, 4) == 0, "a small fall raised");
    k = health_quality_check(&h, 20, 97, 0, 0.01, ev, 4);
    CHECK(k == 1 && ev[0].kind == HEALTH_MODE_COLLAPSE, "a fall to 1/30 of the best: %d", k);
    CHECK(health_exit_code(HEALTH_NONFINITE) == 10 && health_exit_code(HEALTH_FCD_JUMP) == 16,
          "exit codes");
}

/* The horizon: no event raised later names a step before it, so the newest checkpoint before it
 * is the one rotation must keep. */
TEST(health_horizon_bounds_every_later_since) {
    curve_fn curves[3] = {d_wins, nan_at_7, oscillating};
    for (int c = 0; c < 3; c++) {
        health h;
        health_init(&h, 0, 0);
        CHECK(health_horizon(&h) == 1, "a fresh run's horizon is %u", health_horizon(&h));
        unsigned horizons[41];
        int raised = 0;
        for (int i = 1; i <= 40; i++) {
            horizons[i - 1] = health_horizon(&h);
            health_interval in = {.from = 50u * (i - 1) + 1, .step = 50u * i};
            curves[c](i, &in);
            health_event ev[8];
            int k = health_interval_check(&h, &in, ev, 8);
            for (int j = 0; j < k; j++, raised++)
                for (int before = 0; before < i; before++)
                    CHECK(ev[j].since >= horizons[before],
                          "curve %d: %s since %u, but the horizon was %u before interval %d", c,
                          health_kind_name(ev[j].kind), ev[j].since, horizons[before], before + 1);
        }
        CHECK(raised > 0, "curve %d raised nothing", c);
    }
    health h;
    health_init(&h, 0, 0);
    health_event ev[4];
    health_quality_check(&h, 100, 50, 2, 5, ev, 4);
    CHECK(health_horizon(&h) == 101, "after a check at 100 the horizon is %u", health_horizon(&h));
}

/* The state saved in a checkpoint and restored in a fresh tracker (as a resumed run makes it)
 * judges every later interval and check exactly as the tracker that never stopped: the same
 * events with the same details, and the same state after; text that is not a saved state is
 * refused and changes nothing. */
TEST(health_saved_state_judges_as_the_tracker_that_never_stopped) {
    health a, b;
    health_init(&a, log(10), 5);
    health_event ev[8], ew[8];
    int events = 0;
    health_event first;
    feed(&a, d_wins, 13, HEALTH_D_ZERO, &events, &first); /* 3 of 5 intervals of D winning */
    health_quality_check(&a, 300, 30, 2.1, 4.2, ev, 8);
    health_quality_check(&a, 650, NAN, 2.1, 4.2, ev, 8);
    char text[4096], again[4096];
    CHECK(health_save(&a, text, sizeof text) < (int)sizeof text, "the state does not fit");
    health_init(&b, log(10), 5);
    CHECK(health_restore(&b, "h1 3 1 nonsense") < 0 && b.count == 0 && b.best_fcd == 0,
          "a bad state was taken");
    CHECK(health_restore(&b, text) == 0, "the saved state was refused: %s", text);
    for (int i = 14; i <= 30; i++) {
        health_interval in = {.from = 50u * (i - 1) + 1, .step = 50u * i};
        d_wins(i, &in);
        int k = health_interval_check(&a, &in, ev, 8), m = health_interval_check(&b, &in, ew, 8);
        if (i == 20) {
            k += health_quality_check(&a, 1000, 95, 0.5, 0.3, ev + k, 8 - k);
            m += health_quality_check(&b, 1000, 95, 0.5, 0.3, ew + m, 8 - m);
        }
        CHECK(k == m, "interval %d: %d events, %d after the restore", i, k, m);
        for (int j = 0; j < k && j < m; j++)
            CHECK(ev[j].kind == ew[j].kind && ev[j].since == ew[j].since &&
                      strcmp(ev[j].detail, ew[j].detail) == 0,
                  "interval %d: %s, after the restore %s", i, ev[j].detail, ew[j].detail);
    }
    health_save(&a, text, sizeof text), health_save(&b, again, sizeof again);
    CHECK(strcmp(text, again) == 0, "the states differ:\n%s\n%s", text, again);
}
