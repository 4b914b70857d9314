/* vkgan train's options: one table gives the parser, --help (with the defaults) and the
 * config.json of a run, so the three cannot disagree. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkgan/error.h"
#include "vkgan/train.h"

/* FLAG takes no value; OPTIONAL takes a number if one follows, else its `on` value. */
typedef enum kind { INT, REAL, TEXT, FLAG, OPTIONAL } kind;

typedef struct option {
    const char *name, *arg; /* arg: the value's name in --help (NULL: a flag) */
    kind kind;
    size_t offset, size;
    double min, max; /* numbers: the valid range */
    const char *def; /* default as text ("" for text options left empty) */
    const char *help;
    int group;
    const char *on; /* OPTIONAL: the value when none follows */
} option;

enum { G_RUN, G_MODEL, G_OPT, G_STABLE, G_HEALTH, G_OUT };
static const char *group_names[] = {"run",
                                    "model",
                                    "optimiser (the DCGAN recipe by default)",
                                    "stabilisation (all off by default)",
                                    "training health (README: 'Training health')",
                                    "outputs"};

/* `on` is given only for OPTIONAL options */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) offsetof(vkg_train_options, field), sizeof(((vkg_train_options *)0)->field)
static const option table[] = {
    {"data", "SPEC", TEXT, F(data), 0, 0, "fashion-mnist",
     "fashion-mnist | mnist:DIR | cifar10:DIR | folder:DIR | ring8 | grid25", G_RUN},
    {"out", "DIR", TEXT, F(out), 0, 0, "", "run directory (default runs/DATA-DATE-TIME)", G_RUN},
    {"resume", "DIR", TEXT, F(resume), 0, 0, "",
     "continue the run in DIR from its newest checkpoint (its config.json gives the options; "
     "--steps may raise the total)",
     G_RUN},
    {"steps", "N", INT, F(steps), 0, 1e9, "0",
     "training steps (G updates); 0: from --epochs, else 3000 on a GPU, 1200 on a CPU device",
     G_RUN},
    {"epochs", "E", INT, F(epochs), 0, 1e6, "0", "train for E passes over the data", G_RUN},
    {"batch", "B", INT, F(batch), 0, 65535, "0",
     "batch size; 0: 128 on a GPU, 32 on a CPU device (256 for 2D data)", G_RUN},
    {"seed", "S", INT, F(seed), 0, 2147483647, "1", "seed of every random draw", G_RUN},
    {"device", "D", TEXT, F(device), 0, 0, "", "device index or part of its name", G_RUN},
    {"validation", NULL, FLAG, F(validation), 0, 1, "0", "Vulkan validation layer on", G_RUN},
    {"profile", NULL, FLAG, F(profile), 0, 1, "0",
     "time every dispatch of the step and print the GPU time per kernel at the end", G_RUN},
    {"quiet", NULL, FLAG, F(quiet), 0, 1, "0", "no model summary and no progress", G_RUN},
    {"view", NULL, FLAG, F(view), 0, 1, "0",
     "open the live window: samples and graphs as training runs (keys: H in the window)", G_RUN},
    {"screenshot", "PNG", TEXT, F(screenshot), 0, 0, "",
     "with --view: when training ends, write the window as a PNG and close it", G_RUN},
    {"image-size", "PX", INT, F(image_size), 0, 64, "0",
     "28, 32 or 64; 0: the data's (28 for MNIST-like data, 32 for CIFAR-10, 64 for folders)",
     G_MODEL},
    {"latent", "Z", INT, F(latent), 0, 4096, "0", "size of z; 0: 100 (16 for 2D data)", G_MODEL},
    {"g-width", "W", INT, F(g_width), 0, 1024, "0",
     "channels of G's last hidden map (ngf); 0: 64 on a GPU, 16 on a CPU device", G_MODEL},
    {"d-width", "W", INT, F(d_width), 0, 1024, "0",
     "channels of D's first map (ndf); 0: as G's on a GPU, half of G's on a CPU device", G_MODEL},
    {"mlp-hidden", "U", INT, F(mlp_hidden), 1, 4096, "128", "2D data: units per MLP layer",
     G_MODEL},
    {"mlp-depth", "L", INT, F(mlp_depth), 1, 8, "2", "2D data: hidden layers per MLP", G_MODEL},
    {"lr", "LR", REAL, F(lr), 0, 1, "0.0002", "Adam learning rate of both models", G_OPT},
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
     G_HEALTH},
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

