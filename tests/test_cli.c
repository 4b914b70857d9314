/* The vkgan binary's errors: one line naming the problem, exit code 1 (2 for usage), no crash.
 * Runs the vkgan built next to this test binary. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>

#include "check.h"
#include "vkgan/data.h"

static int lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

TEST(cli_no_vulkan_driver_is_one_clear_line) {
    char err[4096];
    int code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", "devices", err, sizeof err);
    CHECK(code == 1, "exit code %d", code);
    CHECK(strstr(err, "no Vulkan device found") && lines(err) == 1, "stderr: %s", err);
    code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", "selfcheck", err, sizeof err);
    CHECK(code == 1 && strstr(err, "no Vulkan device found"), "%d: %s", code, err);
}

TEST(cli_bad_options_are_named) {
    char err[4096];
    int code;
    /* usage errors: exit code 2, for every command, before any device work */
    static const char *usage_errors[][2] = {
        {"bench-kernels --batch -3", "--batch"},
        {"bench-kernels --model 48", "--model 48"},
        {"bench-kernels --model 99", "--model 99"},
        {"sample --checkpoint x --n 0", "--n"},
        {"sample --checkpoint x --class 5000", "--class"},
        {"sample --out x.png", "--checkpoint"},
        {"score --samples 1 --images x", "--samples"},
        {"score --samples 64 --images x", "--samples 64: "},
        {"score --images x --seed 3", "--seed 3: "},
        {"score", "--checkpoint"},
        {"train-classifier --out x --data cifar10:y", "cifar10:y"},
        {"train-classifier --out x --lr 2", "--lr"},
        {"train-classifier --out x.png", "--out x.png: the file written is a safetensors file"},
        {"sample --checkpoint x --raw x.png", "--raw x.png: the file written is a safetensors"},
        {"report x --out x.json", "--out x.json: the file written is an HTML page"},
        {"view", "RUN_DIR"},
        {"view a b", "'b'"},
        {"report --out x.html", "RUN_DIR"},
        {"selfcheck --frobnicate", "--frobnicate"},
        {"devices --frobnicate", "--frobnicate"},
        {"train --data pictures", "pictures"},
        {"train --on-failure panic", "panic"},
        {"train --image-size 30", "--image-size 30"},
        {"train --batch 0x10", "0x10"},
        {"train --steps 1e3", "1e3"},
        {"train --batch 16.0", "16.0"},
        {"train --resume ''", "--resume"},
        {"sample --checkpoint '' --out x.png", "--checkpoint"},
        {"train --classifier ''", "--classifier"},
        {"train --out ''", "--out"},
        {"report ''", "RUN"},
    };
    for (size_t i = 0; i < sizeof usage_errors / sizeof *usage_errors; i++) {
        code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", usage_errors[i][0], err,
                              sizeof err);
        CHECK(code == 2 && strstr(err, usage_errors[i][1]) && lines(err) == 1, "%s: %d: %s",
              usage_errors[i][0], code, err);
    }
    /* --resume of something that is no run directory: what it is instead, on one line */
    char args[4600];
    test_write(test_tmpdir(), "step-000000010.safetensors", "x", 1);
    static const char *resumed[][2] = {{"/nonexistent/run", "no such run directory"},
                                       {"/step-000000010.safetensors", "takes the run directory"}};
    for (size_t i = 0; i < sizeof resumed / sizeof *resumed; i++) {
        snprintf(args, sizeof args, "train --resume %s%s", i ? test_tmpdir() : "", resumed[i][0]);
        code = test_run_vkgan("", args, err, sizeof err);
        CHECK(code == 1 && strstr(err, resumed[i][1]) && lines(err) == 1, "%s: %d: %s", args, code,
              err);
    }
    /* --validation is an option of every command that opens a device */
    static const char *validated[] = {"devices --validation", "selfcheck --help --validation"};
    for (size_t i = 0; i < sizeof validated / sizeof *validated; i++) {
        code = test_run_vkgan("", validated[i], err, sizeof err);
        CHECK(code == 0, "%s: %d: %s", validated[i], code, err);
    }
    code = test_run_vkgan("", "frobnicate", err, sizeof err);
    CHECK(code == 2 && strstr(err, "frobnicate") && lines(err) == 1, "%d: %s", code, err);
    code = test_run_vkgan("", "devices --help", err, sizeof err);
    CHECK(code == 0, "devices --help exits %d", code);
}

/* A --device that names no device (an index past the last, a name no device has) is a usage
 * error of every command that takes it: exit code 2, one line that says which devices there are,
 * before any other work (nothing written, nothing printed before it). */
TEST(cli_device_naming_none_is_a_usage_error) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    static const char *commands[] = {
        "devices",
        "selfcheck",
        "bench-kernels --model 28",
        "train --data ring8 --steps 1 --out %s/run",
        "train --resume %s/run",
        "sample --checkpoint %s/none.safetensors --out %s/s.png",
        "score --images %s",
        "train-classifier --epochs 1 --out %s/c.safetensors",
        "view %s",
    };
    static const char *devices[] = {"99", "no-such-gpu"};
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        for (size_t k = 0; k < sizeof devices / sizeof *devices; k++) {
            int n = snprintf(args, sizeof args, commands[i], dir, dir);
            snprintf(args + n, sizeof args - (size_t)n, " --device %s", devices[k]);
            int code = test_run_vkgan_output("", args, err, sizeof err);
            char named[64];
            snprintf(named, sizeof named, "--device %s: no ", devices[k]);
            CHECK(code == 2 && strstr(err, named) && strstr(err, "[0] ") &&
                      strstr(err, "see 'vkgan devices'") && lines(err) == 1,
                  "%s: %d: %s", args, code, err);
        }
    static const char *unwritten[] = {"run", "s.png", "c.safetensors"};
    for (size_t i = 0; i < sizeof unwritten / sizeof *unwritten; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, unwritten[i]);
        CHECK(access(path, F_OK) != 0, "a refused command wrote %s", path);
    }
}

