/* vkgan report: a run directory as one self-contained HTML file. */
#ifndef VKGAN_TRAIN_REPORT_H
#define VKGAN_TRAIN_REPORT_H

/* Writes the report of run directory `dir` to `out` (NULL: DIR/report.html), atomically;
 * returns the exit code (errors printed). */
int vkg_report_run(const char *dir, const char *out);

#endif
