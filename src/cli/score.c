/* vkgan score: argument handling and printing around vkg_score (include/vkgan/score.h). */
#include <stdio.h>

#include "cli/commands.h"
#include "vkgan/error.h"
#include "vkgan/score.h"

typedef struct score_args {
    const char *checkpoint, *images, *classifier, *device;
    int samples, seed, validation;
} score_args;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
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
#pragma GCC diagnostic pop

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

int cmd_score(int argc, char **argv) {
    score_args a;
    unsigned char given[sizeof score_opts / sizeof *score_opts];
    int code = cli_parse_given(&score_table, argc, argv, &a, given);
    if (code >= 0) return code;
    if (!a.checkpoint == !a.images)
        return cli_error("vkgan score needs exactly one of --checkpoint PATH and --images "
                         "DIR|GRID.png") +
               1;
    for (int i = 0; a.images && i < 2; i++) /* what generates samples: a checkpoint's only */
        if (given[vkg_opt_find(&score_table, i ? "seed" : "samples") - score_opts])
            return cli_error("--%s %d: it is for the samples generated from a --checkpoint; "
                             "--images %s scores the images there",
                             i ? "seed" : "samples", i ? a.seed : a.samples, a.images) +
                   1;
    vkg_score_options o = {.checkpoint = a.checkpoint,
                           .images = a.images,
                           .classifier = a.classifier,
                           .device = a.device,
                           .samples = a.samples,
                           .validation = a.validation,
                           .seed = (unsigned)a.seed};
    vkg_score_result s;
    int r = vkg_score(&o, &s);
    if (s.n > 0) { /* also when only the validation layer's report failed */
        printf("FCD %.3f  class entropy %.4f nats (real %.4f)  diversity %.4g (real %.4g)", s.fcd,
               s.entropy, s.real_entropy, s.diversity, s.real_diversity);
        if (s.accuracy >= 0) printf("  class accuracy %.2f%%", 100 * s.accuracy);
        printf("\n%d samples from %s; classifier %s (FCD falls as the sample count grows: compare "
               "at equal counts)\n",
               s.n, a.checkpoint ? a.checkpoint : a.images, s.classifier);
    }
    return r < 0 ? cli_error("%s", vkg_error()) : 0;
}
