/* vkgan report: one self-contained HTML file for a run directory: the loss, D-output, FCD and
 * class-entropy curves as inline SVG, the training-health events, and the sample grids over
 * time embedded as base64 PNG. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/rundir.h"
#include "vkgan/error.h"
#include "vkgan/io.h"
#include "vkgan/report.h"
#include "vkgan/train.h"

enum { S_LOSS_D, S_LOSS_G, S_DX, S_DGZ, S_FCD, S_ENTROPY, S_COUNT };
static const char *keys[S_COUNT] = {"loss_d", "loss_g", "d_x", "d_g_z", "fcd", "class_entropy"};

typedef struct series {
    double *x, *y;
    int n, cap;
} series;

typedef struct event_row {
    unsigned step;
    char name[32], detail[300];
} event_row;

typedef struct run_log {
    series s[S_COUNT];
    event_row *events;
    int nevents, cap;
} run_log;

/* Appends a point; after a rollback (a step not after the last) the abandoned stretch goes. */
static int push(series *s, double x, double y) {
    while (s->n > 0 && s->x[s->n - 1] >= x) s->n--;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, sizeof(double) * (size_t)cap);
        if (nx) s->x = nx;
        double *ny = realloc(s->y, sizeof(double) * (size_t)cap);
        if (ny) s->y = ny;
        if (!nx || !ny) return vkg_set_error("out of host memory");
        s->cap = cap;
    }
    s->x[s->n] = x, s->y[s->n++] = y;
    return 0;
}

static int add_row(const cJSON *row, unsigned step, const char *event, void *user) {
    run_log *log = user;
    if (event) {
        if (log->nevents == log->cap) {
            int cap = log->cap ? 2 * log->cap : 16;
            event_row *grown = realloc(log->events, sizeof *grown * (size_t)cap);
            if (!grown) return vkg_set_error("out of host memory");
            log->events = grown, log->cap = cap;
        }
        event_row *e = &log->events[log->nevents++];
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, "detail");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(row, "to_step");
        e->step = step;
        snprintf(e->name, sizeof e->name, "%s", event);
        if (cJSON_IsString(d))
            snprintf(e->detail, sizeof e->detail, "%s", d->valuestring);
        else if (cJSON_IsNumber(to))
            snprintf(e->detail, sizeof e->detail, "back to step %.0f", to->valuedouble);
        else
            e->detail[0] = 0;
        return 0;
    }
    for (int k = 0; k < S_COUNT; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, keys[k]);
        if (cJSON_IsNumber(v) && push(&log->s[k], step, v->valuedouble) < 0) return -1;
    }
    return 0;
}

static int read_log(const char *dir, run_log *log) {
    return vkg_metrics_read(dir, add_row, log, NULL);
}

/* ---- output helpers ---- */

static void html_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static void base64(FILE *f, const unsigned char *d, size_t n) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        fputc(a[v >> 18 & 63], f);
        fputc(a[v >> 12 & 63], f);
        fputc(i + 1 < n ? a[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? a[v & 63] : '=', f);
    }
}

/* The images the page could not embed: the first one's error and how many there were. */
typedef struct missing {
    int n;
    char first[VKG_PATH_MAX + 160];
} missing;

/* Embeds a PNG; one that cannot be read (removed, a folder in its place) is said so in the page
 * instead and counted in `lost`: the rest of the run is still worth a report. 0, or -1 when the
 * page cannot be written. */
static int embed_png(FILE *f, const char *path, const char *alt, missing *lost) {
    FILE *in = vkg_open_regular(path);
    long size = in && fseek(in, 0, SEEK_END) == 0 ? ftell(in) : -1;
    if (in) fseek(in, 0, SEEK_SET);
    unsigned char *data = size > 0 ? malloc((size_t)size) : NULL;
    int ok = data && fread(data, 1, (size_t)size, in) == (size_t)size;
    if (in) fclose(in);
    if (ok) {
        fputs("<img alt=\"", f);
        html_text(f, alt);
        fputs("\" src=\"data:image/png;base64,", f);
        base64(f, data, (size_t)size);
        fputs("\">", f);
    } else {
        char why[VKG_PATH_MAX + 160];
        if (!in)
            snprintf(why, sizeof why, "%s", vkg_error());
        else
            snprintf(why, sizeof why, "%s: cannot read it", path);
        if (!lost->n++) snprintf(lost->first, sizeof lost->first, "%s", why);
        fputs("<p>(", f);
        html_text(f, why);
        fputs(")</p>", f);
    }
    free(data);
    return 0;
}