static const option *find(const char *name) {
    for (int i = 0; i < COUNT; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

int vkg_train_set(vkg_train_options *o, const char *name, const char *value) {
    const option *t = find(name);
    if (!t) return vkg_set_error("unknown option '--%s' (see 'vkgan train --help')", name);
    char *field = (char *)o + t->offset;
    if (t->kind == TEXT) {
        if (strlen(value) >= t->size)
            return vkg_set_error("--%s: the value is longer than %zu characters", name,
                                 t->size - 1);
        strcpy(field, value);
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (*value == 0 || *end || errno || !isfinite(v) || v < t->min || v > t->max ||
        ((t->kind == INT || t->kind == FLAG) && v != floor(v)))
        return vkg_set_error("--%s expects %s from %g to %g, got '%s'", name,
                             t->kind == INT ? "an integer" : "a number", t->min, t->max, value);
    if (t->kind == REAL || t->kind == OPTIONAL)
        *(double *)field = v;
    else
        *(int *)field = (int)v;
    return 0;
}

void vkg_train_defaults(vkg_train_options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < COUNT; i++) vkg_train_set(o, table[i].name, table[i].def);
}

static int looks_numeric(const char *s) {
    char *end;
    strtod(s, &end);
    return *s && !*end;
}

int vkg_train_parse(int argc, char **argv, vkg_train_options *o) {
    vkg_train_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            vkg_train_help(stdout);
            return 1;
        }
        const option *t = strncmp(a, "--", 2) == 0 ? find(a + 2) : NULL;
        int r;
        if (!t)
            r = vkg_set_error("unknown option '%s' (see 'vkgan train --help')", a);
        else if (t->kind == FLAG)
            r = vkg_train_set(o, t->name, "1");
        else if (t->kind == OPTIONAL && (i + 1 >= argc || !looks_numeric(argv[i + 1])))
            r = vkg_train_set(o, t->name, t->on);
        else if (i + 1 >= argc)
            r = vkg_set_error("%s expects a value (%s)", a, t->arg);
        else
            r = vkg_train_set(o, t->name, argv[++i]);
        if (r < 0) {
            fprintf(stderr, "vkgan: error: %s\n", vkg_error());
            return -1;
        }
    }
    return 0;
}

/* Prints text from column `indent` (where the cursor is), wrapping words before `width`. */
static void print_wrapped(FILE *f, const char *text, int indent, int width) {
    int col = indent;
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > indent && col + 1 + (int)word > width)
            fprintf(f, "\n%*s", indent, ""), col = indent;
        else if (col > indent)
            fputc(' ', f), col++;
        fprintf(f, "%.*s", (int)word, text);
        col += (int)word;
        text += word;
        while (*text == ' ') text++;
    }
    fputc('\n', f);
}

void vkg_train_help(FILE *f) {
    fputs("usage: vkgan train [options]\n"
          "Trains a DCGAN (an MLP GAN for 2D data): sample grids from a fixed latent batch,\n"
          "metrics, and checkpoints that resume bit-exactly, in the run directory; headless, or\n"
          "beside the live window with --view. Ctrl-C writes a checkpoint and stops (exit code\n"
          "130).\n",
          f);
    for (int g = G_RUN; g <= G_OUT; g++) {
        fprintf(f, "\n%s:\n", group_names[g]);
        for (int i = 0; i < COUNT; i++) {
            const option *t = &table[i];
            if (t->group != g) continue;
            char head[64];
            snprintf(head, sizeof head, "--%s%s%s", t->name, t->arg ? " " : "",
                     t->arg ? t->arg : "");
            char text[512];
            snprintf(text, sizeof text, "%s", t->help);
            if (t->kind != FLAG && t->def[0] && strcmp(t->def, "0") != 0)
                snprintf(text + strlen(text), sizeof text - strlen(text), " (default %s)", t->def);
            fprintf(f, "  %-25s", head);
            print_wrapped(f, text, 27, 96);
        }
    }
}

cJSON *vkg_train_options_json(const vkg_train_options *o) {
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; j && i < COUNT; i++) {
        const option *t = &table[i];
        const char *field = (const char *)o + t->offset;
        cJSON *v = t->kind == TEXT ? cJSON_CreateString(field)
                   : t->kind == REAL || t->kind == OPTIONAL
                       ? cJSON_CreateNumber(*(const double *)field)
                       : cJSON_CreateNumber(*(const int *)field);
        if (!v || !cJSON_AddItemToObject(j, t->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

int vkg_train_options_from_json(vkg_train_options *o, const cJSON *json, const char *source) {
    if (!cJSON_IsObject(json))
        return vkg_set_error("%s: the options are not a JSON object", source);
    vkg_train_defaults(o);
    for (const cJSON *e = json->child; e; e = e->next) {
        char text[64];
        int r;
        if (cJSON_IsString(e)) {
            r = vkg_train_set(o, e->string, e->valuestring);
        } else if (cJSON_IsNumber(e)) {
            snprintf(text, sizeof text, "%.17g", e->valuedouble);
            r = vkg_train_set(o, e->string, text);
        } else {
            r = vkg_set_error("option %s is neither text nor a number", e->string);
        }
        if (r < 0) return vkg_set_error("%s: %s", source, vkg_error());
    }
    return 0;
}
