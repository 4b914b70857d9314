/* vkgan: a DCGAN trainer whose every kernel is a Vulkan compute shader. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/rundir.h"

static const char *usage =
    "usage: vkgan <command> [options]\n"
    "\n"
    "commands:\n"
    "  train            train a GAN (DCGAN recipe, stabilisation options, exact resume)\n"
    "  sample           generate a grid of samples from a checkpoint\n"
    "  view             open a run directory in the window: graphs, grids, latent walk\n"
    "  train-classifier train the classifier whose features give FCD (a quality metric)\n"
    "  score            FCD, class entropy, diversity of a checkpoint or of images\n"
    "  report           write a run's self-contained HTML report (curves, events, grids)\n"
    "  devices          list the Vulkan devices vkgan can use and their capabilities\n"
    "  selfcheck        run every kernel on small shapes against the plain-C reference\n"
    "  bench-kernels    time every kernel at DCGAN shapes (GFLOP/s, fraction of fp32 peak)\n"
    "\n"
    "options:\n"
    "  -h, --help       help for vkgan, or for a command: vkgan COMMAND --help\n"
    "  --version        print the version\n"
    "\n"
    "environment:\n"
    "  VKGAN_VALIDATION=1  enable the Khronos validation layer with synchronization checks\n"
    "  VK_DRIVER_FILES     Vulkan loader: restrict the drivers (e.g. to lavapipe)\n";

int cli_error(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("vkgan: error: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    return 1;
}

int cli_check_device(const char *device) {
    int r = vkg_device_check(device);
    if (r == 0) return 0;
    cli_error("%s", vkg_error());
    return r > 0 ? 2 : 1;
}

int cli_parse(const vkg_opt_table *t, int argc, char **argv, void *options) {
    return cli_parse_given(t, argc, argv, options, NULL);
}

int cli_parse_given(const vkg_opt_table *t, int argc, char **argv, void *options,
                    unsigned char *given) {
    int r = vkg_opt_parse(t, argc, argv, options, given);
    if (r > 0) vkg_opt_help(t, stdout);
    if (r < 0) cli_error("%s", vkg_error());
    if (r != 0) return r > 0 ? 0 : 2;
    const vkg_opt *device = vkg_opt_find(t, "device"); /* CLI_DEVICE_OPTIONS */
    if (device && device->kind == VKG_OPT_STR) {
        int code = cli_check_device(*(const char **)((char *)options + device->offset));
        if (code) return code;
    }
    return -1;
}

int cli_check_writable(const char *option, const char *path) {
    return vkg_check_writable(path) < 0 ? cli_error("%s: %s", option, vkg_error()) : 0;
}

int cli_same_file(const char *a, const char *b) {
    char ta[VKG_PATH_MAX + 128], tb[VKG_PATH_MAX + 128];
    return vkg_write_target(a, ta, sizeof ta) == 0 && vkg_write_target(b, tb, sizeof tb) == 0 &&
           strcmp(ta, tb) == 0;
}

int cli_check_output(const char *option, const char *path, const char *run, const char *input,
                     int kind) {
    if (input && cli_same_file(path, input))
        return cli_error("%s %s: that is %s, which this command reads: choose another file", option,
                         path, input) +
               1;
    if ((run && vkg_rundir_owns(run, path)) || vkg_rundir_owns_any(path))
        return cli_error("%s %s: %s", option, path, vkg_error()) + 1;
    if (kind == CLI_IMAGE && vkg_image_path_check(path) < 0)
        return cli_error("%s %s", option, vkg_error()) + 1;
    if (kind == CLI_SAFETENSORS && !vkg_path_has_extension(path, "safetensors"))
        return cli_error("%s %s: the file written is a safetensors file: its name must end in "
                         ".safetensors",
                         option, path) +
               1;
    if (kind == CLI_HTML && !vkg_path_has_extension(path, "html") &&
        !vkg_path_has_extension(path, "htm"))
        return cli_error("%s %s: the file written is an HTML page: its name must end in .html (or "
                         ".htm)",
                         option, path) +
               1;
    return cli_check_writable(option, path);
}

static int ignore_row(const struct cJSON *row, unsigned step, const char *event, void *user) {
    (void)row, (void)step, (void)event, (void)user;
    return 0;
}

void cli_warn_metrics(const char *dir) {
    vkg_metrics_skipped skipped;
    if (vkg_metrics_read(dir, ignore_row, NULL, &skipped) != 0 || skipped.lines == 0) return;
    fprintf(stderr,
            "vkgan: warning: %s/metrics.jsonl: line %lu is not a metrics record (a JSON object "
            "with a whole-number \"step\"): skipped",
            dir, skipped.first);
    if (skipped.lines > 1)
        fprintf(stderr, ", with %d more such line%s", skipped.lines - 1,
                skipped.lines > 2 ? "s" : "");
    fputc('\n', stderr);
}

const vkg_opt cli_device_opts[2] = {CLI_DEVICE_OPTIONS(cli_device_args)};

vkg_ctx_options cli_ctx_options(const char *device, int validation) {
    return (vkg_ctx_options){.device = device, .validation = validation ? 1 : -1};
}

static const struct {
    const char *name;
    int (*run)(int, char **);
} commands[] = {{"devices", cmd_devices},
                {"selfcheck", cmd_selfcheck},
                {"bench-kernels", cmd_bench_kernels},
                {"train", cmd_train},
                {"sample", cmd_sample},
                {"view", cmd_view},
                {"train-classifier", cmd_train_classifier},
                {"score", cmd_score},
                {"report", cmd_report}};
enum { COMMANDS = sizeof commands / sizeof commands[0] };

static int is_command(const char *name) {
    for (size_t i = 0; i < COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0) return 1;
    return 0;
}

/* vkgan -h, --help and --version: flags, alone as every flag is (a command's parser refuses
 * --help=1 the same way); 0 after printing, 2 after a usage error, -1 for another argument. */
static int own_options(int argc, char **argv) {
    const char *a = argv[1];
    size_t name = strcspn(a, "=");
    int help =
        (name == 2 && strncmp(a, "-h", 2) == 0) || (name == 6 && strncmp(a, "--help", 6) == 0);
    int version = name == 9 && strncmp(a, "--version", 9) == 0;
    if (!help && !version) return -1;
    if (a[name]) return cli_error("%.*s takes no value (give it alone)", (int)name, a) + 1;
    if (argc > 2 && help && is_command(argv[2]))
        return cli_error("unexpected argument '%s' after %s: a command's help is 'vkgan %s --help'",
                         argv[2], a, argv[2]) +
               1;
    if (argc > 2)
        return cli_error("unexpected argument '%s' after %s (see 'vkgan --help')", argv[2], a) + 1;
    if (help)
        fputs(usage, stdout);
    else
        printf("vkgan %s\n", VKGAN_VERSION);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* results appear as they are measured, even in a pipe */
    vkg_set_program(argv[0]);
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    int code = own_options(argc, argv);
    if (code >= 0) return code;
    for (size_t i = 0; i < COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    return cli_error("unknown command '%s' (see 'vkgan --help')", argv[1]) + 1;
}
