/* vkgan train's options: a resumed run's (and what it refuses to change), the values that
 * depend on the device and the data, the models and the GAN's configuration. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "train/dist_run.h"
#include "train/rundir.h"
#include "train/trainer.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/opt.h"
#include "vkgan/rundir.h"

static const vkg_opt *entry(const char *name);

/* What a resumed run may change: the rest is the run's (its config.json). */
static const char *const changeable[] = {"resume", "steps",   "device", "validation",
                                         "quiet",  "profile", "view",   "screenshot"};

/* Whether a resumed run may change the option. */
static int may_change(const vkg_opt *opt) {
    for (size_t k = 0; k < sizeof changeable / sizeof *changeable; k++)
        if (strcmp(opt->name, changeable[k]) == 0) return 1;
    return 0;
}

/* An option's value in o as JSON text (malloc'd; NULL when out of memory). */
static char *value_json(const vkg_train_options *o, const vkg_opt *opt) {
    cJSON *j = vkg_opt_json(vkg_train_table(), o);
    char *text = j ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, opt->name)) : NULL;
    cJSON_Delete(j);
    return text;
}

/* Whether an option given with --resume differs from the run's: one line naming it. */
static int refuse_changes(const vkg_train_options *cli, const vkg_train_options *run,
                          const char *path) {
    const vkg_opt_table *t = vkg_train_table();
    for (int i = 0; i < t->count; i++) {
        const vkg_opt *opt = &t->opts[i];
        if (!cli->given[i] || may_change(opt) || vkg_opt_equal(opt, cli, run)) continue;
        char *was = value_json(run, opt);
        char may[160] = "";
        for (size_t k = 1; k < sizeof changeable / sizeof *changeable; k++) /* not --resume */
            snprintf(may + strlen(may), sizeof may - strlen(may), "%s--%s",
                     k == 1                                           ? ""
                     : k + 1 < sizeof changeable / sizeof *changeable ? ", "
                                                                      : " and ",
                     changeable[k]);
        vkg_set_error("--%s: a resumed run keeps its options (%s in %s); only %s may change",
                      opt->name, was ? was : "?", path, may);
        free(was);
        return -1;
    }
    return 0;
}

/* The options in config.json (path): 0, or -1 with vkg_error(). */
static int options_from_config(vkg_train_options *o, const char *path) {
    cJSON *config = vkg_rundir_read_json(path);
    if (!config) return -1;
    int r =
        vkg_train_options_from_json(o, cJSON_GetObjectItemCaseSensitive(config, "options"), path);
    cJSON_Delete(config);
    return r < 0 ? -1 : 0;
}

/* Whether config.json's options (cfg) are the run's, those its checkpoints record (ck): every
 * option a resume cannot change, and --out, which a moved directory changes.
 * Else why, naming the first that differs. */
static int same_run(const vkg_train_options *cfg, const vkg_train_options *ck, const char *config,
                    char *why, size_t size) {
    const vkg_opt_table *t = vkg_train_table();
    for (int i = 0; i < t->count; i++) {
        const vkg_opt *opt = &t->opts[i];
        if (may_change(opt) || strcmp(opt->name, "out") == 0 || vkg_opt_equal(opt, cfg, ck))
            continue;
        char *a = value_json(cfg, opt), *b = value_json(ck, opt);
        snprintf(why, size,
                 "%s does not match the run's checkpoints (--%s is %s there, %s in them)", config,
                 opt->name, a ? a : "?", b ? b : "?");
        free(a), free(b);
        return 0;
    }
    return 1;
}

/* The options of the run being resumed: those its checkpoints record (the newest that reads
 * whole), which its config.json must match (else it was altered: the checkpoints' are used, and
 * why is in `lost`); config.json's alone before the first checkpoint. With the command line's
 * --steps (when given), --device, --validation and --quiet. Any other option given must equal
 * the run's. */