/* vkgan train and sample: each bad input is one line naming what is wrong, and nothing is left
 * half-written. */
TEST(cli_train_bad_inputs) {
    char err[4096], args[8192];
    const char *dir = test_tmpdir();
    int code = test_run_vkgan("", "train --batch -3", err, sizeof err);
    CHECK(code == 2 && strstr(err, "--batch") && lines(err) == 1, "%d: %s", code, err);
    code = test_run_vkgan("", "train --lr fast", err, sizeof err);
    CHECK(code == 2 && strstr(err, "--lr") && strstr(err, "fast") && lines(err) == 1, "%d: %s",
          code, err);
    code = test_run_vkgan("", "train --frobnicate", err, sizeof err);
    CHECK(code == 2 && strstr(err, "--frobnicate") && lines(err) == 1, "%d: %s", code, err);
    snprintf(args, sizeof args, "train --quiet --data mnist:%s/nowhere --out %s/a", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "nowhere") && lines(err) == 1, "%d: %s", code, err);
    /* the data is read before any device work: no device is needed to hear it is missing */
    snprintf(args, sizeof args, "train --quiet --data mnist:%s/nowhere --out %s/a", dir, dir);
    code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "nowhere") && lines(err) == 1, "no device: %d: %s", code, err);

    char busy[4200];
    snprintf(busy, sizeof busy, "%s/busy", dir);
    CHECK(mkdir(busy, 0777) == 0, "cannot create %s", busy);
    test_write(dir, "busy/file.txt", "x", 1);
    snprintf(args, sizeof args, "train --quiet --data ring8 --out %s/busy", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    /* not a run: the advice is not --resume, which would fail (no config.json) */
    CHECK(code == 1 && strstr(err, "not the start of a vkgan run") && !strstr(err, "--resume") &&
              lines(err) == 1,
          "%d: %s", code, err);
    snprintf(args, sizeof args, "train --quiet --resume %s/busy", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "config.json") && lines(err) == 1, "%d: %s", code, err);
    snprintf(args, sizeof args, "sample --checkpoint %s/busy/file.txt --out %s/s.png", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "file.txt") && lines(err) == 1, "%d: %s", code, err);
    snprintf(args, sizeof args, "sample --checkpoint %s/busy --out %s/s.png", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "is a directory") && lines(err) == 1, "%d: %s", code, err);
    snprintf(args, sizeof args, "sample --checkpoint %s/none.safetensors --out %s/s.png", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "No such file") && lines(err) == 1, "%d: %s", code, err);
    char png[4200];
    snprintf(png, sizeof png, "%s/s.png", dir);
    CHECK(access(png, F_OK) != 0, "a failed sample left %s", png);
    code = test_run_vkgan("", "sample --n 0 --checkpoint x", err, sizeof err);
    CHECK(code == 2 && strstr(err, "--n") && lines(err) == 1, "%d: %s", code, err);
}

/* A file written at the end of long work (a classifier, a window's screenshot, samples) is
 * checked before the work: with no device at all the error is about the file, on one line. */
TEST(cli_outputs_are_checked_before_the_work) {
    char err[4096], args[8192];
    const char *dir = test_tmpdir();
    test_write(dir, "file", "x", 1);
    snprintf(args, sizeof args, "%s/d.safetensors", dir);
    CHECK(mkdir(args, 0777) == 0, "cannot make %s", args);
    const char *no_device = "VK_DRIVER_FILES=/nonexistent/icd.json";
    const char *cases[][2] = {
        {"train-classifier --epochs 1 --out %s/file/c.safetensors", "--out"},
        {"train-classifier --epochs 1 --out %s/d.safetensors", "is a directory"},
        {"train --quiet --data ring8 --view --screenshot %s/file/x.png --out %s/run",
         "--screenshot"},
        {"view %s --screenshot %s/file/x.png", "--screenshot"},
        {"sample --checkpoint %s/c.safetensors --out %s/file/s.png", "--out"},
        {"sample --checkpoint %s/c.safetensors --raw %s/file/s.safetensors", "--raw"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, cases[i][0], dir, dir);
        int code = test_run_vkgan(no_device, args, err, sizeof err);
        CHECK(code == 1 && strstr(err, cases[i][1]) && strstr(err, dir) && lines(err) == 1,
              "%s: %d: %s", args, code, err);
    }
    /* --out and --raw naming one file, however written: a usage error */
    snprintf(args, sizeof args, "sample --checkpoint x --out %s/s.png --raw %s/../%s/s.png", dir,
             dir, strrchr(dir, '/') + 1);
    int code = test_run_vkgan(no_device, args, err, sizeof err);
    CHECK(code == 2 && strstr(err, "same file") && lines(err) == 1, "%d: %s", code, err);
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    CHECK(access(run, F_OK) != 0, "the refused train made %s", run);
}

