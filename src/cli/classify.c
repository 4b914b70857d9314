/* vkgan train-classifier and vkgan score: argument handling around src/train/classify.c and
 * src/train/score.c. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "train/classify.h"
#include "train/report.h"
#include "train/score.h"
#include "vkgan/error.h"

/* train-classifier reads a labelled dataset with a test split */
static int labelled_spec(const char *value) {
    if (strcmp(value, "fashion-mnist") == 0 || (strncmp(value, "mnist:", 6) == 0 && value[6]))
        return 0;
    return vkg_set_error("--data %s: expected fashion-mnist or mnist:DIR (a dataset with a test "
                         "split)",
                         value);
}

typedef struct classifier_args {
    const char *out, *data, *init, *device;
    double lr;
    int epochs, batch, seed, validation;
} classifier_args;

typedef struct score_args {
    const char *checkpoint, *images, *classifier, *device;
    int samples, seed, validation;
} score_args;

typedef struct report_args {
    const char *dir, *out;
} report_args;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(classifier_args, field)
static const vkg_opt classifier_opts[] = {
    {"out", "FILE", VKG_OPT_STR, F(out), 0, 0, NULL, "the classifier file to write", 0, NULL, NULL,
     0, 1},
    {"data", "SPEC", VKG_OPT_STR, F(data), 0, 0, "fashion-mnist",
     "fashion-mnist or mnist:DIR: a dataset with a test split", 0, NULL, NULL, 0, 0, labelled_spec},
    {"epochs", "E", VKG_OPT_INT, F(epochs), 1, 1000, "4", "passes over the training split", 0},
    {"lr", "LR", VKG_OPT_REAL, F(lr), 1e-9, 0.999, "1e-3",
     "Adam's learning rate in the first epoch; it halves each epoch", 0},
    {"init", "FILE", VKG_OPT_STR, F(init), 0, 0, NULL,
     "start from the weights of a classifier file (to train it further)", 0},
    {"batch", "B", VKG_OPT_INT, F(batch), 1, 65535, "100", "batch size", 0},
    {"seed", "S", VKG_OPT_INT, F(seed), 0, 2147483647, "1",
     "seed of the initialisation and the data order", 0},
    CLI_DEVICE_OPTIONS(classifier_args),
};
#undef F
#define F(field) VKG_OPT_FIELD(score_args, field)
static const vkg_opt score_opts[] = {
    {"checkpoint", "PATH", VKG_OPT_STR, F(checkpoint), 0, 0, NULL,
     "a checkpoint of vkgan train: M generated samples (EMA weights when kept)", 0},
    {"images", "DIR|GRID.png", VKG_OPT_STR, F(images), 0, 0, NULL,
     "a directory of images (resized to the classifier's input), or a grid PNG as vkgan writes "
     "them (RUN/samples/step-N.png, vkgan sample)",
     0},
    {"classifier", "FILE", VKG_OPT_STR, F(classifier), 0, 0, NULL,
     "the FCD classifier; by default the shipped Fashion-MNIST one (assets/)", 0},
    {"samples", "M", VKG_OPT_INT, F(samples), 2, 65536, "512",
     "generated samples from a checkpoint (whole batches)", 0},
    {"seed", "S", VKG_OPT_INT, F(seed), 0, 2147483647, "1", "seed of their latent vectors", 0},
    CLI_DEVICE_OPTIONS(score_args),
};
#undef F
#define F(field) VKG_OPT_FIELD(report_args, field)
static const vkg_opt report_opts[] = {
    {"run-dir", "RUN_DIR", VKG_OPT_STR, F(dir), 0, 0, NULL, "a run directory of vkgan train", 0,
     NULL, NULL, 1, 1},
    {"out", "FILE", VKG_OPT_STR, F(out), 0, 0, NULL,
     "where to write it (default RUN_DIR/report.html)", 0},
};
#undef F
#pragma GCC diagnostic pop

static const vkg_opt_table classifier_table = {
    "train-classifier",
    "--out FILE [options]",
    "Trains the small CNN whose penultimate-layer features give the Frechet Classifier Distance "
    "(FCD) of vkgan train and vkgan score, on the training split of a labelled dataset, with "
    "vkgan's own kernels. It is evaluated on the test split, and that split's feature statistics "
    "are stored in FILE (a safetensors file) as the real statistics FCD compares with.",
    NULL,
    0,
    classifier_opts,
    sizeof classifier_opts / sizeof *classifier_opts};

static const vkg_opt_table score_table = {
    "score",
    "(--checkpoint PATH | --images DIR|GRID.png) [options]",
    "Prints the quality numbers vkgan train logs: the Frechet Classifier Distance (FCD) to the "
    "real test set, the entropy of the predicted classes, the feature diversity, and for a "
    "class-conditional checkpoint the share of samples classified as their class. FCD is not "
    "Inception FID: compare it only between vkgan runs scored with the same classifier and the "
    "same number of samples.",
    NULL,
    0,
    score_opts,
    sizeof score_opts / sizeof *score_opts};

static const vkg_opt_table report_table = {
    "report",
    "RUN_DIR [--out FILE]",
    "Writes one self-contained HTML file (no external files: images embedded) for a run "
    "directory of vkgan train: the loss, D-output, FCD and class-entropy curves with the "
    "training-health events marked, the events and what triggered them, the sample grids over "
    "time, real examples and the run's options.",
    NULL,
    0,
    report_opts,
    sizeof report_opts / sizeof *report_opts};

int cmd_train_classifier(int argc, char **argv) {
    classifier_args a;
    int code = cli_parse(&classifier_table, argc, argv, &a);
    if (code >= 0) return code;
    char command[1024] = "vkgan";
    for (int i = 0; i < argc; i++)
        snprintf(command + strlen(command), sizeof command - strlen(command), " %s", argv[i]);
    classify_options o = {.data = a.data,
                          .out = a.out,
                          .device = a.device,
                          .init = a.init,
                          .lr = a.lr,
                          .epochs = a.epochs,
                          .batch = a.batch,
                          .seed = a.seed,
                          .validation = a.validation};
    return classify_train_run(&o, command);
}

int cmd_score(int argc, char **argv) {
    score_args a;
    int code = cli_parse(&score_table, argc, argv, &a);
    if (code >= 0) return code;
    if (!a.checkpoint == !a.images)
        return cli_error("vkgan score needs exactly one of --checkpoint PATH and --images "
                         "DIR|GRID.png") +
               1;
    score_options o = {.checkpoint = a.checkpoint,
                       .images = a.images,
                       .classifier = a.classifier,
                       .device = a.device,
                       .samples = a.samples,
                       .validation = a.validation,
                       .seed = (unsigned)a.seed};
    return vkg_score_run(&o);
}

int cmd_report(int argc, char **argv) {
    report_args a;
    int code = cli_parse(&report_table, argc, argv, &a);
    if (code >= 0) return code;
    return vkg_report_run(a.dir, a.out);
}
