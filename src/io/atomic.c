/* Atomic file replacement: temp file in the same directory, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

static int write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

int vkg_is_atomic_temporary(const char *name) {
    const char *t = NULL; /* the last ".tmp", followed by the writer's PID */
    for (const char *p = strstr(name, ".tmp"); p; p = strstr(p + 1, ".tmp")) t = p;
    return t && t[4] && strspn(t + 4, "0123456789") == strlen(t + 4);
}

/* The temporary file vkg_write_file_atomic writes before renaming it over path. */
static void temporary_name(const char *path, char *out, size_t size) {
    snprintf(out, size, "%s.tmp%d", path, (int)getpid());
}

/* The file a write to path replaces: path, or what a symbolic link there names, even one not
 * there yet (the link stays); -1 when that exists and is not a regular file: a rename would put
 * a file in place of a directory, a device (/dev/null), a pipe or a further link. */
static int write_target(const char *path, char *out, size_t size) {
    struct stat st;
    char real[PATH_MAX], link[PATH_MAX];
    snprintf(out, size, "%s", path);
    if (lstat(path, &st) != 0) return 0; /* a new file */
    if (S_ISLNK(st.st_mode)) {
        if (realpath(path, real)) {
            snprintf(out, size, "%s", real);
        } else { /* a link to a file not there yet: it is made where the link says */
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n <= 0)
                return vkg_set_error("%s: cannot read the link (%s)", path, strerror(errno));
            link[n] = 0;
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%s", path);
            if (link[0] == '/')
                snprintf(out, size, "%s", link);
            else
                snprintf(out, size, "%s/%s", dirname(dir), link);
        }
        if (lstat(out, &st) != 0) return 0;
    }
    if (S_ISDIR(st.st_mode)) return vkg_set_error("%s: is a directory, not a file", path);
    if (!S_ISREG(st.st_mode))
        return vkg_set_error("%s: is not a regular file (a device, pipe or socket): vkgan writes "
                             "files by replacing them, so it writes only regular ones",
                             path);
    return 0;
}

int vkg_check_writable(const char *path) {
    char target[4200], tmp[4300];
    if (write_target(path, target, sizeof target) < 0) return -1;
    temporary_name(target, tmp, sizeof tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return vkg_set_error("%s: cannot create it (%s)", path, strerror(errno));
    close(fd);
    unlink(tmp);
    return 0;
}

int vkg_write_file_atomic(const char *path, const void *const *parts, const size_t *sizes,
                          int count) {
    char target[4200], tmp[4300];
    if (write_target(path, target, sizeof target) < 0) return -1;
    temporary_name(target, tmp, sizeof tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) /* named as the user gave it: the temporary file is ours */
        return vkg_set_error("%s: cannot create it (%s)", path, strerror(errno));
    int ok = 1;
    for (int i = 0; ok && i < count; i++) ok = write_all(fd, parts[i], sizes[i]) == 0;
    ok = ok && fsync(fd) == 0;
    int err = errno;
    ok = (close(fd) == 0) && ok;
    if (!ok) {
        unlink(tmp);
        return vkg_set_error("%s: writing failed (%s)", path, strerror(err ? err : errno));
    }
    if (rename(tmp, target) != 0) {
        err = errno;
        unlink(tmp);
        return vkg_set_error("%s: cannot replace it (%s)", path, strerror(err));
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", target);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { /* makes the rename itself durable */
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