static double nice(double range, int target) {
    double raw = range / target, p = pow(10, floor(log10(raw)));
    return raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
}

/* An SVG line chart of up to two series, with the events as red vertical lines. */
static void chart(FILE *f, const char *title, const run_log *log, const int *which,
                  const char *const *names, const char *const *colors, int count) {
    const double W = 560, H = 240, L = 56, R = 12, T = 28, B = 30;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < count; k++)
        for (int i = 0; i < log->s[which[k]].n; i++) {
            double x = log->s[which[k]].x[i], y = log->s[which[k]].y[i];
            if (!isfinite(y)) continue;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    /* presentation attributes, no CSS: the element is also a standalone SVG file */
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
            "width=\"%.0f\" height=\"%.0f\"><rect width=\"%.0f\" height=\"%.0f\" "
            "fill=\"#1c2029\"/>\n",
            W, H, W, H, W, H);
    fprintf(
        f,
        "<text x=\"%.0f\" y=\"18\" fill=\"#d8dce4\" font-size=\"13\" font-family=\"sans-serif\">",
        L);
    html_text(f, title);
    fputs("</text>\n", f);
    for (int k = 0; k < count; k++) /* the legend, right-aligned */
        fprintf(f,
                "<rect x=\"%.0f\" y=\"10\" width=\"14\" height=\"4\" fill=\"%s\"/><text "
                "x=\"%.0f\" y=\"18\" fill=\"#d8dce4\" font-size=\"12\" "
                "font-family=\"sans-serif\">%s</text>\n",
                W - R - 120.0 * (count - k), colors[k], W - R - 120.0 * (count - k) + 18, names[k]);
    if (!(x1 >= x0 && y1 >= y0)) {
        fprintf(f,
                "<text x=\"%.0f\" y=\"%.0f\" fill=\"#d8dce4\" font-size=\"12\" "
                "font-family=\"sans-serif\">no values</text></svg>\n",
                L + 10, T + 30);
        return;
    }
    if (x1 == x0) x1 = x0 + 1;
    double pad = (y1 - y0) * 0.05 + (y1 == y0 ? 0.5 : 0);
    y0 -= pad, y1 += pad;
#define PX(x) (L + ((x)-x0) / (x1 - x0) * (W - L - R))
#define PY(y) (H - B - ((y)-y0) / (y1 - y0) * (H - T - B))
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#5c6577\"/>\n",
            L, T, W - L - R, H - T - B);
    double dy = nice(y1 - y0, 4), dx = nice(x1 - x0, 5);
    /* at most a dozen ticks: where the range is a few ulps (1e300 +- 1), y += dy may not move */
    int ticks = 0;
    for (double y = ceil(y0 / dy) * dy; y <= y1 && ticks++ < 12; y += dy)
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#2c3240\"/><text "
                "x=\"%.1f\" y=\"%.1f\" fill=\"#8a93a6\" font-size=\"10\" "
                "font-family=\"sans-serif\" text-anchor=\"end\">%.4g</text>\n",
                L, W - R, PY(y), PY(y), L - 4, PY(y) + 4, fabs(y) < dy * 1e-6 ? 0 : y);
    ticks = 0;
    for (double x = ceil(x0 / dx) * dx; x <= x1 && ticks++ < 12; x += dx)
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" fill=\"#8a93a6\" font-size=\"10\" "
                "font-family=\"sans-serif\" text-anchor=\"middle\">%.0f</text>\n",
                PX(x), H - B + 16, x);
    for (int i = 0; i < log->nevents; i++) { /* red lines, named at the top */
        const event_row *e = &log->events[i];
        if (e->step < x0 || e->step > x1) continue;
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#e04848\" "
                "stroke-width=\"1.5\"><title>%s at step %u</title></line><text x=\"%.1f\" "
                "y=\"%.0f\" fill=\"#e06868\" font-size=\"10\" font-family=\"sans-serif\">%s"
                "</text>\n",
                PX(e->step), PX(e->step), T, H - B, e->name, e->step, PX(e->step) + 3,
                T + 12 + (i % 3) * 11, e->name);
    }
    for (int k = 0; k < count; k++) {
        const series *s = &log->s[which[k]];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                colors[k]);
        for (int i = 0; i < s->n; i++)
            if (isfinite(s->y[i])) fprintf(f, "%.1f,%.1f ", PX(s->x[i]), PY(s->y[i]));
        fputs("\"/>\n", f);
    }