/* A 2-step ring8 run in DIR/run (for the tests of outputs that name its files). */
static void ring8_run(const char *dir) {
    char err[4096], args[4400];
    snprintf(args, sizeof args, "train --quiet --data ring8 --steps 2 --batch 8 --out %s/run", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: %d: %s", code, err);
}

/* Whether DIR/run still resumes (to step 4). */
static void check_resumes(const char *dir) {
    char err[4096], args[4400];
    snprintf(args, sizeof args, "train --quiet --resume %s/run --steps 4", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run no longer resumes: %d: %s", code, err);
}

/* An output option that names one of the files of a run the command reads (config.json, the
 * metrics, a checkpoint, a sample grid now or later, however written: links, . and ..), or the
 * checkpoint it reads, is a usage error and the file stays as it was. report --out RUN/config.json
 * used to replace the run's config with the report, and the run could no longer resume. */
TEST(cli_outputs_refuse_the_files_of_a_run_read) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    ring8_run(dir);
    int code;
    snprintf(path, sizeof path, "%s/run/config.json", dir);
    char *config = test_read_text(path);
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    char *metrics = test_read_text(path);
    CHECK(config && metrics, "the run wrote no config.json or metrics.jsonl");
    char link[4400], copy[4400];
    snprintf(link, sizeof link, "%s/link.html", dir);
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    CHECK(symlink(path, link) == 0, "cannot make %s", link);
    snprintf(args, sizeof args, "cp %s/run/checkpoints/step-000000002.safetensors %s/copy.st", dir,
             dir);
    CHECK(test_run_shell(args, err, sizeof err) == 0, "cannot copy the checkpoint");
    snprintf(copy, sizeof copy, "%s/copy.st", dir);
    const char *ckpt = "--checkpoint %s/run/checkpoints/step-000000002.safetensors";
    const char *cases[][2] = {
        {"report %s/run --out %s/run/config.json", "--out"},
        {"report %s/run --out %s/link.html", "--out"},
        {"report %s/run/ --out %s/run/../run/./checkpoints/step-000000002.safetensors", "--out"},
        {"report %s/run --out %s/run/samples/step-000000999.png", "--out"},
        {"sample %s --out %s/run/reals.png", "--out"},
        {"sample %s --out x.png --raw %s/run/checkpoints/step-000000002.safetensors", "--raw"},
        {"sample --checkpoint %s/copy.st --raw %s/copy.st", "--raw"},
        {"view %s/run --screenshot %s/run/metrics.csv", "--screenshot"},
        {"train --resume %s/run --view --screenshot %s/run/train.lock", "--screenshot"},
        {"train --out %s/new --view --screenshot %s/new/config.json", "--screenshot"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char format[512];
        if (strncmp(cases[i][0], "sample %s", 9) == 0) /* the checkpoint of the run */
            snprintf(format, sizeof format, "sample %s%s", ckpt, cases[i][0] + 9);
        else
            snprintf(format, sizeof format, "%s", cases[i][0]);
        snprintf(args, sizeof args, format, dir, dir);
        code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", args, err, sizeof err);
        CHECK(code == 2 && strstr(err, cases[i][1]) && lines(err) == 1 &&
                  (strstr(err, "of the run directory") || strstr(err, "which this command reads")),
              "%s: %d: %s", args, code, err);
    }
    snprintf(path, sizeof path, "%s/run/config.json", dir);
    char *after = test_read_text(path);
    CHECK(after && strcmp(after, config) == 0, "config.json changed");
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    after = test_read_text(path);
    CHECK(after && strcmp(after, metrics) == 0, "metrics.jsonl changed");
    snprintf(path, sizeof path, "%s/new", dir);
    CHECK(access(path, F_OK) != 0, "the refused train made %s", path);
    /* the report's own file, and files of the run's folders that are not the run's: written */
    snprintf(args, sizeof args, "report %s/run --out %s/run/report.html", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "report --out RUN/report.html: %d: %s", code, err);
    snprintf(args, sizeof args, "report %s/run --out %s/run/samples/mine.html", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "report --out RUN/samples/mine.html: %d: %s", code, err);
    check_resumes(dir);
}

/* train-classifier reads its data (both splits) and its --init file before it opens the device:
 * a missing test split or --init file is the one line said (after the device's note, it used to
 * be the second). */
TEST(cli_classifier_inputs_are_checked_before_the_device) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    static const char *splits[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 2; i++) { /* fashion-mnist without its t10k files */
        char target[512];
        snprintf(target, sizeof target, "%s/%s", VKG_FASHION_MNIST_DIR, splits[i]);
        snprintf(path, sizeof path, "%s/%s", dir, splits[i]);
        CHECK(symlink(target, path) == 0, "cannot link %s", path);
    }
    const char *cases[][2] = {
        {"train-classifier --epochs 1 --data mnist:%s --out %s/c.safetensors", "t10k-images"},
        {"train-classifier --epochs 1 --init %s/none.safetensors --out %s/c.safetensors",
         "--init "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int device = 0; device < 2; device++) { /* and with no device at all */
            snprintf(args, sizeof args, cases[i][0], dir, dir);
            int code = test_run_vkgan(device ? "" : "VK_DRIVER_FILES=/nonexistent/icd.json", args,
                                      err, sizeof err);
            CHECK(code == 1 && strstr(err, cases[i][1]) && lines(err) == 1, "%s: %d: %s", args,
                  code, err);
        }
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    CHECK(access(path, F_OK) != 0, "a refused train-classifier wrote %s", path);
}

/* An output in a run directory that the command does not read (train-classifier reads none) is
 * refused the same way when it is one of that run's files: train-classifier --out RUN/config.json
 * used to replace the run's config with a classifier, and the run could no longer resume. */
TEST(cli_outputs_refuse_the_files_of_any_run) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    ring8_run(dir);
    int code;
    snprintf(path, sizeof path, "%s/run/config.json", dir);
    char *config = test_read_text(path);
    CHECK(config, "the run wrote no config.json");
    const char *cases[][2] = {
        {"train-classifier --epochs 1 --out %s/run/config.json", "config.json"},
        {"train-classifier --out %s/run/../run/metrics.jsonl", "metrics.jsonl"},
        {"train-classifier --out %s/run/checkpoints/step-000000004.safetensors", "step-000000004"},
        {"sample --checkpoint x --out %s/run/samples/step-000000009.png", "step-000000009"},
        {"sample --checkpoint x --raw %s/run/reals.png", "reals.png"},
        {"train --data ring8 --out %s/run/checkpoints/step-000000006.safetensors",
         "step-000000006"},
        {"train --data ring8 --out %s/run/samples", "samples"},
        {"train --data ring8 --out %s/run/samples/new", "inside"},
        {"train --data ring8 --out %s/run/checkpoints/a/b", "inside"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, cases[i][0], dir);
        code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", args, err, sizeof err);
        CHECK(code == 2 && strstr(err, cases[i][1]) && strstr(err, "of the run directory") &&
                  lines(err) == 1,
              "%s: %d: %s", args, code, err);
    }
    char *after = test_read_text(path);
    CHECK(after && strcmp(after, config) == 0, "config.json changed");
    snprintf(path, sizeof path, "%s/run/checkpoints/step-000000006.safetensors", dir);
    CHECK(access(path, F_OK) != 0, "the refused train made %s", path);
    check_resumes(dir);
}

/* An image is written in the format its name's extension says (sample --out x.jpg used to write a
 * PNG called x.jpg); an extension vkgan does not write is a usage error of every image output. */
TEST(cli_images_take_the_format_their_extension_names) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    ring8_run(dir);
    int code;
    static const char *formats[][2] = {
        {"png", "\x89PNG"}, {"JPG", "\xff\xd8\xff"}, {"jpeg", "\xff\xd8\xff"}, {"bmp", "BM"}};
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        snprintf(path, sizeof path, "%s/s.%s", dir, formats[i][0]);
        snprintf(args, sizeof args,
                 "sample --checkpoint %s/run/checkpoints/step-000000002.safetensors --n 8 --out %s",
                 dir, path);
        code = test_run_vkgan("", args, err, sizeof err);
        char *image = test_read_text(path);
        CHECK(code == 0 && image && strncmp(image, formats[i][1], strlen(formats[i][1])) == 0,
              "--out %s: %d: %s", path, code, err);
    }
    /* TGA has no magic number: its header says no colour map and type 10 (RLE true colour) */
    snprintf(path, sizeof path, "%s/s.tga", dir);
    snprintf(args, sizeof args,
             "sample --checkpoint %s/run/checkpoints/step-000000002.safetensors --n 8 --out %s",
             dir, path);
    code = test_run_vkgan("", args, err, sizeof err);
    char *tga = test_read_text(path);
    CHECK(code == 0 && tga && tga[1] == 0 && tga[2] == 10, "--out %s: %d: %s", path, code, err);
    const char *refused[][2] = {
        {"sample --checkpoint x --out %s/s.gif", "--out"},
        {"sample --checkpoint x --out %s/samples", "--out"},
        {"view %s/run --screenshot %s/v.webp", "--screenshot"},
        {"train --data ring8 --view --screenshot %s/t.jpg2 --out %s/new", "--screenshot"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        snprintf(args, sizeof args, refused[i][0], dir, dir);
        code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", args, err, sizeof err);
        CHECK(code == 2 && strstr(err, refused[i][1]) && strstr(err, ".jpg (or .jpeg)") &&
                  lines(err) == 1,
              "%s: %d: %s", args, code, err);
    }
}

