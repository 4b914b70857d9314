/* vkgan train and vkgan view: argument handling around src/train and src/view, and vkgan train
 * composed from the trainer library and its observers (train_observers.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/train_observers.h"
#include "vkgan/dist.h"
#include "vkgan/error.h"
#include "vkgan/train.h"
#include "vkgan/view.h"

static volatile sig_atomic_t interrupted; /* Ctrl-C, SIGTERM, SIGHUP (the terminal closed) */

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

/* What the run ended with, after vkg_trainer_run: the window's last phase, the checkpoint of a
 * run stopped early, --profile, the closing lines; the exit code. */
static int finish(vkg_trainer *t, int ended, const vkg_train_options *o, const train_console *c,
                  train_window *w) {
    vkg_gan *gan = vkg_trainer_gan(t);
    if (ended < 0) return cli_error("%s", vkg_error());
    if (dist_rank() > 0) return ended == VKG_TRAIN_STOPPED ? 130 : 0; /* rank 0 speaks */
    if (ended == VKG_TRAIN_FAILED) {
        const vkg_train_failure *f = vkg_trainer_failure(t);
        fprintf(stderr, "%svkgan: stopped at step %u: %s%s (exit code %d); %s%s\n",
                train_console_clear(c), f->step, f->name,
                f->rollbacks ? " again after the last rollback" : "", f->exit_code,
                f->checkpoint[0] ? "the newest checkpoint from before its evidence is "
                                 : "no checkpoint from before its evidence was kept",
                f->checkpoint);
        return f->exit_code;
    }
    int quit = w && train_window_quit(w);
    /* stopped, and not by the window: a signal (on_signal) here or on another rank */
    int stopped = interrupted || (ended == VKG_TRAIN_STOPPED && !quit);
    if (c->tty && !o->quiet) fputc('\n', stderr);
    if (w && !quit && !stopped && train_window_finish(w, t) < 0)
        return cli_error("%s", vkg_error());
    int saved = 0; /* 1: the state was not finite, no checkpoint */
    if (quit) {
        if ((saved = vkg_trainer_checkpoint(t, 1)) < 0)
            return cli_error("checkpoint: %s", vkg_error());
        fprintf(stderr, "vkgan: closed at step %u; %s", gan->steps,
                saved ? "no checkpoint (not finite)" : "checkpoint written");
        if (gan->steps < (unsigned)o->steps)
            fprintf(stderr, "; continue with '%s train --resume %s'", vkg_program(), o->out);
        fputc('\n', stderr);
    }
    if (!o->quiet) vkg_train_dist_summary(gan, stdout); /* several ranks: what the sums cost */
    if (o->profile && train_print_profile(gan) < 0) return cli_error("profile: %s", vkg_error());
    if (stopped) {
        if ((saved = vkg_trainer_checkpoint(t, 1)) < 0)
            return cli_error("checkpoint: %s", vkg_error());
        fprintf(stderr, "vkgan: interrupted at step %u; %s; continue with '%s train --resume %s'\n",
                gan->steps,
                saved ? "no checkpoint (the state is not finite): it continues from the newest"
                      : "checkpoint written",
                vkg_program(), o->out);
        return 130;
    }
    if (!o->quiet && !quit && gan->steps == c->start_step) /* resumed at its --steps */
        printf("nothing to do: %s was at step %u, its --steps, already (no step trained); "
               "samples in %s/samples\n",
               o->out, gan->steps, o->out);
    else if (!o->quiet && !quit) {
        printf("done: %u steps in %.1f s", gan->steps, vkg_trainer_seconds(t));
        if (c->fcd_known) printf("; FCD %.2f (step %u)", c->fcd, c->fcd_step);
        printf("; samples in %s/samples\n", o->out);
    }
    if (w && !o->quiet) train_window_report(w);
    return 0;
}