#undef PX
#undef PY
    fputs("</svg>\n", f);
}

/* ---- the sample grids ---- */

static int grids(FILE *f, const char *dir, missing *lost) {
    int n;
    unsigned *steps = rundir_steps(dir, "samples", "png", &n);
    if (n < 0) n = 0; /* no samples folder: no grids */
    int shown = n < 12 ? n : 12, r = 0;
    fputs("<div class=\"grids\">\n", f);
    for (int i = 0; r == 0 && i < shown; i++) { /* evenly spaced, the first and the last */
        unsigned step = steps[shown > 1 ? (int)((long)i * (n - 1) / (shown - 1)) : 0];
        char path[VKG_PATH_MAX + 64], alt[48];
        rundir_sample_path(dir, step, path, sizeof path);
        snprintf(alt, sizeof alt, "samples at step %u", step);
        fprintf(f, "<figure>");
        r = embed_png(f, path, alt, lost);
        fprintf(f, "<figcaption>step %u</figcaption></figure>\n", step);
    }
    fputs("</div>\n", f);
    free(steps);
    return r;
}

/* ---- the page ---- */

static const char *style =
    "body{font-family:sans-serif;background:#14171e;color:#d8dce4;margin:24px;max-width:1200px}"
    "h1,h2{font-weight:600}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:"
    "1px solid #2c3240;text-align:left;vertical-align:top}.chart{margin:4px}.grids{display:flex;"
    "flex-wrap:wrap;gap:8px}figure{margin:0}img{image-rendering:pixelated;width:232px}"
    "figcaption{color:#8a93a6;font-size:12px}.note{color:#8a93a6}";

static double last_value(const series *s) {
    return s->n ? s->y[s->n - 1] : NAN;
}

