/* vkgan report: a run directory of vkgan train as one self-contained HTML file (the curves as
 * inline SVG, the training-health events, the sample grids and real examples embedded as base64
 * PNG, the run's options). */
#ifndef VKGAN_REPORT_H
#define VKGAN_REPORT_H

#include <stddef.h>

/* Writes the report of run directory `dir` to `out` (NULL: DIR/report.html), atomically; the
 * path written goes to written (size bytes, may be NULL). 0; 1 when it was written but some
 * image of the run (reals.png, a sample grid) could not be read, said so in the page and in
 * vkg_error() (the first one named, and how many more); or -1 with vkg_error() (nothing
 * printed). */
int vkg_report_write(const char *dir, const char *out, char *written, size_t size);

#endif
