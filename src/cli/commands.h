/* The subcommands of the vkgan binary; each returns the process exit code. */
#ifndef VKGAN_CLI_COMMANDS_H
#define VKGAN_CLI_COMMANDS_H

#include "vkgan/gpu.h"

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
/* Parses --device and --validation (shared by the subcommands that use a device); 0 or -1. */
int cli_device_option(int argc, char **argv, int *i, vkg_ctx_options *opts);
/* Parses a positive integer option value; 0 or -1 with an error printed. */
int cli_positive_int(const char *option, const char *value, int *out);

#endif