/* report and view read what they can of a damaged metrics.jsonl and say, in one warning line,
 * where the first line that is not a metrics record is (they used to say nothing); a torn last
 * line, what a run killed while writing leaves, is expected: no warning. */
TEST(cli_report_and_view_warn_of_a_damaged_metrics_log) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --steps 6 --batch 8 --log-every 2 --out %s/run", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: %d: %s", code, err);
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    char *good = test_read_text(path);
    CHECK(good && lines(good) >= 3, "metrics.jsonl: %s", good ? good : "(missing)");
    size_t first = strcspn(good, "\n") + 1;
    char *text = test_alloc(strlen(good) + 4096);
    uint32_t s = 12345;
    char noise[300];
    for (size_t i = 0; i < sizeof noise; i++) /* bytes of every value, newlines among them */
        noise[i] = (char)((s = s * 1664525u + 1013904223u) >> 24);
    static const char *damage[][2] = {
        /* [0]: before the file, [1]: after its first line; NULL: silent */
        {"", "not json\n[1,2]\n{\"step\":4}trailing\n"},
        {"\"a string\"\n", ""},
        {"{\"loss_d\": 1}\n", ""},
        {"", "{\"step\": -3}\n\n"},
    };
    size_t cases = sizeof damage / sizeof *damage;
    snprintf(args, sizeof args, "report %s/run --out %s/r.html", dir, dir);
    for (size_t i = 0; i < cases + 3; i++) {
        const char *want = NULL;
        size_t size;
        if (i < cases) { /* damaged lines: the first named */
            size = (size_t)sprintf(text, "%s%.*s%s%s", damage[i][0], (int)first, good, damage[i][1],
                                   good + first);
            want = damage[i][0][0] ? "metrics.jsonl: line 1 is not a metrics record"
                                   : "metrics.jsonl: line 2 is not a metrics record";
        } else if (i == cases) { /* random bytes */
            memcpy(text, noise, size = sizeof noise);
            text[0] = 'x';
            want = "metrics.jsonl: line 1 is not a metrics record";
        } else if (i == cases + 1) { /* a torn last line: silent */
            size = (size_t)sprintf(text, "%s{\"step\":8,\"epoch\":0.0", good);
        } else { /* as written: silent */
            size = (size_t)sprintf(text, "%s", good);
        }
        test_write(dir, "run/metrics.jsonl", text, size);
        code = test_run_vkgan("", args, err, sizeof err);
        CHECK(code == 0, "case %zu: report: %d: %s", i, code, err);
        if (want)
            CHECK(strstr(err, want) && strstr(err, "vkgan: warning:") && lines(err) == 1,
                  "case %zu: report: %s", i, err);
        else
            CHECK(err[0] == 0, "case %zu: report: %s", i, err);
        snprintf(path, sizeof path, "%s/r.html", dir); /* the good lines' curves drawn */
        char *html = test_read_text(path);
        CHECK(html && (i == cases || strstr(html, "<polyline")), "case %zu: no curve", i);
    }
    sprintf(text, "%.*sgarbage\n%s", (int)first, good, good + first);
    test_write(dir, "run/metrics.jsonl", text, strlen(text));
    snprintf(args, sizeof args, "view %s/run", dir); /* warned before the window (none here) */
    code = test_run_vkgan("env -u DISPLAY -u WAYLAND_DISPLAY", args, err, sizeof err);
    CHECK(strstr(err, "vkgan: warning:") && strstr(err, "metrics.jsonl: line 2 is not") &&
              lines(err) == 2,
          "view: %d: %s", code, err);
}

