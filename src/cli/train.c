/* vkgan train, vkgan sample and vkgan view: argument handling around src/train. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "dist/dist.h"
#include "train/dist_run.h"
#include "vkgan/error.h"
#include "vkgan/train.h"

int cmd_train(int argc, char **argv) {
    vkg_train_options o;
    int r = vkg_train_parse(argc, argv, &o);
    if (r > 0) vkg_train_help(stdout);
    if (r < 0) cli_error("%s", vkg_error());
    if (r != 0) return r > 0 ? 0 : 2;
    if (dist_init() < 0) return cli_error("%s", vkg_error()), 1; /* under mpirun: join the ranks */
    return dist_run_end(vkg_train_run(&o));
}

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
    {"n", "N", VKG_OPT_INT, F(n), 1, 4096, "64", "number of samples", 0},
    {"out", "FILE", VKG_OPT_STR, F(out), 0, 0, "samples.png", "the PNG to write", 0},
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
#define F(field) VKG_OPT_FIELD(view_args, field)
typedef struct view_args {
    const char *dir, *screenshot, *device;
    int validation;
} view_args;
static const vkg_opt view_opts[] = {
    {"run-dir", "RUN_DIR", VKG_OPT_STR, F(dir), 0, 0, NULL,
     "a run directory of vkgan train (finished, or still running headless)", 0, NULL, NULL, 1, 1},
    {"screenshot", "PNG", VKG_OPT_STR, F(screenshot), 0, 0, NULL,
     "draw one frame, write it as a PNG and close", 0},
    CLI_DEVICE_OPTIONS(view_args),
};
#undef F
#pragma GCC diagnostic pop

static const vkg_opt_table sample_table = {
    "sample",
    "--checkpoint PATH [options]",
    "Generates N samples from a checkpoint of vkgan train (with G's EMA weights when the run kept "
    "them) and writes them as one PNG grid (a scatter plot for 2D data).",
    NULL,
    0,
    sample_opts,
    sizeof sample_opts / sizeof *sample_opts};

static const vkg_opt_table view_table = {
    "view",
    "RUN_DIR [options]",
    "Opens a run directory of vkgan train in the window: the graphs from its metrics (re-read as "
    "they grow), G on the fixed latent batch of its newest checkpoint, its saved grids one by one "
    "(slider; Left / Right / Home / End), and an animated walk through latent space (W). H in "
    "the window lists the keys.",
    NULL,
    0,
    view_opts,
    sizeof view_opts / sizeof *view_opts};

int cmd_sample(int argc, char **argv) {
    sample_args a;
    int code = cli_parse(&sample_table, argc, argv, &a);
    if (code >= 0) return code;
    if (vkg_sample_write(a.checkpoint, a.n, a.out, a.raw, (unsigned)a.seed, a.cls, a.device,
                         a.validation) < 0)
        return cli_error("%s", vkg_error());
    printf("wrote %d samples to %s\n", a.n, a.out);
    if (a.raw && a.raw[0]) printf("wrote G's raw output and z to %s\n", a.raw);
    return 0;
}

int cmd_view(int argc, char **argv) {
    view_args a;
    int code = cli_parse(&view_table, argc, argv, &a);
    if (code >= 0) return code;
    return vkg_view_run(a.dir, a.screenshot, a.device, a.validation);
}
