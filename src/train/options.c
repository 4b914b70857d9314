/* vkgan train's options: one table gives the parser, --help (with the defaults) and the
 * config.json of a run, so the three cannot disagree. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "vkgan/data.h"
#include "vkgan/error.h"
#include "vkgan/opt.h"
#include "vkgan/train.h"

enum { G_RUN, G_MODEL, G_OPT, G_STABLE, G_HEALTH, G_OUT };
static const char *const group_names[] = {"run",
                                          "model",
                                          "optimiser (the DCGAN recipe by default)",
                                          "stabilisation (all off by default)",
                                          "training health (README: 'Training health')",
                                          "outputs"};

/* The DCGAN builders' sizes (src/gan/dcgan.c), or 0 for the data's own. */
static int image_size(const char *value) {
    if (strcmp(value, "0") && strcmp(value, "28") && strcmp(value, "32") && strcmp(value, "64"))
        return vkg_set_error("--image-size %s: DCGAN models are 28, 32 or 64 pixels (0: the "
                             "data's)",
                             value);
    return 0;
}

/* `on`, `choices` and `check` are given only where they apply */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(vkg_train_options, field)
#define INT VKG_OPT_INT
#define REAL VKG_OPT_REAL
#define TEXT VKG_OPT_TEXT
#define FLAG VKG_OPT_FLAG
#define OPTIONAL VKG_OPT_OPTIONAL
static const vkg_opt table[] = {
    {"data", "SPEC", TEXT, F(data), 0, 0, "fashion-mnist",
     "fashion-mnist | mnist:DIR | cifar10:DIR | folder:DIR | ring8 | grid25", G_RUN, NULL, NULL, 0,
     0, vkg_dataset_spec_check},
    {"out", "DIR", TEXT, F(out), 0, 0, "", "run directory (default runs/DATA-DATE-TIME)", G_RUN},
    {"resume", "DIR", TEXT, F(resume), 0, 0, "",
     "continue the run in DIR from its newest checkpoint that loads (step 0 when it has none), "
     "with its options (config.json, checked against the checkpoints): only --steps (a new "
     "total), --device, --validation, --quiet, --profile, --view and --screenshot may be given "
     "again",
     G_RUN},
    {"steps", "N", INT, F(steps), 0, 1e9, "0",
     "training steps (G updates); 0: from --epochs, else 3000 (6000 for images on a CPU device)",
     G_RUN},
    {"epochs", "E", INT, F(epochs), 0, 1e6, "0", "train for E passes over the data", G_RUN},
    {"batch", "B", INT, F(batch), 0, 65535, "0",
     "batch size (under mpirun the global batch, split evenly across the ranks); 0: 128 on a "
     "GPU, 32 on a CPU device (256 for 2D data)",
     G_RUN},
    {"seed", "S", INT, F(seed), 0, 2147483647, "1", "seed of every random draw", G_RUN},
    {"device", "D", TEXT, F(device), 0, 0, "",
     "device index or part of its name; under mpirun a comma-separated list gives each rank its "
     "own (rank r takes entry r; default: the local rank's device among the best kind)",
     G_RUN},
    {"sync-bn", NULL, FLAG, F(sync_bn), 0, 1, "0",
     "under mpirun: batch norm normalises with the statistics of the global batch, summed across "
     "the ranks (off: each rank's own batch, as PyTorch DDP)",
     G_RUN},
    {"validation", NULL, FLAG, F(validation), 0, 1, "0", "Vulkan validation layer on", G_RUN},
    {"profile", NULL, FLAG, F(profile), 0, 1, "0",
     "time every dispatch of the step and print the GPU time per kernel at the end", G_RUN},
    {"quiet", NULL, FLAG, F(quiet), 0, 1, "0", "no model summary and no progress", G_RUN},
    {"view", NULL, FLAG, F(view), 0, 1, "0",
     "open the live window: samples and graphs as training runs (keys: H in the window)", G_RUN},
    {"screenshot", "FILE", TEXT, F(screenshot), 0, 0, "",
     "with --view: when training ends, write the window as an image (.png, .jpg or .jpeg, .bmp, "
     ".tga: the format its extension says) and close it",
     G_RUN},
    {"image-size", "PX", INT, F(image_size), 0, 64, "0",
     "28, 32 or 64; 0: the data's (28 for MNIST-like data, 32 for CIFAR-10, 64 for folders)",
     G_MODEL, NULL, NULL, 0, 0, image_size},
    {"latent", "Z", INT, F(latent), 0, 4096, "0", "size of z; 0: 100 (16 for 2D data)", G_MODEL},
    {"g-width", "W", INT, F(g_width), 0, 1024, "0",
     "channels of G's last hidden map (ngf); 0: 64 on a GPU, 16 on a CPU device", G_MODEL},
    {"d-width", "W", INT, F(d_width), 0, 1024, "0", "channels of D's first map (ndf); 0: as G's",
     G_MODEL},
    {"bias", NULL, FLAG, F(bias), 0, 1, "0",
     "bias terms in the layers not followed by batch norm (G's output layer, D's first and last "
     "convolutions), as PyTorch's default bias=True gives them; off: none, as in the DCGAN "
     "paper and pytorch/examples",
     G_MODEL},
    {"mlp-hidden", "U", INT, F(mlp_hidden), 1, 4096, "128", "2D data: units per MLP layer",
     G_MODEL},
    {"mlp-depth", "L", INT, F(mlp_depth), 1, 8, "2", "2D data: hidden layers per MLP", G_MODEL},
    {"lr", "LR", REAL, F(lr), 1e-9, 1, "0.0002", "Adam learning rate of both models", G_OPT},
    {"lr-d", "LR", REAL, F(lr_d), 0, 1, "0", "D's learning rate (0: --lr)", G_OPT},
    {"lr-g", "LR", REAL, F(lr_g), 0, 1, "0", "G's learning rate (0: --lr)", G_OPT},
    {"beta1", "B", REAL, F(beta1), 0, 0.999999, "0.5", "Adam beta1", G_OPT},
    {"beta2", "B", REAL, F(beta2), 0, 0.999999, "0.999", "Adam beta2", G_OPT},
    {"d-steps", "K", INT, F(d_steps), 1, 100, "1", "D steps per G step", G_STABLE},
    {"label-smoothing", "T", REAL, F(label_smoothing), 0, 1, "0",
     "one-sided label smoothing: D's real target T (e.g. 0.9)", G_STABLE},
    {"soft-labels", NULL, FLAG, F(soft_labels), 0, 1, "0",
     "random soft targets: real in [0.7, 1.2], fake in [0, 0.3]", G_STABLE},
    {"flip-labels", "P", REAL, F(flip_labels), 0, 1, "0",
     "noisy labels: flip this fraction of D's targets", G_STABLE},
    {"instance-noise", "SIGMA", REAL, F(instance_noise), 0, 10, "0",
     "N(0, SIGMA^2) on every input of D, decaying linearly to 0", G_STABLE},
    {"noise-steps", "N", INT, F(noise_steps), 0, 1e9, "0",
     "steps over which the instance noise decays (0: the whole run)", G_STABLE},
    {"g-dropout", "[P]", OPTIONAL, F(g_dropout), 0, 0.95, "0",
     "dropout with p = P (0.5 when no P follows) in G's hidden layers, in training and in "
     "generation",
     G_STABLE, "0.5"},
    {"g-leaky", NULL, FLAG, F(g_leaky), 0, 1, "0", "LeakyReLU(0.2) in G instead of ReLU", G_STABLE},
    {"d-avg-pool", NULL, FLAG, F(d_avg_pool), 0, 1, "0",
     "D downsamples by 3x3 conv + 2x2 average pool instead of strided conv", G_STABLE},
    {"feature-matching", NULL, FLAG, F(feature_matching), 0, 1, "0",
     "G matches the batch means of D's last hidden features on real and generated data "
     "instead of fooling D (Salimans et al. 2016)",
     G_STABLE},
    {"conditional", NULL, FLAG, F(conditional), 0, 1, "0",
     "class-conditional G and D from the dataset's labels (one-hot channels of z and of D's "
     "input; Mirza and Osindero 2014); sample grids get one row per class",
     G_STABLE},
    {"virtual-bn", NULL, FLAG, F(virtual_bn), 0, 1, "0",
     "virtual batch norm in G: each example normalised with a fixed reference batch's "
     "statistics pooled with its own (Salimans et al. 2016)",
     G_STABLE},
    {"minibatch-stddev", NULL, FLAG, F(minibatch_stddev), 0, 1, "0",
     "minibatch discrimination: the batch's standard deviation as an extra feature map before "
     "D's last layer (Karras et al. 2018)",
     G_STABLE},
    {"hist-avg", "LAMBDA", REAL, F(hist_avg), 0, 1e3, "0",
     "historical averaging: LAMBDA ||theta - mean of past theta||^2 on G and D", G_STABLE},
    {"ema", "DECAY", REAL, F(ema), 0, 0.99999, "0",
     "exponential moving average of G's weights for the samples (e.g. 0.999)", G_STABLE},
    {"classifier", "FILE", TEXT, F(classifier), 0, 0, "auto",
     "the FCD classifier (vkgan train-classifier); auto: the shipped one for fashion-mnist, none "
     "for other data; none: no quality metrics",
     G_HEALTH},
    {"health-every", "N", INT, F(health_every), 0, 1e9, "100",
     "steps per quality check: FCD, class entropy, diversity (0: none)", G_HEALTH},
    {"health-samples", "M", INT, F(health_samples), 1, 1e6, "512",
     "generated samples per quality check (whole batches)", G_HEALTH},
    {"on-failure", "POLICY", TEXT, F(on_failure), 0, 0, "warn",
     "warn | stop (exit code 10-16 by kind of failure) | rollback (to the last checkpoint "
     "before the failure, with lower learning rates)",
     G_HEALTH, NULL, "warn|stop|rollback"},
    {"rollback-lr-scale", "F", REAL, F(rollback_lr_scale), 1e-6, 1, "0.5",
     "rollback: both learning rates are multiplied by F", G_HEALTH},
    {"max-rollbacks", "K", INT, F(max_rollbacks), 1, 1000, "3",
     "rollback: after K rollbacks the next failure stops the run", G_HEALTH},
    {"log-every", "N", INT, F(log_every), 1, 1e9, "50", "steps per metrics line", G_OUT},
    {"sample-every", "N", INT, F(sample_every), 1, 1e9, "250", "steps per sample grid", G_OUT},
    {"checkpoint-every", "N", INT, F(checkpoint_every), 1, 1e9, "1000", "steps per checkpoint",
     G_OUT},
    {"keep", "K", INT, F(keep), 1, 1e6, "3", "checkpoints kept (the newest K)", G_OUT},
};
#pragma GCC diagnostic pop
#define COUNT ((int)(sizeof table / sizeof table[0]))