/* A run missing reals.png (removed) or a sample grid (a folder in its place) still gets its
 * report, which says so in the page and in one warning line (it used to exit 1); a resume remakes
 * a removed reals.png, which only a new run wrote. */
TEST(cli_report_without_an_image_and_resume_remakes_reals) {
    char err[4096], args[8192], path[4400], grid[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --steps 4 --batch 8 --checkpoint-every 2 --out %s/run",
             dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: %d: %s", code, err);
    snprintf(path, sizeof path, "%s/run/reals.png", dir);
    CHECK(unlink(path) == 0, "cannot remove %s", path);
    snprintf(args, sizeof args, "report %s/run --out %s/r.html", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && lines(err) == 1 && strstr(err, "vkgan: warning:") && strstr(err, path) &&
              strstr(err, "written without it"),
          "report without reals.png: %d: %s", code, err);
    snprintf(grid, sizeof grid, "%s/r.html", dir);
    char *html = test_read_text(grid);
    CHECK(html && strstr(html, "reals.png: cannot open it") && strstr(html, "<polyline"),
          "the page without reals.png: %s", html ? "says nothing of it" : "not written");
    snprintf(grid, sizeof grid, "%s/run/samples/step-000000000.png", dir);
    CHECK(unlink(grid) == 0 && mkdir(grid, 0777) == 0, "cannot make %s a folder", grid);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && lines(err) == 1 && strstr(err, grid) && strstr(err, "and 1 more image"),
          "report without a grid and reals.png: %d: %s", code, err);
    CHECK(rmdir(grid) == 0, "cannot remove %s", grid);
    snprintf(args, sizeof args, "train --resume %s/run --quiet --steps 6", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && access(path, F_OK) == 0, "resume: %d, %s %s", code, path,
          access(path, F_OK) == 0 ? "remade" : "not remade");
    snprintf(args, sizeof args, "report %s/run --out %s/r.html", dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && err[0] == 0, "report after the resume: %d: %s", code, err);
}

/* --name=value as well as --name value; a flag given a value, an empty value and an optional
 * value given as an empty string are one-line usage errors. */
TEST(cli_options_take_the_equals_form) {
    char err[4096];
    int code = test_run_vkgan("", "sample --n=5000 --checkpoint x", err, sizeof err);
    CHECK(code == 2 && strstr(err, "--n expects an integer from 1 to 4096") && lines(err) == 1,
          "%d: %s", code, err);
    code =
        test_run_vkgan("", "sample --n=5 --checkpoint=/nonexistent/c.safetensors", err, sizeof err);
    CHECK(code == 1 && strstr(err, "/nonexistent/c.safetensors") && lines(err) == 1, "%d: %s", code,
          err);
    const char *usage[][2] = {{"train --quiet=1", "takes no value"},
                              {"train --lr=", "not an empty string"},
                              {"train --g-dropout ''", "not an empty string"},
                              {"train --frobnicate=3", "unknown option '--frobnicate'"}};
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        code = test_run_vkgan("", usage[i][0], err, sizeof err);
        CHECK(code == 2 && strstr(err, usage[i][1]) && lines(err) == 1, "%s: %d: %s", usage[i][0],
              code, err);
    }
}

