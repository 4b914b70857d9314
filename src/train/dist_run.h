/* What a data-parallel run (vkgan train under mpirun or srun) adds to vkgan train: rank 0 runs
 * the run as one process does and owns its directory; every other rank builds the same GAN on
 * its own device and steps when rank 0 says so, summing gradients with the others inside the
 * step. With one rank (no launcher, or a build without MPI) every call here does nothing. */
#ifndef VKGAN_TRAIN_DIST_RUN_H
#define VKGAN_TRAIN_DIST_RUN_H

#include <signal.h>
#include <stdio.h>

#include "vkgan/gan.h"
#include "vkgan/train.h"

/* The GAN configuration's share of the batch (--batch / ranks: refused unless it divides, and
 * for a conditional model unless each rank's share is a multiple of the classes), the sum
 * across ranks and --sync-bn. 0, or VKG_TRAIN_REFUSED with vkg_error() saying why. */
int dist_run_config(vkg_gan_config *c, int sync_bn);
/* Whether this process is a rank other than 0. */
int dist_run_follower(void);
/* A rank other than 0, once its GAN is built: loads what rank 0 loads and steps as rank 0 says
 * until it says stop. 0, 130 when it was interrupted (or rank 0 was), -1 on error. */
int dist_run_follow(vkg_gan *gan, const volatile sig_atomic_t *interrupted);
/* Rank 0 before each step, `interrupted` its own stop flag: hears whether any rank was
 * interrupted (then 1: no step), every 100 steps compares the ranks' weights (an error when they
 * differ), and lets the others step with it (0). -1 on error. */
int dist_run_lead(vkg_gan *gan, int interrupted);
/* Rank 0 loaded a checkpoint (resume, rollback): the others load it before their next step,
 * with these learning rates (0: the checkpoint's). */
void dist_run_loaded(const char *path, double lr_d, double lr_g);
/* Rank 0: tells the others to stop now (once; before a window that stays open). 0 or -1. */
int dist_run_release(int interrupted);

#endif
