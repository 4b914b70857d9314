/* The vkgan binary's errors: one line naming the problem, exit code 1 (2 for usage), no crash.
 * Runs the vkgan built next to this test binary. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Runs `vkgan ARGS` with `env` prepended; returns the exit code, stderr's text in err. */
static int run_vkgan(const char *env, const char *args, char *err, size_t size) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = 0;
    char cmd[PATH_MAX + 512];
    snprintf(cmd, sizeof cmd, "%s '%s/vkgan' %s 2>&1 >/dev/null", env, exe, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t got = fread(err, 1, size - 1, p);
    err[got] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

TEST(cli_no_vulkan_driver_is_one_clear_line) {
    char err[4096];
    int code = run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", "devices", err, sizeof err);
    CHECK(code == 1, "exit code %d", code);
    CHECK(strstr(err, "no Vulkan device found") && lines(err) == 1, "stderr: %s", err);
    code = run_vkgan("VK_DRIVER_FILES=/nonexistent/icd.json", "selfcheck", err, sizeof err);
    CHECK(code == 1 && strstr(err, "no Vulkan device found"), "%d: %s", code, err);
}

TEST(cli_bad_options_are_named) {
    char err[4096];
    int code = run_vkgan("", "selfcheck --device 99", err, sizeof err);
    CHECK(code == 1 && strstr(err, "--device 99") && lines(err) == 1, "%d: %s", code, err);
    code = run_vkgan("", "bench-kernels --batch -3", err, sizeof err);
    CHECK(code == 1 && strstr(err, "--batch") && lines(err) == 1, "%d: %s", code, err);
    code = run_vkgan("", "bench-kernels --model 32", err, sizeof err);
    CHECK(code == 1 && strstr(err, "--model") && lines(err) == 1, "%d: %s", code, err);
    code = run_vkgan("", "frobnicate", err, sizeof err);
    CHECK(code == 2 && strstr(err, "frobnicate") && lines(err) == 1, "%d: %s", code, err);
    code = run_vkgan("", "devices --help", err, sizeof err);
    CHECK(code == 0, "devices --help exits %d", code);
}