/* -h, --help and --version are flags like any other, for vkgan and for every command: given a
 * value (--help=1) or followed by another argument (vkgan --version 1) they are a one-line usage
 * error naming the flag, not an unknown option or command. */
TEST(cli_help_and_version_take_no_value) {
    static const char *commands[] = {"",       "devices ", "selfcheck ",        "bench-kernels ",
                                     "train ", "sample ",  "train-classifier ", "score ",
                                     "view ",  "report "};
    const char *no_device = "VK_DRIVER_FILES=/nonexistent/icd.json";
    char args[256], out[16384];
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        snprintf(args, sizeof args, "%s--help", commands[i]);
        int code = test_run_vkgan_output(no_device, args, out, sizeof out);
        CHECK(code == 0 && strstr(out, "usage: vkgan"), "%s: %d: %s", args, code, out);
        static const char *valued[][2] = {{"--help=1", "--help takes no value"},
                                          {"-h=1", "-h takes no value"},
                                          {"--help=", "--help takes no value"}};
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) {
            snprintf(args, sizeof args, "%s%s", commands[i], valued[k][0]);
            code = test_run_vkgan_output(no_device, args, out, sizeof out);
            CHECK(code == 2 && strstr(out, valued[k][1]) && lines(out) == 1, "%s: %d: %s", args,
                  code, out);
        }
    }
    static const char *usage[][2] = {{"--version=1", "--version takes no value"},
                                     {"--version 1", "unexpected argument '1' after --version"},
                                     {"--help 1", "unexpected argument '1' after --help"},
                                     {"--help train", "'vkgan train --help'"}};
    for (size_t i = 0; i < sizeof usage / sizeof *usage; i++) {
        int code = test_run_vkgan_output(no_device, usage[i][0], out, sizeof out);
        CHECK(code == 2 && strstr(out, usage[i][1]) && lines(out) == 1, "%s: %d: %s", usage[i][0],
              code, out);
    }
    int code = test_run_vkgan_output(no_device, "--version", out, sizeof out);
    CHECK(code == 0 && strncmp(out, "vkgan ", 6) == 0 && lines(out) == 1, "--version: %d: %s", code,
          out);
}

/* A run whose config.json was changed to another model resumes the model of its checkpoints,
 * saying so (it was refused, blaming checkpoints that were fine). */
TEST(cli_train_resume_keeps_the_model_of_its_checkpoints) {
    char err[4096], args[8192], path[4200];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --steps 2 --batch 8 --mlp-hidden 8 --out %s/run", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the short run failed (%d): %s", code, err);
    snprintf(path, sizeof path, "%s/run/config.json", dir);
    FILE *f = fopen(path, "rb");
    char text[16384];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = 0;
    char *hidden = strstr(text, "\"mlp-hidden\":");
    CHECK(hidden, "config.json has no mlp-hidden: %s", text);
    char *digit = strchr(hidden, '8');
    CHECK(digit, "mlp-hidden is not 8");
    *digit = '9';
    test_write(dir, "run/config.json", text, n);
    snprintf(args, sizeof args, "train --quiet --resume %s/run --steps 4", dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0 && strstr(err, "--mlp-hidden is 9 there, 8 in them") &&
              strstr(err, "step-000000002") && lines(err) == 1,
          "%d: %s", code, err);
    f = fopen(path, "rb");
    n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = 0;
    CHECK(strstr(text, "\"mlp-hidden\":\t8"), "config.json was not written again: %s", text);
    snprintf(args, sizeof args,
             "sample --checkpoint %s/run/checkpoints/step-000000002.safetensors --n 16 --out "
             "%s/points.png",
             dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(path, sizeof path, "%s/points.png", dir);
    CHECK(code == 0 && access(path, R_OK) == 0, "sample from a checkpoint (%d): %s", code, err);
}

/* Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) during training: a checkpoint at the
 * step it stopped, exit code 130, and the run continues from there. SIGHUP used to end the run
 * with no checkpoint (exit 129). */
