/* vkgan train, vkgan sample and vkgan view: argument handling around src/train. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "vkgan/train.h"

int cmd_train(int argc, char **argv) {
    vkg_train_options o;
    int r = vkg_train_parse(argc, argv, &o);
    if (r != 0) return r > 0 ? 0 : 2;
    return vkg_train_run(&o);
}

static const char *sample_help =
    "usage: vkgan sample --checkpoint PATH [--n N] [--out FILE] [--seed S] [--class C]\n"
    "                    [--device D]\n"
    "Generates N samples (default 64) from a checkpoint of vkgan train (with G's EMA weights\n"
    "when the run kept them) and writes them as one PNG grid (a scatter plot for 2D data).\n"
    "  --checkpoint PATH  a .safetensors file from RUN/checkpoints/\n"
    "  --n N              number of samples (default 64)\n"
    "  --out FILE         the PNG to write (default samples.png)\n"
    "  --seed S           seed of z (default 1)\n"
    "  --class C          conditional models: every sample of class C (default: one row per\n"
    "                     class)\n"
    "  --device D         device index or part of its name (see 'vkgan devices')\n"
    "  --validation       Vulkan validation layer on\n";

int cmd_sample(int argc, char **argv) {
    const char *checkpoint = NULL, *out = "samples.png";
    int n = 64, seed = 1, cls = -1;
    vkg_ctx_options dev = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(sample_help, stdout);
            return 0;
        } else if (strcmp(a, "--checkpoint") == 0 || strcmp(a, "--out") == 0) {
            if (!v) return cli_error("%s expects a path", a) + 1;
            *(strcmp(a, "--out") == 0 ? &out : &checkpoint) = v, i++;
        } else if (strcmp(a, "--n") == 0) {
            if (cli_positive_int(a, v, &n) < 0) return 2;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (cli_positive_int(a, v, &seed) < 0) return 2;
            i++;
        } else if (strcmp(a, "--class") == 0) {
            char *end;
            long c = v ? strtol(v, &end, 10) : -1;
            if (!v || *end || c < 0 || c > 1000)
                return cli_error("--class expects a class number, got '%s'", v ? v : "") + 1;
            cls = (int)c, i++;
        } else if (cli_device_option(argc, argv, &i, &dev) < 0) {
            return 2;
        }
    }
    if (!checkpoint) return cli_error("vkgan sample needs --checkpoint PATH") + 1;
    if (n > 4096) return cli_error("--n %d: at most 4096 samples at once", n) + 1;
    return vkg_sample_run(checkpoint, n, out, (unsigned)seed, cls, dev.device, dev.validation);
}

static const char *view_help =
    "usage: vkgan view RUN_DIR [--screenshot PNG] [--device D] [--validation]\n"
    "Opens a run directory of vkgan train (finished, or still running headless) in the window:\n"
    "the graphs from its metrics (re-read as they grow), G on the fixed latent batch of its\n"
    "newest checkpoint, its saved grids one by one (slider; Left / Right / Home / End), and an\n"
    "animated walk through latent space (W). H in the window lists the keys.\n"
    "  --screenshot PNG   draw one frame, write it as a PNG and close\n"
    "  --device D         device index or part of its name (see 'vkgan devices')\n"
    "  --validation       Vulkan validation layer on\n";

int cmd_view(int argc, char **argv) {
    const char *dir = NULL, *shot = NULL;
    vkg_ctx_options dev = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(view_help, stdout);
            return 0;
        } else if (strcmp(a, "--screenshot") == 0) {
            if (i + 1 >= argc) return cli_error("--screenshot expects a path") + 1;
            shot = argv[++i];
        } else if (a[0] != '-' && !dir) {
            dir = a;
        } else if (cli_device_option(argc, argv, &i, &dev) < 0) {
            return 2;
        }
    }
    if (!dir) return cli_error("vkgan view needs a run directory (see 'vkgan view --help')") + 1;
    return vkg_view_run(dir, shot, dev.device, dev.validation);
}
