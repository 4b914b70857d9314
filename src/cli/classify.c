/* vkgan train-classifier: argument handling and printing around vkg_classifier_train
 * (include/vkgan/score.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "vkgan/error.h"
#include "vkgan/score.h"

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

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(classifier_args, field)
static const vkg_opt classifier_opts[] = {
    {"out", "FILE", VKG_OPT_STR, F(out), 0, 0, NULL,
     "the classifier file to write (its name ends in .safetensors)", 0, NULL, NULL, 0, 1},
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

/* The training's lines: the start and the test accuracy on stdout, the software device's note
 * and progress on stderr. */
static void progress(void *user, const vkg_classifier_progress *p) {
    const char *init = user;
    if (p->stage == VKG_CLASSIFIER_DEVICE) {
        if (strcmp(p->device_type, "cpu") == 0)
            fprintf(stderr,
                    "vkgan: using %s, a software (CPU) Vulkan device: expect it to be slow\n",
                    p->device);
    } else if (p->stage == VKG_CLASSIFIER_START)
        printf("training a classifier on %s (%d images, %d classes): %d epoch%s of %d steps, "
               "batch %d%s%s\n",
               p->data_name, p->count, p->classes, p->epochs, p->epochs == 1 ? "" : "s",
               p->steps_per_epoch, p->batch, init ? ", from " : "", init ? init : "");
    else if (p->stage == VKG_CLASSIFIER_STEP)
        fprintf(stderr, "epoch %.2f  step %d/%d  loss %.4f  batch accuracy %.1f%%  %.0f img/s\n",
                p->epoch, p->step, p->total_steps, p->loss, 100 * p->accuracy, p->images_per_s);
    else
        printf("test accuracy %.2f%% (%d images), class entropy %.4f nats, %.0f s\n",
               100 * p->accuracy, p->count, p->entropy, p->seconds);
}

int cmd_train_classifier(int argc, char **argv) {
    classifier_args a;
    int code = cli_parse(&classifier_table, argc, argv, &a);
    if (code >= 0) return code;
    /* before the epochs, not after; not a file of a run directory (it reads none) */
    if ((code = cli_check_output("--out", a.out, NULL, NULL, CLI_SAFETENSORS))) return code;
    char command[1024] = "vkgan";
    for (int i = 0; i < argc; i++)
        snprintf(command + strlen(command), sizeof command - strlen(command), " %s", argv[i]);
    vkg_classifier_train_options o = {.data = a.data,
                                      .out = a.out,
                                      .device = a.device,
                                      .init = a.init,
                                      .command = command,
                                      .lr = a.lr,
                                      .epochs = a.epochs,
                                      .batch = a.batch,
                                      .seed = a.seed,
                                      .validation = a.validation};
    if (vkg_classifier_train(&o, progress, (void *)a.init) < 0) return cli_error("%s", vkg_error());
    printf("wrote %s\n", a.out);
    return 0;
}
