/* vkgan report: argument handling around vkg_report_write (include/vkgan/report.h). */
#include <stdio.h>

#include "cli/commands.h"
#include "vkgan/error.h"
#include "vkgan/report.h"
#include "vkgan/train.h"

typedef struct report_args {
    const char *dir, *out;
} report_args;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define F(field) VKG_OPT_FIELD(report_args, field)
static const vkg_opt report_opts[] = {
    {"run-dir", "RUN_DIR", VKG_OPT_STR, F(dir), 0, 0, NULL, "a run directory of vkgan train", 0,
     NULL, NULL, 1, 1},
    {"out", "FILE", VKG_OPT_STR, F(out), 0, 0, NULL,
     "where to write it, a name ending in .html or .htm (default RUN_DIR/report.html)", 0},
};
#undef F
#pragma GCC diagnostic pop

static const vkg_opt_table report_table = {
    "report",
    "RUN_DIR [--out FILE]",
    "Writes one self-contained HTML file (no external files: images embedded) for a run "
    "directory of vkgan train: the loss, D-output, FCD and class-entropy curves with the "
    "training-health events marked, the events and what triggered them, the sample grids over "
    "time, real examples and the run's options.",
    NULL,
    0,
    report_opts,
    sizeof report_opts / sizeof *report_opts};

int cmd_report(int argc, char **argv) {
    report_args a;
    int code = cli_parse(&report_table, argc, argv, &a);
    if (code >= 0) return code;
    if (a.out && (code = cli_check_output("--out", a.out, a.dir, NULL, CLI_HTML))) return code;
    cli_warn_metrics(a.dir); /* and the report shows what the good lines hold */
    char written[VKG_PATH_MAX + 32];
    int rc = vkg_report_write(a.dir, a.out, written, sizeof written);
    if (rc < 0) return cli_error("%s", vkg_error());
    if (rc > 0) fprintf(stderr, "vkgan: warning: %s\n", vkg_error());
    printf("wrote %s\n", written);
    return 0;
}
