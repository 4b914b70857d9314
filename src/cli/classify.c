/* vkgan train-classifier: argument handling around src/train/classify.c. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "train/classify.h"

static const char *help =
    "usage: vkgan train-classifier --out FILE [--data SPEC] [--epochs E] [--batch B] [--seed S]\n"
    "                              [--device D] [--validation]\n"
    "Trains the small CNN whose penultimate-layer features give the Frechet Classifier Distance\n"
    "(FCD) of vkgan train and vkgan score, on the training split of a labelled dataset, with\n"
    "vkgan's own kernels. It is evaluated on the test split, and that split's feature statistics\n"
    "are stored in FILE (a safetensors file) as the real statistics FCD compares with.\n"
    "  --out FILE     the classifier file to write\n"
    "  --data SPEC    fashion-mnist (default) or mnist:DIR: a dataset with a test split\n"
    "  --epochs E     passes over the training split (default 4; Adam's rate 1e-3 halves each)\n"
    "  --batch B      batch size (default 100)\n"
    "  --seed S       seed of the initialisation and the data order (default 1)\n"
    "  --device D     device index or part of its name (see 'vkgan devices')\n"
    "  --validation   Vulkan validation layer on\n";

int cmd_train_classifier(int argc, char **argv) {
    classify_options o = {.data = "fashion-mnist", .epochs = 4, .batch = 100, .seed = 1};
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
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "--data") == 0) {
            if (!v) return cli_error("%s expects a value", a) + 1;
            *(strcmp(a, "--out") == 0 ? &o.out : &o.data) = v, i++;
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