TEST(cli_train_signals_checkpoint) {
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    static const char *names[] = {"SIGINT", "SIGTERM", "SIGHUP"};
    for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) {
        char out[4200], ckpt[4300], args[4400];
        snprintf(out, sizeof out, "%s/run-%s", test_tmpdir(), names[i]);
        snprintf(args, sizeof args,
                 "train --quiet --data ring8 --steps 100000 --batch 8 --mlp-hidden 8 "
                 "--log-every 5 --out '%s'",
                 out);
        pid_t pid = test_spawn_vkgan(args);
        char metrics[4300];
        snprintf(metrics, sizeof metrics, "%s/metrics.csv", out);
        int logged = test_wait_for_lines(metrics, 2, pid); /* until it has logged a line */
        kill(pid, signals[i]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(logged == 0, "%s: the run ended before it logged a metrics line", names[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 130, "%s: exit status %d", names[i],
              status);
        unsigned step = 0;
        snprintf(ckpt, sizeof ckpt, "%s/checkpoints", out);
        int found = 0;
        DIR *dir = opendir(ckpt);
        struct dirent *e;
        while (dir && (e = readdir(dir)))
            found += sscanf(e->d_name, "step-%9u.safetensors", &step) == 1;
        if (dir) closedir(dir);
        CHECK(found == 1 && step >= 5, "%s: checkpoints: %d (step %u)", names[i], found, step);
    }
}

/* Issue 14, case 1: options that a resumed run cannot change are refused by name (they were
 * silently ignored); the same value, and the options that may change, are taken. */
TEST(cli_resume_refuses_changed_options) {
    char err[4096], args[8192];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --batch 8 --mlp-hidden 8 --steps 10 --out %s/run", dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: %d: %s", code, err);
    char path[4400];
    snprintf(path, sizeof path, "%s/run/config.json", dir);
    char *config = test_read_text(path); /* automatic values are resolved: no "auto" left */
    CHECK(config && strstr(config, "\"classifier\":\t\"none\"") && !strstr(config, "\"auto\""),
          "config.json: %s", config ? config : "(missing)");
    static const char *changed[] = {"--batch 16", "--lr 0.001", "--g-width 32", "--ema 0.9",
                                    "--data grid25"};
    for (size_t i = 0; i < sizeof changed / sizeof *changed; i++) {
        snprintf(args, sizeof args, "train --quiet --resume %s/run --steps 15 %s", dir, changed[i]);
        code = test_run_vkgan("", args, err, sizeof err);
        char name[32];
        snprintf(name, sizeof name, "%.*s:", (int)strcspn(changed[i], " "), changed[i]);
        CHECK(code == 2 && strstr(err, name) && strstr(err, "config.json") &&
                  strstr(err, "only --steps") && lines(err) == 1,
              "%s: %d: %s", changed[i], code, err);
    }
    snprintf(args, sizeof args, "train --quiet --resume %s/run --steps 5", dir); /* < done */
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 2 && strstr(err, "--steps 5") && strstr(err, "step 10") && lines(err) == 1,
          "fewer steps than done: %d: %s", code, err);
    snprintf(args, sizeof args, "train --quiet --resume %s/run --steps 15 --batch 8 --validation",
             dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the same batch and --validation: %d: %s", code, err);
}

/* What vkgan train refuses from its options and the run directory (a --steps below the step
 * resumed, an --out that holds a run, a classifier file it cannot use) is said before the device
 * is opened or the model summarised: the one line is all that is printed, nothing is made. */
TEST(cli_train_refusals_are_all_that_is_said) {
    char out[16384], args[8192], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --batch 8 --mlp-hidden 8 --steps 4 --out %s/run", dir);
    int code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0, "the run: %d: %s", code, out);
    static const struct {
        const char *args;
        int code;
        const char *says;
    } cases[] = {
        {"train --resume %s/run --steps 2", 2, "--steps 2: "},
        {"train --data ring8 --out %s/run", 1, "already exists"},
        {"train --data ring8 --out /dev/null", 1, "/dev/null is a device, pipe or socket"},
        {"train --g-width 4 --steps 1 --classifier %s/none.safetensors --out %s/new", 1,
         "--classifier: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(args, sizeof args, cases[i].args, dir, dir);
        code = test_run_vkgan_output("", args, out, sizeof out);
        CHECK(code == cases[i].code && strstr(out, cases[i].says) && lines(out) == 1, "%s: %d: %s",
              args, code, out);
    }
    snprintf(path, sizeof path, "%s/new", dir);
    CHECK(access(path, F_OK) != 0, "the refused run made %s", path);
}

/* A run resumed at its --steps trains nothing, and its closing line says so instead of "done: N
 * steps in T s". */
TEST(cli_train_with_nothing_to_do_says_so) {
    char out[16384], args[8192];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --batch 8 --mlp-hidden 8 --steps 4 --out %s/run", dir);
    int code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0, "the run: %d: %s", code, out);
    snprintf(args, sizeof args, "train --resume %s/run --steps 4", dir);
    code = test_run_vkgan_output("", args, out, sizeof out);
    CHECK(code == 0 && strstr(out, "nothing to do: ") && strstr(out, "at step 4") &&
              !strstr(out, "done:"),
          "resumed at its --steps: %d: %s", code, out);
}

/* An option of vkgan train that cannot act (the other kind of data's model, one that another
 * option overrides or turns off) is a one-line usage error naming it and what rules it out,
 * found before the device (none is needed to hear it), also when a resumed run's config.json
 * rules it out; a value that asks for nothing (0, none) is taken with any data. */
TEST(cli_train_refuses_options_that_cannot_act) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --data ring8 --batch 8 --mlp-hidden 8 --steps 1 --image-size 0 "
             "--g-dropout 0 --classifier none --out %s/ok",
             dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "values that ask for nothing: %d: %s", code, err);
    static const char *refused[][3] = {
        {"--data ring8 --image-size 64", "--image-size 64: ", "ring8 is 2D data"},
        {"--data grid25 --classifier c.safetensors", "--classifier c.safetensors: ", "grid25"},
        {"--data ring8 --g-dropout", "--g-dropout 0.5: ", "2D data"},
        {"--data ring8 --sync-bn", "--sync-bn: ", "2D data"},
        {"--data ring8 --health-samples 64", "--health-samples 64: ", "2D data"},
        {"--mlp-hidden 8", "--mlp-hidden 8: ", "image data"},
        {"--image-size 32", "--image-size 32: ", "images are 28x28"},
        {"--data ring8 --steps 10 --epochs 2", "--steps 10 and --epochs 2", "give one"},
        {"--data ring8 --lr 0.001 --lr-d 0.002 --lr-g 0.003", "--lr 0.001: ", "--lr-d and --lr-g"},
        {"--data ring8 --soft-labels --label-smoothing 0.9", "--label-smoothing 0.9 and ",
         "--soft-labels"},
        {"--data ring8 --noise-steps 50", "--noise-steps 50: ", "instance noise"},
        {"--data ring8 --max-rollbacks 2 --on-failure stop", "--max-rollbacks 2: ", "is stop"},
        {"--data ring8 --rollback-lr-scale 0.3", "--rollback-lr-scale 0.3: ", "is warn"},
        {"--classifier c.safetensors --health-every 0",
         "--classifier c.safetensors: ", "--health-every 0"},
        {"--classifier none --health-every 50", "--health-every 50: ", "--classifier none"},
        {"--resume %s/ok --steps 2 --health-every 100", "--health-every 100: ", "ring8"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        int n = snprintf(args, sizeof args, "train ");
        n += snprintf(args + n, sizeof args - (size_t)n, refused[i][0], dir);
        if (!strstr(refused[i][0], "--resume"))
            snprintf(args + n, sizeof args - (size_t)n, " --out %s/refused", dir);
        code = test_run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", args, err, sizeof err);
        CHECK(code == 2 && strstr(err, refused[i][1]) && strstr(err, refused[i][2]) &&
                  lines(err) == 1,
              "%s: %d: %s", args, code, err);
    }
    snprintf(path, sizeof path, "%s/refused", dir);
    CHECK(access(path, F_OK) != 0, "a refused run made %s", path);
}

