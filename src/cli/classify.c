/* vkgan train-classifier and vkgan score: argument handling around src/train/classify.c and
 * src/train/score.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "train/classify.h"
#include "train/report.h"
#include "train/score.h"

static const char *help =
    "usage: vkgan train-classifier --out FILE [--data SPEC] [--epochs E] [--lr LR] [--init FILE]\n"
    "                              [--batch B] [--seed S] [--device D] [--validation]\n"
    "Trains the small CNN whose penultimate-layer features give the Frechet Classifier Distance\n"
    "(FCD) of vkgan train and vkgan score, on the training split of a labelled dataset, with\n"
    "vkgan's own kernels. It is evaluated on the test split, and that split's feature statistics\n"
    "are stored in FILE (a safetensors file) as the real statistics FCD compares with.\n"
    "  --out FILE     the classifier file to write\n"
    "  --data SPEC    fashion-mnist (default) or mnist:DIR: a dataset with a test split\n"
    "  --epochs E     passes over the training split (default 4)\n"
    "  --lr LR        Adam's learning rate in the first epoch; it halves each epoch (default "
    "1e-3)\n"
    "  --init FILE    start from the weights of a classifier file (to train it further)\n"
    "  --batch B      batch size (default 100)\n"
    "  --seed S       seed of the initialisation and the data order (default 1)\n"
    "  --device D     device index or part of its name (see 'vkgan devices')\n"
    "  --validation   Vulkan validation layer on\n";

int cmd_train_classifier(int argc, char **argv) {
    classify_options o = {
        .data = "fashion-mnist", .epochs = 4, .batch = 100, .seed = 1, .lr = 1e-3};
    vkg_ctx_options dev = {0};
    char command[1024] = "vkgan";
    for (int i = 0; i < argc; i++)
        snprintf(command + strlen(command), sizeof command - strlen(command), " %s", argv[i]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *number = strcmp(a, "--epochs") == 0  ? &o.epochs
                      : strcmp(a, "--batch") == 0 ? &o.batch
                      : strcmp(a, "--seed") == 0  ? &o.seed
                                                  : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(help, stdout);
            return 0;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "--data") == 0 ||
                   strcmp(a, "--init") == 0) {
            if (!v) return cli_error("%s expects a value", a) + 1;
            *(strcmp(a, "--out") == 0 ? &o.out : strcmp(a, "--data") == 0 ? &o.data : &o.init) = v;
            i++;
        } else if (strcmp(a, "--lr") == 0) {
            char *end;
            o.lr = v ? strtod(v, &end) : 0;
            if (!v || *end || !(o.lr > 0 && o.lr < 1))
                return cli_error("--lr expects a number in (0, 1), got '%s'", v ? v : "") + 1;
            i++;
        } else if (number) {
            if (cli_positive_int(a, v, number) < 0) return 2;
            i++;
        } else if (cli_device_option(argc, argv, &i, &dev) < 0) {
            return 2;
        }
    }
    if (!o.out) return cli_error("vkgan train-classifier needs --out FILE") + 1;
    o.device = dev.device, o.validation = dev.validation;
    return classify_train_run(&o, command);
}

static const char *score_help =
    "usage: vkgan score (--checkpoint PATH | --images DIR|GRID.png) [--classifier FILE]\n"
    "                   [--samples M] [--seed S] [--device D] [--validation]\n"
    "Prints the quality numbers vkgan train logs: the Frechet Classifier Distance (FCD) to the\n"
    "real test set, the entropy of the predicted classes, the feature diversity, and for a\n"
    "class-conditional checkpoint the share of samples classified as their class. FCD is not\n"
    "Inception FID: compare it only between vkgan runs scored with the same classifier and the\n"
    "same number of samples.\n"
    "  --checkpoint PATH  a checkpoint of vkgan train: M generated samples (EMA weights when "
    "kept)\n"
    "  --images DIR       a directory of images (resized to the classifier's input), or a grid\n"
    "                     PNG as vkgan writes them (RUN/samples/step-N.png, vkgan sample)\n"
    "  --classifier FILE  default: the shipped Fashion-MNIST classifier (assets/)\n"
    "  --samples M        generated samples from a checkpoint (default 512, whole batches)\n"
    "  --seed S           seed of their latent vectors (default 1)\n"
    "  --device D         device index or part of its name (see 'vkgan devices')\n"
    "  --validation       Vulkan validation layer on\n";

int cmd_score(int argc, char **argv) {
    score_options o = {.samples = 512, .seed = 1};
    vkg_ctx_options dev = {0};
    int seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **text = strcmp(a, "--checkpoint") == 0   ? &o.checkpoint
                            : strcmp(a, "--images") == 0     ? &o.images
                            : strcmp(a, "--classifier") == 0 ? &o.classifier
                                                             : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(score_help, stdout);
            return 0;
        } else if (text) {
            if (!v) return cli_error("%s expects a path", a) + 1;
            *text = v, i++;
        } else if (strcmp(a, "--samples") == 0 || strcmp(a, "--seed") == 0) {
            if (cli_positive_int(a, v, strcmp(a, "--seed") == 0 ? &seed : &o.samples) < 0) return 2;
            i++;
        } else if (cli_device_option(argc, argv, &i, &dev) < 0) {
            return 2;
        }
    }
    if (!o.checkpoint == !o.images)
        return cli_error("vkgan score needs one of --checkpoint PATH and --images DIR|GRID.png") +
               1;
    if (o.samples < 2 || o.samples > 65536)
        return cli_error("--samples %d: 2 to 65536", o.samples) + 1;
    o.seed = (unsigned)seed, o.device = dev.device, o.validation = dev.validation;
    return vkg_score_run(&o);
}

static const char *report_help =
    "usage: vkgan report RUN_DIR [--out FILE]\n"
    "Writes one self-contained HTML file (no external files: images embedded) for a run\n"
    "directory of vkgan train: the loss, D-output, FCD and class-entropy curves with the\n"
    "training-health events marked, the events and what triggered them, the sample grids over\n"
    "time, real examples and the run's options.\n"
    "  --out FILE   where to write it (default RUN_DIR/report.html)\n";

int cmd_report(int argc, char **argv) {
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(report_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc) return cli_error("--out expects a path") + 1;
            out = argv[++i];
        } else if (argv[i][0] == '-' || dir) {
            return cli_error("unexpected argument '%s' (see 'vkgan report --help')", argv[i]) + 1;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) return cli_error("vkgan report needs RUN_DIR") + 1;
    return vkg_report_run(dir, out);
}
