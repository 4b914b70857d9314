/* The subcommands of the vkgan binary; each returns the process exit code. */
#ifndef VKGAN_CLI_COMMANDS_H
#define VKGAN_CLI_COMMANDS_H

#include "vkgan/gpu.h"
#include "vkgan/opt.h"

int cmd_devices(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);
int cmd_bench_kernels(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_view(int argc, char **argv);
int cmd_train_classifier(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Prints "vkgan: error: <message>" on stderr and returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether the file an option names can be written (vkg_check_writable), checked before the long
 * work that ends in writing it: 0, or 1 after printing "--option: why". */
int cli_check_writable(const char *option, const char *path);
/* What an output option writes, which its name's extension must say: anything (CLI_ANY), an
 * image in the format its extension names (CLI_IMAGE: vkg_image_path_check), a safetensors file
 * (CLI_SAFETENSORS: .safetensors), an HTML page (CLI_HTML: .html or .htm); any case. */
enum { CLI_ANY, CLI_IMAGE, CLI_SAFETENSORS, CLI_HTML };
/* The checks of an output option before the work it ends: 2 after printing one line when it
 * names a file of the run directory `run` (a run the command reads; NULL: none) or of any other
 * run directory it is in (vkg_rundir_owns_any), or the file `input` (NULL: none) that the command
 * reads, however either is written (vkg_rundir_owns, cli_same_file), or when its name's extension
 * does not say what it is (`kind`, above); else cli_check_writable's 1 or 0. */
int cli_check_output(const char *option, const char *path, const char *run, const char *input,
                     int kind);
/* Whether writing a and b would replace one file (vkg_write_target): ./a.png and dir/../a.png, a
 * link and the file it names. An input's path as b: whether writing a would replace it. */
int cli_same_file(const char *a, const char *b);
/* One warning line on stderr when DIR/metrics.jsonl holds lines that are not metrics records
 * (vkg_metrics_skipped: a torn last line is expected and not one), naming the first; nothing
 * otherwise, nor when the file cannot be read (the command says so, or does without it). */
void cli_warn_metrics(const char *dir);
/* Parses a command's options from its table (include/vkgan/opt.h): -1 to go on; otherwise the
 * exit code to return: 0 after --help (printed), 2 after a usage error (printed as one line). A
 * --device (CLI_DEVICE_OPTIONS) that names no device is a usage error (cli_check_device). */
int cli_parse(const vkg_opt_table *t, int argc, char **argv, void *options);
/* cli_parse, marking in given (t->count entries) the options the command line named. */
int cli_parse_given(const vkg_opt_table *t, int argc, char **argv, void *options,
                    unsigned char *given);
/* Whether a --device given (NULL or "": none) names a device, before any device work: 0, or the
 * exit code after printing one line: 2 when it names none (the line says which devices there
 * are), 1 when the devices cannot be listed. */
int cli_check_device(const char *device);
/* The device options of a command: its struct has `const char *device` and `int validation`. */
#define CLI_DEVICE_OPTIONS(T)                                                                      \
    {.name = "device",                                                                             \
     .arg = "D",                                                                                   \
     .kind = VKG_OPT_STR,                                                                          \
     .offset = offsetof(T, device),                                                                \
     .size = sizeof(((T *)0)->device),                                                             \
     .help = "device index or part of its name (see 'vkgan devices')"},                            \
    {                                                                                              \
        .name = "validation", .kind = VKG_OPT_FLAG, .offset = offsetof(T, validation),             \
        .size = sizeof(((T *)0)->validation), .max = 1, .def = "0",                                \
        .help = "Vulkan validation layer on, with synchronization checks (as VKGAN_VALIDATION=1)"  \
    }
/* The options of a command that takes only the device options (devices, selfcheck). */
typedef struct cli_device_args {
    const char *device;
    int validation;
} cli_device_args;
extern const vkg_opt cli_device_opts[2];

/* The context options of a command's --device and --validation (off: VKGAN_VALIDATION decides). */
vkg_ctx_options cli_ctx_options(const char *device, int validation);

#endif
