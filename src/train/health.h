/* Training health: the known failure modes of GAN training recognised from the logged
 * intervals (means over --log-every steps) and the quality checks. Pure logic on numbers: the
 * run feeds it, prints, logs and acts on what it returns. */
#ifndef VKGAN_TRAIN_HEALTH_H
#define VKGAN_TRAIN_HEALTH_H

#include <stddef.h>

typedef enum health_kind {
    HEALTH_NONFINITE,     /* NaN or Inf in a loss, a gradient or a weight */
    HEALTH_D_ZERO,        /* D's loss near 0 for `patience` intervals: D has won */
    HEALTH_SATURATED,     /* D(x) -> 1 and D(G(z)) -> 0 for `patience` intervals */
    HEALTH_G_FOOLING,     /* G's loss falls and D(G(z)) rises while the FCD does not improve */
    HEALTH_OSCILLATION,   /* the losses swing up and down, interval after interval */
    HEALTH_MODE_COLLAPSE, /* diversity or class entropy fell far below the real data's */
    HEALTH_FCD_JUMP,      /* the FCD jumped by a large factor from its best */
    HEALTH_KINDS
} health_kind;

/* "nonfinite", "d_loss_zero", "saturation", "g_fooling_d", "oscillation", "mode_collapse",
 * "fcd_jump" */
const char *health_kind_name(health_kind kind);
/* The exit code of --on-failure stop for a kind: 10 + kind (10 .. 16). */
int health_exit_code(health_kind kind);

/* The thresholds (README, "Training health"). */
#define HEALTH_WINDOW 10              /* intervals a trend is judged over */
#define HEALTH_PATIENCE 5             /* consecutive intervals for D's loss and saturation */
#define HEALTH_D_ZERO_LOSS 0.05       /* D's loss (real + fake BCE) below this is "near 0" */
#define HEALTH_SATURATION 0.02        /* D(x) > 1 - this and D(G(z)) < this */
#define HEALTH_COLLAPSE_DIVERSITY 0.2 /* of the real data's feature diversity */
#define HEALTH_COLLAPSE_ENTROPY 0.5   /* of the real data's class entropy */
#define HEALTH_COLLAPSE_FALL 0.1      /* of the best diversity so far */
#define HEALTH_FCD_JUMP_FACTOR 2.5

typedef struct health_event {
    health_kind kind;
    unsigned step;  /* when it was recognised */
    unsigned since; /* the first step of the evidence (a rollback goes to a checkpoint before it) */
    char detail[256];
} health_event;

/* The means of steps from .. step (a logging interval). */
typedef struct health_interval {
    unsigned from, step;
    double loss_d, loss_g, d_x, d_g_z;
    unsigned nonfinite; /* vkg_gan_nonfinite's mask */
} health_interval;

typedef struct health {
    health_interval hist[HEALTH_WINDOW];
    int count; /* intervals in hist (the newest last) */
    struct {
        unsigned step;
        double fcd;
    } checks[HEALTH_WINDOW];
    int nchecks;
    double best_fcd, max_entropy, max_diversity;
    unsigned best_step;
    double real_entropy, real_diversity;
    unsigned judged_upto;     /* the last step of the newest interval or check */
    int active[HEALTH_KINDS]; /* raised and not yet cleared: not raised again */
} health;

/* real_entropy, real_diversity: the real test set's (0 when there is no classifier). */
void health_init(health *h, double real_entropy, double real_diversity);
/* Forgets the recent history: training goes on after `step` (a rollback to it, a resume); the
 * best FCD is kept. */
void health_reset(health *h, unsigned step);
/* The state the checks judge by (the window of intervals and checks, the bests, the events
 * raised and not cleared; not the real data's numbers, health_init's) as one line of text, for a
 * checkpoint: a run resumed from it judges as one that never stopped. health_save returns the
 * length (>= size: it did not fit); health_restore 0, or -1 (h unchanged) when the text is not
 * health_save's. */
int health_save(const health *h, char *text, size_t size);
int health_restore(health *h, const char *text);
/* The first step that evidence of a failure still to be recognised can start at: every event
 * from now on has `since` at or after it, so the newest checkpoint before it is the one a
 * rollback may need (checkpoint rotation keeps it). */
unsigned health_horizon(const health *h);
/* One logging interval; returns the number of new events written to ev (at most max). */
int health_interval_check(health *h, const health_interval *in, health_event *ev, int max);
/* One quality check (FCD, entropy, diversity); returns the number of new events. */
int health_quality_check(health *h, unsigned step, double fcd, double entropy, double diversity,
                         health_event *ev, int max);

#endif
