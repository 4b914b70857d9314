/* vkgan sample: argument handling and printing around vkg_sample_write (include/vkgan/train.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "vkgan/error.h"
#include "vkgan/rundir.h"
#include "vkgan/train.h"

/* --class: a name (looked up in the checkpoint) or an index, which must be a class number */
static int class_spec(const char *value) {
    char *end;
    long v = strtol(value, &end, 10);
    if (*value && !*end && (v < 0 || v > 1023))
        return vkg_set_error("--class %s: a class index is 0 to 1023 (or give the class's name)",
                             value);
    return 0;
}

typedef struct sample_args {
    const char *checkpoint, *out, *raw, *device;
    const char *cls;
    int n, seed, validation;
} sample_args;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(sample_args, field)
static const vkg_opt sample_opts[] = {
    {"checkpoint", "PATH", VKG_OPT_STR, F(checkpoint), 0, 0, NULL,
     "a .safetensors file from RUN/checkpoints/", 0, NULL, NULL, 0, 1},
    {"n", "N", VKG_OPT_INT, F(n), 1, 4096, "64",
     "number of samples; of a conditional model without --class, one row per class (sample i of "
     "class i % classes), the last column partial when N is not a multiple of the classes",
     0},
    {"out", "FILE", VKG_OPT_STR, F(out), 0, 0, "samples.png",
     "the image to write: PNG, JPEG, BMP or TGA, as its extension says (.png, .jpg or .jpeg, "
     ".bmp, .tga)",
     0},
    {"raw", "FILE", VKG_OPT_STR, F(raw), 0, 0, "",
     "also write G's float output and the z it came from (whole batches) to this .safetensors "
     "file (tools/vkgan_to_torch.py --check compares PyTorch with it)",
     0},
    {"seed", "S", VKG_OPT_INT, F(seed), 0, 2147483647, "1", "seed of z", 0},
    {"class", "C", VKG_OPT_STR, F(cls), 0, 0, NULL,
     "conditional models: every sample of class C, its name as the data names it (a folder's "
     "name, 'Sneaker') or its index (default: one row per class)",
     0, NULL, NULL, 0, 0, class_spec},
    CLI_DEVICE_OPTIONS(sample_args),
};
#undef F
#pragma GCC diagnostic pop

static const vkg_opt_table sample_table = {
    "sample",
    "--checkpoint PATH [options]",
    "Generates N samples from a checkpoint of vkgan train (with G's EMA weights when the run kept "
    "them) and writes them as one image grid (a scatter plot for 2D data).",
    NULL,
    0,
    sample_opts,
    sizeof sample_opts / sizeof *sample_opts};

int cmd_sample(int argc, char **argv) {
    sample_args a;
    int code = cli_parse(&sample_table, argc, argv, &a);
    if (code >= 0) return code;
    if (a.raw && a.raw[0] && cli_same_file(a.raw, a.out)) {
        cli_error("--out and --raw name the same file (%s): one would replace the other", a.out);
        return 2;
    }
    char run[VKG_PATH_MAX]; /* the checkpoint's run, whose files are not outputs */
    int in_run = vkg_rundir_of_checkpoint(a.checkpoint, run, sizeof run);
    if ((code = cli_check_output("--out", a.out, in_run ? run : NULL, a.checkpoint, CLI_IMAGE)) ||
        (a.raw && a.raw[0] &&
         (code = cli_check_output("--raw", a.raw, in_run ? run : NULL, a.checkpoint,
                                  CLI_SAFETENSORS))))
        return code;
    if (vkg_sample_write(a.checkpoint, a.n, a.out, a.raw, (unsigned)a.seed, a.cls, a.device,
                         a.validation) < 0)
        return cli_error("%s", vkg_error());
    printf("wrote %d sample%s to %s\n", a.n, a.n == 1 ? "" : "s", a.out);
    if (a.raw && a.raw[0]) printf("wrote G's raw output and z to %s\n", a.raw);
    return 0;
}
