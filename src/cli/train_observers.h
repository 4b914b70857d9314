/* The observers vkgan train composes around the trainer (include/vkgan/train.h): the console
 * (notes on stdout, warnings and the progress line on stderr), the VKGAN_FAULT test seam, and
 * the window (--view). */
#ifndef VKGAN_CLI_TRAIN_OBSERVERS_H
#define VKGAN_CLI_TRAIN_OBSERVERS_H

#include "vkgan/train.h"

/* ---- the console (train_console.c) ---- */
typedef struct train_console {
    int quiet, tty; /* --quiet; stderr is a terminal (the progress line rewrites itself) */
    int batch;      /* the run's batch, for the progress line's rate */
    int fcd_known;  /* the newest quality check's FCD and step (since the last rollback), which */
    double fcd;     /* the end of the run reports: the check at the last step comes after the */
    unsigned fcd_step;   /* last progress line */
    unsigned start_step; /* the step training started at (a resumed run's checkpoint's) */
} train_console;
/* Notes (unless quiet), warnings, and a progress line per metrics line (unless quiet); keeps the
 * newest FCD for the end of the run. */
vkg_train_observer train_console_observer(train_console *c);
/* "\r\033[K" on a terminal (the progress line is cleared first), else "". */
const char *train_console_clear(const train_console *c);
/* GPU time per kernel of the last step (--profile), on stdout. */
int train_print_profile(vkg_gan *gan);

/* ---- VKGAN_FAULT=KIND@STEP[,KIND@STEP...] (train_console.c) ---- */
typedef struct train_fault {
    char kind[16];
    unsigned step;
    int done;
} train_fault;
typedef struct train_faults {
    train_fault f[4];
    int count;
    const train_console *console;
} train_faults;
/* Parses the variable's value (NULL: none); -1 with vkg_error() naming it. */
int train_faults_parse(train_faults *f, const char *spec);
/* Each fault fires once, after its step (vkg_trainer_inject_fault). */
vkg_train_observer train_faults_observer(train_faults *f);

/* ---- the window (train_window.c) ---- */
typedef struct train_window train_window;
/* The window beside the run: set up before the device opens, opened at the run's start. */
train_window *train_window_new(const vkg_train_options *o);
vkg_train_observer train_window_observer(train_window *w);
/* Whether Q, Esc or closing the window stopped training. */
int train_window_quit(const train_window *w);
/* Training has ended at the last step: with --screenshot the last frame is written, else the
 * window stays until Q, Esc or closing it (C still writes checkpoints). 0 or -1. */
int train_window_finish(train_window *w, vkg_trainer *t);
/* Frames, previews and the window's share of the device, on stdout. */
void train_window_report(const train_window *w);
/* Ends the window system (after the trainer, and so the device, is closed) and frees w. */
void train_window_free(train_window *w);

#endif