static int page(FILE *f, const char *dir, const run_log *log, const cJSON *config, missing *lost) {
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(config, "options");
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(config, "device");
    const cJSON *dev_name = cJSON_GetObjectItemCaseSensitive(dev, "name");
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>vkgan report: ");
    html_text(f, dir);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>vkgan run ", style);
    html_text(f, dir);
    fputs("</h1>\n<p>", f);
    if (cJSON_IsString(dev_name)) {
        fputs("Trained on ", f);
        html_text(f, dev_name->valuestring);
        fputs(". ", f);
    }
    const series *fcd = &log->s[S_FCD];
    if (log->s[S_LOSS_D].n)
        fprintf(f, "Last logged step %.0f: loss D %.4g, G %.4g, D(x) %.3f, D(G(z)) %.3f. ",
                log->s[S_LOSS_D].x[log->s[S_LOSS_D].n - 1], last_value(&log->s[S_LOSS_D]),
                last_value(&log->s[S_LOSS_G]), last_value(&log->s[S_DX]),
                last_value(&log->s[S_DGZ]));
    if (fcd->n) {
        int best = 0;
        for (int i = 1; i < fcd->n; i++)
            if (fcd->y[i] < fcd->y[best]) best = i;
        fprintf(f, "FCD %.3f at the last check (step %.0f), best %.3f at step %.0f. ",
                last_value(fcd), fcd->x[fcd->n - 1], fcd->y[best], fcd->x[best]);
    }
    fprintf(f, "%d training-health event%s.</p>\n", log->nevents, log->nevents == 1 ? "" : "s");
    fputs("<p class=\"note\">FCD is the Fr&eacute;chet distance between the features of vkgan's "
          "own classifier for generated and real test images: lower is better. It is not Inception "
          "FID and is comparable only between vkgan runs scored with the same classifier.</p>\n",
          f);
    fputs("<h2>Curves</h2>\n", f);
    const char *orange = "#ef8a3c", *blue = "#4aa3f0", *green = "#5fd068", *red = "#e4575f",
               *violet = "#c58af0";
    chart(f, "losses", log, (int[]){S_LOSS_D, S_LOSS_G}, (const char *[]){"loss_d", "loss_g"},
          (const char *[]){orange, blue}, 2);
    chart(f, "D outputs", log, (int[]){S_DX, S_DGZ}, (const char *[]){"D(x)", "D(G(z))"},
          (const char *[]){green, red}, 2);
    chart(f, "FCD (lower is better)", log, (int[]){S_FCD}, (const char *[]){"FCD"},
          (const char *[]){violet}, 1);
    chart(f, "class entropy of the samples", log, (int[]){S_ENTROPY}, (const char *[]){"nats"},
          (const char *[]){blue}, 1);
    fputs("<h2>Training-health events</h2>\n", f);
    if (!log->nevents)
        fputs("<p>None.</p>\n", f);
    else
        fputs("<table><tr><th>step</th><th>event</th><th>what triggered it</th></tr>\n", f);
    for (int i = 0; i < log->nevents; i++) {
        fprintf(f, "<tr><td>%u</td><td>", log->events[i].step);
        html_text(f, log->events[i].name);
        fputs("</td><td>", f);
        html_text(f, log->events[i].detail);
        fputs("</td></tr>\n", f);
    }
    if (log->nevents) fputs("</table>\n", f);
    fputs("<h2>Samples over time (the fixed latent batch)</h2>\n", f);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(config, "data");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(data, "class_names");
    const cJSON *conditional = cJSON_GetObjectItemCaseSensitive(opts, "conditional");
    if (cJSON_IsNumber(conditional) && conditional->valuedouble != 0 && cJSON_IsArray(names)) {
        fputs("<p>One row per class, from the top: ",
              f); /* the grids' layout (vkg_write_png_class_grid) */
        int i = 0;
        for (const cJSON *n = names->child; n; n = n->next, i++)
            if (cJSON_IsString(n)) {
                fprintf(f, "%s%d ", i ? ", " : "", i);
                html_text(f, n->valuestring);
            }
        fputs(".</p>\n", f);
    }
    if (grids(f, dir, lost) < 0) return -1;
    char reals[VKG_PATH_MAX + 32];
    snprintf(reals, sizeof reals, "%s/reals.png", dir);
    fputs("<h2>Real data</h2>\n<div class=\"grids\"><figure>", f);
    if (embed_png(f, reals, "real examples", lost) < 0) return -1;
    fputs("</figure></div>\n<h2>Options</h2>\n<table>\n", f);
    for (const cJSON *o = cJSON_IsObject(opts) ? opts->child : NULL; o; o = o->next) {
        if (!o->string) continue;
        fputs("<tr><td>--", f);
        html_text(f, o->string);
        fputs("</td><td>", f);
        char num[64];
        if (cJSON_IsString(o))
            html_text(f, o->valuestring);
        else if (cJSON_IsNumber(o))
            snprintf(num, sizeof num, "%.9g", o->valuedouble), html_text(f, num);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</body></html>\n", f);
    return 0;
}

int vkg_report_write(const char *dir, const char *out, char *written, size_t size) {
    char path[VKG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.html", dir);
    if (!out) out = path;
    run_log log = {0};
    cJSON *config = vkg_rundir_read_config(dir);
    char *text = NULL;
    size_t length = 0;
    FILE *f = NULL;
    int r = config ? read_log(dir, &log) : -1;
    if (r == 0 && !(f = open_memstream(&text, &length))) r = vkg_set_error("out of host memory");
    missing lost = {0};
    if (r == 0) r = page(f, dir, &log, config, &lost);
    if (f) fclose(f);
    if (r == 0) {
        const void *parts[1] = {text};
        r = vkg_write_file_atomic(out, parts, &length, 1);
    }
    free(text);
    for (int k = 0; k < S_COUNT; k++) free(log.s[k].x), free(log.s[k].y);
    free(log.events);
    cJSON_Delete(config);
    if (r == 0 && written && size) snprintf(written, size, "%s", out);
    if (r == 0 && lost.n) {
        char more[48] = "";
        if (lost.n > 1)
            snprintf(more, sizeof more, " (and %d more image%s)", lost.n - 1,
                     lost.n > 2 ? "s" : "");
        vkg_set_error("%s%s: the report is written without %s", lost.first, more,
                      lost.n > 1 ? "them" : "it");
        return 1;
    }
    return r < 0 ? -1 : 0;
}