/* vkgan train once the options are parsed (and, under mpirun, the ranks joined). */
static int train(vkg_train_options *po) {
    vkg_train_options o = *po;
    /* several ranks: this one's device; ranks other than 0 quiet and without a window */
    int ranks = vkg_train_dist_setup(&o);
    if (ranks > 0) { /* the same options on every rank: rank 0 says it, all part without abort */
        if (dist_rank() == 0) cli_error("%s", vkg_error());
        dist_finalize();
        return 2;
    }
    if (ranks < 0) return cli_error("%s", vkg_error());
    int bad_device = cli_check_device(o.device); /* this rank's; before any device work */
    if (bad_device) return bad_device;
    train_console console = {.quiet = o.quiet, .tty = isatty(STDERR_FILENO)};
    train_faults faults = {.console = &console};
    if (train_faults_parse(&faults, getenv("VKGAN_FAULT")) < 0) return cli_error("%s", vkg_error());
    const char *run = o.resume[0] ? o.resume : o.out[0] ? o.out : NULL; /* (default: a new one) */
    int checked = o.view && o.screenshot[0]
                      ? cli_check_output("--screenshot", o.screenshot, run, NULL, CLI_IMAGE)
                      : 0;
    if (checked) return checked; /* written after the training: known now */
    train_window *window = NULL;
    if (o.view && !(window = train_window_new(&o))) return cli_error("out of host memory");
    vkg_train_observer obs[4], metrics;
    int n = 0;
    obs[n++] = train_console_observer(&console);
    if (faults.count) obs[n++] = train_faults_observer(&faults);
    if (vkg_train_metrics_files(&metrics) < 0) {
        train_window_free(window);
        return cli_error("%s", vkg_error());
    }
    obs[n++] = metrics;
    if (window) obs[n++] = train_window_observer(window);

    /* the signals that end a run with a checkpoint: Ctrl-C, kill, the terminal closing (except
     * under nohup, which ignores SIGHUP: it stays ignored) */
    static const int stops[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = on_signal}, old[3];
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        sigaction(stops[i], NULL, &old[i]);
        if (stops[i] != SIGHUP || old[i].sa_handler != SIG_IGN) sigaction(stops[i], &sa, NULL);
    }
    interrupted = 0;
    vkg_trainer *t;
    int code = vkg_trainer_open(&t, &o, obs, n);
    if (code == 0) {
        code = finish(t, vkg_trainer_run(t, &interrupted), &o, &console, window);
        if (vkg_trainer_close(t) < 0 && code == 0) code = cli_error("%s", vkg_error());
    } else {
        /* a refusal comes from the options and the run directory, the same on every rank */
        if (code != VKG_TRAIN_REFUSED || dist_rank() == 0) cli_error("%s", vkg_error());
        code = code == VKG_TRAIN_REFUSED ? 2 : 1;
    }
    for (int i = 0; i < 3; i++) sigaction(stops[i], &old[i], NULL);
    train_window_free(window);
    return code;
}

/* vkgan train: the trainer with the observers the options ask for. Exit codes: 0 done, 1 error,
 * 2 usage (or an option a resumed run refuses), 130 interrupted (SIGINT, SIGTERM, SIGHUP) after a
 * checkpoint, 10-16 a training failure under --on-failure stop (README). */
int cmd_train(int argc, char **argv) {
    vkg_train_options o;
    int r = vkg_train_parse(argc, argv, &o);
    if (r > 0) vkg_train_help(stdout);
    if (r < 0) cli_error("%s", vkg_error());
    if (r != 0) return r > 0 ? 0 : 2;
    if (dist_init() < 0) return cli_error("%s", vkg_error()); /* under mpirun: join the ranks */
    return vkg_train_dist_end(train(&o));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(view_args, field)
typedef struct view_args {
    const char *dir, *screenshot, *device;
    int validation;
} view_args;
static const vkg_opt view_opts[] = {
    {"run-dir", "RUN_DIR", VKG_OPT_STR, F(dir), 0, 0, NULL,
     "a run directory of vkgan train (finished, or still running headless)", 0, NULL, NULL, 1, 1},
    {"screenshot", "FILE", VKG_OPT_STR, F(screenshot), 0, 0, NULL,
     "draw one frame, write it as an image (.png, .jpg or .jpeg, .bmp, .tga: the format its "
     "extension says) and close",
     0},
    CLI_DEVICE_OPTIONS(view_args),
};
#undef F
#pragma GCC diagnostic pop

static const vkg_opt_table view_table = {
    "view",
    "RUN_DIR [options]",
    "Opens a run directory of vkgan train in the window: the graphs from its metrics (re-read as "
    "they grow), G on the fixed latent batch of its newest checkpoint, its saved grids one by one "
    "(slider; Left / Right / Home / End), and an animated walk through latent space (W). H in "
    "the window lists the keys.",
    NULL,
    0,
    view_opts,
    sizeof view_opts / sizeof *view_opts};

int cmd_view(int argc, char **argv) {
    view_args a;
    int code = cli_parse(&view_table, argc, argv, &a);
    if (code >= 0) return code;
    if (a.screenshot &&
        (code = cli_check_output("--screenshot", a.screenshot, a.dir, NULL, CLI_IMAGE)))
        return code;
    cli_warn_metrics(a.dir);
    return vkg_view_run(a.dir, a.screenshot, a.device, a.validation);
}
