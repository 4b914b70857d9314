/* Data-parallel runs: rank 0 leads, the other ranks follow (see dist_run.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/dist.h"
#include "train/dist_run.h"
#include "vkgan/error.h"
#include "vkgan/io.h"

/* The replicas' weights are compared every this many steps. */
enum { CHECK_EVERY = 100 };

/* What rank 0 tells the others before each step. */
enum { CMD_STEP, CMD_LOAD, CMD_STOP };
typedef struct control {
    int32_t cmd, interrupted;
    float lr_d, lr_g; /* CMD_LOAD: 0 keeps the checkpoint's */
    char path[VKG_PATH_MAX + 64];
} control;

static struct {
    control pending; /* rank 0: a load the others have not been told of */
    int has_pending;
    int gathered;   /* rank 0 heard the others and has not answered yet */
    unsigned steps; /* steps led */
    int released;   /* the others were told to stop */
} lead;

static int several(void) {
    return dist_size() > 1;
}

/* The rank's entry of a comma-separated list, or the local rank's device among those of the best
 * kind on this machine. */
static int pick_device(vkg_train_options *o) {
    int rank = dist_rank(), n = 0;
    if (strchr(o->device, ',')) {
        int entries = 1, empty = o->device[0] == ',' || o->device[strlen(o->device) - 1] == ',';
        for (const char *c = o->device; *c; c++) {
            entries += *c == ',';
            empty |= c[0] == ',' && c[1] == ',';
        }
        if (empty || entries != dist_size()) {
            vkg_set_error("--device %s: under mpirun the list names one device per rank, %d "
                          "entries for %d ranks",
                          o->device, entries, dist_size());
            return 2;
        }
        const char *p = o->device;
        for (int i = 0; i < rank && p; i++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
        if (!p) {
            vkg_set_error("--device %s names fewer devices than the %d ranks", o->device,
                          dist_size());
            return 2;
        }
        char one[sizeof o->device];
        snprintf(one, sizeof one, "%.*s", (int)strcspn(p, ","), p);
        snprintf(o->device, sizeof o->device, "%s", one);
        return 0;
    }
    if (o->device[0]) return 0; /* one device for every rank (tests on one CPU device) */
    vkg_device_info info[16];
    if (vkg_list_devices(info, 16, &n) < 0) return -1;
    if (n == 0) return 0; /* no device: creating the context says so */
    int best = 0, same[16], count = 0;
    for (int i = 0; i < n && i < 16; i++)
        if (vkg_device_type_rank(info[i].type) > best) best = vkg_device_type_rank(info[i].type);
    for (int i = 0; i < n && i < 16; i++)
        if (vkg_device_type_rank(info[i].type) == best) same[count++] = i;
    snprintf(o->device, sizeof o->device, "%d", same[dist_local_rank() % count]);
    return 0;
}

int vkg_train_dist_setup(vkg_train_options *o) {
    if (!several() && strchr(o->device, ',')) {
        vkg_set_error("--device %s: a list of devices (one per rank) needs mpirun; give one device",
                      o->device);
        return 2;
    }
    if (!several()) return 0;
    /* what is not split across ranks, refused by name before any device work */
    const char *alone = o->feature_matching ? "--feature-matching"
                        : o->virtual_bn     ? "--virtual-bn"
                                            : NULL;
    if (alone) {
        vkg_set_error("%s runs in one process only, not under mpirun with %d ranks", alone,
                      dist_size());
        return 2;
    }
    if (o->batch && o->batch % dist_size()) {
        vkg_set_error("--batch %d: %d ranks split the batch evenly, so it must be a multiple of "
                      "%d",
                      o->batch, dist_size(), dist_size());
        return 2;
    }
    if (dist_rank() > 0) { /* rank 0 speaks and draws for the run */
        o->quiet = 1, o->view = 0, o->profile = 0;
        o->screenshot[0] = 0;
    }
    return pick_device(o);
}

static int sum(void *user, float *values, size_t count) {
    (void)user;
    return dist_sum(values, count);
}

int dist_run_config(vkg_gan_config *c, int sync_bn) {
    if (!several()) return 0;
    int n = dist_size();
    if (c->batch % n) /* a resumed run's batch: the options' was checked before */
        return vkg_set_error("--batch %d: %d ranks split the batch evenly, so it must be a "
                             "multiple of %d",
                             c->batch, n, n) < 0
                   ? VKG_TRAIN_REFUSED
                   : 0;
    if (c->classes && c->batch / n % c->classes)
        return vkg_set_error("--batch %d with %d ranks: a conditional model needs a per-rank "
                             "batch (%d) that is a multiple of the %d classes",
                             c->batch, n, c->batch / n, c->classes) < 0
                   ? VKG_TRAIN_REFUSED
                   : 0;
    c->batch /= n;
    c->ranks = (vkg_gan_ranks){dist_rank(), dist_size(), sync_bn, sum, NULL};
    return 0;
}

int dist_run_follower(void) {
    return dist_rank() > 0;
}

/* FNV-1a of G's and D's weights (the same bits on every rank while the replicas agree). */
static int weights_hash(vkg_gan *gan, uint64_t *hash) {
    const vkg_tensor *ranges[2] = {&gan->g.params, &gan->d.params};
    uint64_t h = 1469598103934665603ull;
    if (vkg_gan_wait(gan) < 0) return -1;
    for (int k = 0; k < 2; k++) {
        size_t n = vkg_tensor_count(ranges[k]) * sizeof(float);
        unsigned char *bytes = malloc(n);
        if (!bytes) return vkg_set_error("out of host memory");
        int rc = vkg_tensor_download(gan->ctx, ranges[k], (float *)bytes);
        for (size_t i = 0; rc == 0 && i < n; i++) h = (h ^ bytes[i]) * 1099511628211ull;
        free(bytes);
        if (rc < 0) return -1;
    }
    *hash = h >> 1; /* the low bit carries the interrupt */
    return 0;
}

/* Every rank's word before a step: the interrupt, and at checks the weights' hash. */
static int word(vkg_gan *gan, int interrupted, uint64_t *w) {
    uint64_t h = 0;
    if (gan->steps % CHECK_EVERY == 0 && weights_hash(gan, &h) < 0) return -1;
    *w = h << 1 | (interrupted ? 1u : 0u);
    return 0;
}

static int load(vkg_gan *gan, const control *c) {
    if (vkg_gan_wait(gan) < 0 || vkg_gan_load(gan, c->path) < 0) return -1;
    if (c->lr_d > 0 && vkg_model_set_lr(gan->ctx, &gan->d, c->lr_d) < 0) return -1;
    if (c->lr_g > 0 && vkg_model_set_lr(gan->ctx, &gan->g, c->lr_g) < 0) return -1;
    return 0;
}

int dist_run_follow(vkg_gan *gan, const volatile sig_atomic_t *interrupted) {
    control c;
    for (;;) {
        uint64_t w;
        if (word(gan, interrupted && *interrupted, &w) < 0 || dist_gather(w, NULL) < 0 ||
            dist_broadcast(&c, sizeof c) < 0)
            return -1;
        if (c.cmd == CMD_STOP) break;
        if (c.cmd == CMD_LOAD && load(gan, &c) < 0) return -1;
        if (vkg_gan_submit(gan, 1) < 0) return -1;
    }
    if (vkg_gan_wait(gan) < 0) return -1;
    return c.interrupted || (interrupted && *interrupted) ? 130 : 0;
}

int dist_run_lead(vkg_gan *gan, int interrupted) {
    if (!several()) return 0;
    int n = dist_size();
    uint64_t w, *all = calloc((size_t)n, sizeof *all);
    if (!all) return vkg_set_error("out of host memory");
    int rc = word(gan, interrupted, &w) < 0 || dist_gather(w, all) < 0 ? -1 : 0;
    lead.gathered = rc == 0;
    for (int k = 0; rc == 0 && k < n; k++) {
        if (all[k] & 1) interrupted = 1;
        /* not while a load is on its way: the others load it after this word */
        if (gan->steps % CHECK_EVERY == 0 && !lead.has_pending && all[k] >> 1 != all[0] >> 1)
            rc = vkg_set_error("at step %u the weights of rank %d differ from rank 0's: the "
                               "replicas diverged",
                               gan->steps, k);
    }
    free(all);
    if (rc < 0 || interrupted) return rc < 0 ? -1 : 1;
    control c = lead.has_pending ? lead.pending : (control){.cmd = CMD_STEP};
    lead.has_pending = 0, lead.gathered = 0, lead.steps++;
    return dist_broadcast(&c, sizeof c);
}

void vkg_train_dist_summary(const vkg_gan *gan, FILE *out) {
    if (!several() || !lead.steps) return;
    double bytes, seconds, waiting;
    dist_sum_totals(&bytes, &seconds, &waiting);
    fprintf(out,
            "%d ranks: %.3f MB summed across them a step (%d sums); rank 0 spent %.2f ms a step "
            "in the sums, %.2f ms of it waiting for the other ranks' values\n",
            dist_size(), gan->reduce_bytes / 1e6, gan->allsum.count / 2, 1e3 * seconds / lead.steps,
            1e3 * waiting / lead.steps);
}

void dist_run_loaded(const char *path, double lr_d, double lr_g) {
    if (!several()) return;
    lead.pending = (control){.cmd = CMD_LOAD, .lr_d = (float)lr_d, .lr_g = (float)lr_g};
    snprintf(lead.pending.path, sizeof lead.pending.path, "%s", path);
    lead.has_pending = 1;
}

int dist_run_release(int interrupted) {
    if (!several() || dist_rank() != 0 || lead.released) return 0;
    control c = {.cmd = CMD_STOP, .interrupted = interrupted};
    uint64_t *all = lead.gathered ? NULL : calloc((size_t)dist_size(), sizeof *all);
    int rc = lead.gathered ? 0 : !all ? vkg_set_error("out of host memory") : dist_gather(0, all);
    free(all);
    if (rc == 0) rc = dist_broadcast(&c, sizeof c);
    lead.released = 1, lead.gathered = 0;
    return rc;
}

/* Exit codes 1 (an error) and 2 (a usage error) may come before the others follow or while
 * they cannot answer: every rank ends at once. Any other code ends the run in order. */
int vkg_train_dist_end(int rc) {
    int abrupt = rc == 1 || rc == 2;
    if (!abrupt && dist_run_release(rc == 130) < 0) { /* the others stop where they wait */
        fprintf(stderr, "vkgan: error: stopping the other ranks: %s\n", vkg_error());
        rc = 1;
    }
    if (several() && (abrupt || rc == 1)) dist_abort(rc); /* a rank that failed ends them all */
    dist_finalize();
    return rc;
}