int trainer_resume_options(vkg_train_options *o, char *lost, size_t size) {
    vkg_train_options cli = *o, ck = *o;
    char path[VKG_PATH_MAX + 64], checkpoint[VKG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/config.json", cli.resume);
    lost[0] = 0;
    struct stat st;
    if (stat(cli.resume, &st) != 0)
        return vkg_set_error("%s: no such run directory (%s)", cli.resume, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return vkg_set_error("--resume %s is a file: --resume takes the run directory (the one "
                             "holding config.json and checkpoints/)",
                             cli.resume);
    int missing = lstat(path, &st) != 0; /* a broken link is a damaged config.json */
    if (missing && rundir_is_start(cli.resume))
        return vkg_set_error("%s holds no config.json: the run stopped before it began; start it "
                             "again with its options and --out %s",
                             cli.resume, cli.resume);
    char why[2 * VKG_PATH_MAX + 1024] = "";
    int have_ck = rundir_checkpoint_options(cli.resume, &ck, checkpoint, sizeof checkpoint) == 0;
    int good = !missing && options_from_config(o, path) == 0, parsed = good, total = o->steps;
    if (!good && !missing) snprintf(why, sizeof why, "%s", vkg_error());
    if (good && have_ck) good = same_run(o, &ck, path, why, sizeof why);
    if (!good) {
        if (!have_ck)
            return missing ? vkg_set_error("%s cannot be resumed: it holds no config.json and no "
                                           "checkpoint that reads whole (is it a vkgan run "
                                           "directory?)",
                                           cli.resume)
                           : vkg_set_error("%s (and no checkpoint of the run reads whole, to take "
                                           "its options from)",
                                           why);
        if (missing) snprintf(why, sizeof why, "%s is missing", path);
        *o = ck;
        if (parsed)
            o->steps = total; /* config.json holds the newest total (--steps may raise it) */
        snprintf(lost, size, "%s: the run's options are taken from %s", why, checkpoint);
        snprintf(path, sizeof path, "%s", checkpoint);
    }
    if (refuse_changes(&cli, o, path) < 0) return VKG_TRAIN_REFUSED;
    memcpy(o->given, cli.given, sizeof o->given); /* still what the command line named */
    if (cli.steps) { /* the caller's total: given, whether a command line named it or not */
        o->steps = cli.steps;
        o->given[entry("steps") - vkg_train_table()->opts] = 1;
    }
    snprintf(o->device, sizeof o->device, "%s", cli.device);
    snprintf(o->out, sizeof o->out, "%s", cli.resume);
    snprintf(o->resume, sizeof o->resume, "%s", cli.resume);
    o->validation = cli.validation, o->quiet = cli.quiet, o->view = cli.view;
    snprintf(o->screenshot, sizeof o->screenshot, "%s", cli.screenshot);
    return 0;
}

int trainer_replace_lost_config(vkg_trainer *t) {
    if (!t->config_lost[0]) return 0;
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", t->o->out);
    struct stat st;
    char kept[VKG_PATH_MAX + 64] = "";
    if (lstat(path, &st) == 0 && rundir_set_aside(path, kept, sizeof kept) < 0) return -1;
    trainer_message(t, VKG_TRAIN_WARNING,
                    "vkgan: warning: %s, and config.json is written again%s%s%s", t->config_lost,
                    kept[0] ? " (the old one kept as " : "", kept, kept[0] ? ")" : "");
    return 0;
}

int trainer_is_points(const vkg_dataset *d) {
    return d->points != NULL;
}

/* ---- options the run cannot use ---- */

/* The entry of an option of the table. */
static const vkg_opt *entry(const char *name) {
    return vkg_opt_find(vkg_train_table(), name);
}

int trainer_asks(const vkg_train_options *o, const char *name) {
    const vkg_opt *opt = entry(name);
    if (!opt || !o->given[opt - vkg_train_table()->opts]) return 0;
    const char *field = (const char *)o + opt->offset;
    if (opt->kind == VKG_OPT_INT || opt->kind == VKG_OPT_FLAG) return *(const int *)field != 0;
    if (opt->kind == VKG_OPT_REAL || opt->kind == VKG_OPT_OPTIONAL)
        return *(const double *)field != 0;
    return strcmp(field, "auto") != 0 && strcmp(field, "none") != 0;
}

/* "--name VALUE" (a flag: "--name") as the option is set. */
static const char *shown(const vkg_train_options *o, const char *name, char *text, size_t size) {
    const vkg_opt *opt = entry(name);
    const char *field = (const char *)o + opt->offset;
    if (opt->kind == VKG_OPT_INT)
        snprintf(text, size, "--%s %d", name, *(const int *)field);
    else if (opt->kind == VKG_OPT_REAL || opt->kind == VKG_OPT_OPTIONAL)
        snprintf(text, size, "--%s %g", name, *(const double *)field);
    else if (opt->kind == VKG_OPT_TEXT)
        snprintf(text, size, "--%s %s", name, field);
    else
        snprintf(text, size, "--%s", name);
    return text;
}

/* The first option of `names` the command line asked for, or NULL. */
static const char *first_asked(const vkg_train_options *o, const char *const *names, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (trainer_asks(o, names[i])) return names[i];
    return NULL;
}

/* 1 + the first class (below d->classes) no label names; 0 when every class has images, -1
 * when the count cannot be made. An IDX label file makes max label + 1 classes. */
static int empty_class(const vkg_dataset *d) {
    if (!d->labels || d->classes < 1) return 0;
    int *seen = calloc((size_t)d->classes, sizeof *seen), empty = 0;
    if (!seen) return -1;
    for (int i = 0; i < d->count; i++)
        if (d->labels[i] >= 0 && d->labels[i] < d->classes) seen[d->labels[i]] = 1;
    for (int c = 0; c < d->classes && !empty; c++)
        if (!seen[c]) empty = c + 1;
    free(seen);
    return empty;
}

int trainer_check_options(const vkg_train_options *o, const vkg_dataset *d) {
    /* the model of image data (a DCGAN, with batch norm), of 2D points (MLPs), the quality checks
     * (a classifier's FCD: images only; 2D data is measured by its modes) */
    static const char *const dcgan[] = {"image-size", "g-width",    "d-width",
                                        "bias",       "g-dropout",  "g-leaky",
                                        "d-avg-pool", "virtual-bn", "sync-bn"};
    static const char *const mlp[] = {"mlp-hidden", "mlp-depth"};
    static const char *const quality[] = {"classifier", "health-every", "health-samples"};
    static const char *const rollback[] = {"rollback-lr-scale", "max-rollbacks"};
    char a[VKG_PATH_MAX + 64], b[64];
    const char *name;
    int empty = 0;
    int points = trainer_is_points(d);
    if (points && (name = first_asked(o, dcgan, sizeof dcgan / sizeof *dcgan)))
        vkg_set_error("%s: %s is 2D data, which vkgan trains with MLPs (--mlp-hidden, "
                      "--mlp-depth); --%s is an option of the DCGAN for image data",
                      shown(o, name, a, sizeof a), d->name, name);
    else if (points && (name = first_asked(o, quality, sizeof quality / sizeof *quality)))
        vkg_set_error("%s: %s is 2D data, measured by the modes its samples cover (the metrics' "
                      "modes_covered and high_quality); the quality checks (FCD) are for image "
                      "data",
                      shown(o, name, a, sizeof a), d->name);
    else if (!points && (name = first_asked(o, mlp, sizeof mlp / sizeof *mlp)))
        vkg_set_error("%s: %s is image data, which vkgan trains with a DCGAN (--g-width, "
                      "--d-width); --%s is an option of the MLPs for 2D data (ring8, grid25)",
                      shown(o, name, a, sizeof a), d->name, name);
    else if (!points && o->image_size && (o->image_size != d->height || o->image_size != d->width))
        vkg_set_error("--image-size %d: the %s images are %dx%d (only folder: data is resized)",
                      o->image_size, d->name, d->height, d->width);
    else if (o->conditional && d->classes < 2)
        vkg_set_error("--conditional: %s has no class labels", d->name);
    else if (o->conditional && (empty = empty_class(d)) < 0)
        vkg_set_error("out of host memory");
    else if (o->conditional && empty > 0)
        vkg_set_error("--conditional: %s has labels up to %d but no image of class %d: every "
                      "class a conditional model draws needs images (a damaged label file?)",
                      d->name, d->classes - 1, empty - 1);
    else if (trainer_asks(o, "steps") && trainer_asks(o, "epochs"))
        vkg_set_error("%s and %s both set the length of the run: give one (--steps 0 takes it "
                      "from --epochs)",
                      shown(o, "steps", a, sizeof a), shown(o, "epochs", b, sizeof b));
    else if (trainer_asks(o, "lr") && trainer_asks(o, "lr-d") && trainer_asks(o, "lr-g"))
        vkg_set_error("%s: --lr-d and --lr-g set both learning rates: give --lr or them",
                      shown(o, "lr", a, sizeof a));
    else if (trainer_asks(o, "label-smoothing") && o->soft_labels)
        vkg_set_error("%s and --soft-labels both set D's targets (soft labels draw them): give one",
                      shown(o, "label-smoothing", a, sizeof a));
    else if (trainer_asks(o, "noise-steps") && o->instance_noise == 0)
        vkg_set_error("%s: it sets how long the instance noise decays, and this run has none "
                      "(no --instance-noise)",
                      shown(o, "noise-steps", a, sizeof a));
    else if (strcmp(o->on_failure, "rollback") != 0 &&
             (name = first_asked(o, rollback, sizeof rollback / sizeof *rollback)))
        vkg_set_error("%s: it applies to --on-failure rollback, and this run's --on-failure is %s",
                      shown(o, name, a, sizeof a), o->on_failure);
    else if (!points && o->health_every == 0 &&
             (name = first_asked(o, quality, sizeof quality / sizeof *quality)))
        vkg_set_error("%s: --health-every 0 turns the quality checks off",
                      shown(o, name, a, sizeof a));
    else if (!points && strcmp(o->classifier, "none") == 0 &&
             (name = first_asked(o, quality, sizeof quality / sizeof *quality)))
        vkg_set_error("%s: the quality checks are off (--classifier none)",
                      shown(o, name, a, sizeof a));
    else
        return 0;
    return VKG_TRAIN_REFUSED;
}

/* Fills in the automatic values (0 in the options) from the device and the data. */
int trainer_resolve(vkg_trainer *t, const vkg_device_info *dev) {
    vkg_train_options *o = t->o;
    const vkg_dataset *data = &t->data;
    int cpu = strcmp(dev->type, "cpu") == 0;
    /* a CPU device (lavapipe) runs the paper's model at seconds a step: a narrower model and
     * batch, and the steps that fit in about 8 minutes on 2 cores (README, docs/PERF.md: FCD 7.0
     * after 6000 steps, 9.5 after 3000) */
    if (!o->batch) o->batch = trainer_is_points(data) ? 256 : cpu ? 32 : 128;
    if (!o->latent) o->latent = trainer_is_points(data) ? 16 : 100;
    if (!o->g_width) o->g_width = cpu ? 16 : 64;
    if (!o->d_width) o->d_width = o->g_width; /* D at least as wide as G (Radford et al.) */
    if (!o->lr_d) o->lr_d = o->lr;
    if (!o->lr_g) o->lr_g = o->lr;
    if (!trainer_is_points(data) && !o->image_size) o->image_size = data->height;
    if (!o->steps) {
        long per_epoch =
            (data->count + (long)o->batch * o->d_steps - 1) / ((long)o->batch * o->d_steps);
        o->steps = o->epochs                         ? (int)(o->epochs * per_epoch)
                   : cpu && !trainer_is_points(data) ? 6000
                                                     : 3000;
    }
    if (o->instance_noise > 0 && !o->noise_steps) o->noise_steps = o->steps;
    if (strcmp(o->classifier, "auto") == 0) { /* the shipped classifier of the data, if any */
        const char *shipped = quality_default_classifier(o->data);
        int wanted = !trainer_is_points(data) && o->health_every > 0;
        if (wanted && !shipped)
            trainer_message(
                t, VKG_TRAIN_NOTE,
                "no quality metrics: vkgan ships an FCD classifier for fashion-mnist only "
                "(make one with '%s train-classifier' and pass --classifier FILE)\n",
                vkg_program());
        snprintf(o->classifier, sizeof o->classifier, "%s", wanted && shipped ? shipped : "none");
    }
    return 0;
}

/* ---- models ---- */

int run_build_layers(const vkg_train_options *o, int points, int channels, vkg_layer_spec *g,
                     int *ng, vkg_layer_spec *d, int *nd) {
    if (points) {
        *ng = vkg_mlp_generator(o->mlp_hidden, o->mlp_depth, 2, g);
        *nd = vkg_mlp_discriminator(o->mlp_hidden, o->mlp_depth, d);
    } else {
        vkg_dcgan_shape s = {.image_size = o->image_size,
                             .channels = channels,
                             .latent = o->latent,
                             .g_width = o->g_width,
                             .d_width = o->d_width,
                             .g_dropout = (float)o->g_dropout,
                             .g_leaky = o->g_leaky,
                             .d_avg_pool = o->d_avg_pool,
                             .g_virtual_bn = o->virtual_bn,
                             .bias = o->bias};
        *ng = vkg_dcgan_generator(&s, g);
        *nd = vkg_dcgan_discriminator(&s, d);
    }
    if (*ng < 0 || *nd < 0) return -1;
    if (o->minibatch_stddev) { /* before D's last layer (the logit) */
        if (*nd + 1 > VKG_MAX_LAYERS) return vkg_set_error("D has too many layers");
        d[*nd] = d[*nd - 1];
        d[*nd - 1] = (vkg_layer_spec){.kind = VKG_LAYER_MBSTD};
        ++*nd;
    }
    return 0;
}

int run_classes(const vkg_train_options *o, int dataset_classes) {
    return o->conditional ? dataset_classes : 0;
}

vkg_gan_config trainer_gan_config(const vkg_train_options *o, int dataset_classes) {
    vkg_gan_config c = {
        .batch = o->batch,
        .latent = o->latent,
        .lr_d = (float)o->lr_d,
        .lr_g = (float)o->lr_g,
        .beta1 = (float)o->beta1,
        .beta2 = (float)o->beta2,
        .seed = (uint32_t)o->seed,
        .d_steps = o->d_steps,
        .noise_sigma = (float)o->instance_noise,
        .noise_steps = o->noise_steps,
        .ema = (float)o->ema,
        .hist_avg = (float)o->hist_avg,
        .feature_matching = o->feature_matching,
        .classes = run_classes(o, dataset_classes),
    };
    float real = o->label_smoothing > 0 ? (float)o->label_smoothing : 1.0f;
    c.real_labels = (vkg_label_noise){real, real, 0, 0, (float)o->flip_labels};
    c.fake_labels = (vkg_label_noise){0, 0, real, real, (float)o->flip_labels};
    if (o->soft_labels) {
        c.real_labels = (vkg_label_noise){0.7f, 1.2f, 0, 0.3f, (float)o->flip_labels};
        c.fake_labels = (vkg_label_noise){0, 0.3f, 0.7f, 1.2f, (float)o->flip_labels};
    }
    if (real == 1.0f && !o->soft_labels && o->flip_labels == 0) /* the plain 1 and 0 */
        memset(&c.real_labels, 0, sizeof c.real_labels),
            memset(&c.fake_labels, 0, sizeof c.fake_labels);
    return c;
}

int trainer_default_out(vkg_train_options *o) {
    char stamp[32], name[80], base[160];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
    size_t n = strcspn(o->data, ":/"); /* "mnist:/x/y" -> "mnist" */
    snprintf(name, sizeof name, "%.*s", (int)(n < 40 ? n : 40), o->data);
    snprintf(base, sizeof base, "runs/%s-%s", name, stamp);
    if (dist_run_follower()) { /* rank 0 owns the run directory */
        snprintf(o->out, sizeof o->out, "%s", base);
        return 0;
    }
    return rundir_claim_new(base, o->out, sizeof o->out);
}