static const vkg_opt_table train_table = {
    "train",
    "[options]",
    "Trains a DCGAN (an MLP GAN for 2D data): sample grids from a fixed latent batch, metrics, "
    "and checkpoints that resume bit-exactly, in the run directory; headless, or beside the live "
    "window with --view. Ctrl-C, SIGTERM or SIGHUP writes a checkpoint and stops (exit code 130).",
    group_names,
    sizeof group_names / sizeof *group_names,
    table,
    COUNT};

const vkg_opt_table *vkg_train_table(void) {
    return &train_table;
}

void vkg_train_defaults(vkg_train_options *o) {
    memset(o, 0, sizeof *o);
    vkg_opt_defaults(&train_table, o);
}

int vkg_train_parse(int argc, char **argv, vkg_train_options *o) {
    memset(o, 0, sizeof *o);
    return vkg_opt_parse(&train_table, argc, argv, o, o->given); /* (--resume '': refused) */
}

void vkg_train_help(FILE *f) {
    vkg_opt_help(&train_table, f);
}

cJSON *vkg_train_options_json(const vkg_train_options *o) {
    return vkg_opt_json(&train_table, o);
}

int vkg_train_options_from_json(vkg_train_options *o, const cJSON *json, const char *source) {
    memset(o, 0, sizeof *o);
    return vkg_opt_from_json(&train_table, o, json, source);
}