/* Issue 14, case 2: class names are recorded (config.json, checkpoints) and sample --class takes
 * a name as well as an index. */
TEST(cli_class_names_recorded_and_sampled_by_name) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --conditional --g-width 4 --d-width 4 --latent 8 --batch 10 --steps 2 "
             "--classifier none --out %s/run",
             dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: %d: %s", code, err);
    snprintf(path, sizeof path, "%s/run/config.json", dir);
    char *config = test_read_text(path);
    CHECK(config && strstr(config, "\"Ankle boot\"") && strstr(config, "\"T-shirt/top\""),
          "config.json has no class names");
    snprintf(path, sizeof path, "%s/run/checkpoints/step-000000002.safetensors", dir);
    snprintf(args, sizeof args, "sample --checkpoint %s --class Sneaker --n 4 --out %s/s.png", path,
             dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "--class Sneaker: %d: %s", code, err);
    snprintf(args, sizeof args, "sample --checkpoint %s --class zebra --n 4 --out %s/z.png", path,
             dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "'Sneaker'") && lines(err) == 1, "--class zebra: %d: %s", code,
          err);
    snprintf(args, sizeof args, "report %s/run --out %s/r.html", dir, dir); /* rows named */
    code = test_run_vkgan("", args, err, sizeof err);
    snprintf(path, sizeof path, "%s/r.html", dir);
    char *html = test_read_text(path);
    CHECK(code == 0 && html && strstr(html, "One row per class") && strstr(html, "9 Ankle boot"),
          "report: %d: %s", code, err);
    /* a class name for a model with no classes: that is what is wrong, not the name */
    snprintf(args, sizeof args, "train --quiet --data ring8 --steps 2 --out %s/r8", dir);
    CHECK(test_run_vkgan("", args, err, sizeof err) == 0, "ring8: %s", err);
    snprintf(args, sizeof args,
             "sample --checkpoint %s/r8/checkpoints/step-000000002.safetensors --class Sneaker "
             "--out %s/r8.png",
             dir, dir);
    code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 1 && strstr(err, "is not class-conditional") && lines(err) == 1,
          "--class on ring8: %d: %s", code, err);
}

/* A PNG's width and height (its IHDR), or 0 and 0. */
static void png_size(const char *path, int *w, int *h) {
    unsigned char head[24] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    *w = got == 24 ? head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19] : 0;
    *h = got == 24 ? head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23] : 0;
}

/* sample --n N of a conditional model writes N samples, as it says: one row per class, the last
 * column partial (it used to keep whole rows of up to 8: --n 64 of 10 classes wrote 60, --n 13
 * wrote 10, and still said N). */
TEST(cli_conditional_sample_writes_n) {
    char err[4096], args[8192], path[4400];
    const char *dir = test_tmpdir();
    snprintf(args, sizeof args,
             "train --quiet --conditional --g-width 4 --d-width 4 --latent 8 --batch 10 --steps 1 "
             "--image-size 28 --classifier none --out %s/run",
             dir);
    int code = test_run_vkgan("", args, err, sizeof err);
    CHECK(code == 0, "the run: %d: %s", code, err);
    static const int n[][3] = {{13, 10, 2}, {64, 10, 7}, {200, 10, 20}, {4, 4, 1}, {30, 10, 3}};
    for (size_t i = 0; i < sizeof n / sizeof *n; i++) {
        snprintf(path, sizeof path, "%s/s%d.png", dir, n[i][0]);
        snprintf(
            args, sizeof args,
            "sample --checkpoint %s/run/checkpoints/step-000000001.safetensors --n %d --out %s",
            dir, n[i][0], path);
        code = test_run_vkgan_output("", args, err, sizeof err);
        char said[64];
        snprintf(said, sizeof said, "wrote %d samples to", n[i][0]);
        int w, h;
        png_size(path, &w, &h);
        int cell = 28 + 2; /* 28x28 images, a 2-pixel border */
        CHECK(code == 0 && strstr(err, said) && h == n[i][1] * cell + 2 && w == n[i][2] * cell + 2,
              "--n %d: %d, %dx%d (want %d rows of %d): %s", n[i][0], code, w, h, n[i][1], n[i][2],
              err);
    }
}
