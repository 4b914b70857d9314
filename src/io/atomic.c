/* Atomic file replacement: temp file in the same directory, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

int vkg_path_has_extension(const char *path, const char *ext) {
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(name), e = strlen(ext);
    return n > e + 1 && name[n - e - 1] == '.' && strcasecmp(name + n - e, ext) == 0;
}

int vkg_real_path(const char *path, char *out, size_t size) {
    char buf[2 * PATH_MAX + 2], real[PATH_MAX], rest[2 * PATH_MAX + 2] = "", cwd[PATH_MAX] = "";
    if (!path[0]) return vkg_set_error("an empty path");
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        return vkg_set_error("%s: cannot tell the current directory (%s)", path, strerror(errno));
    if (strlen(path) >= PATH_MAX) return vkg_set_error("%s: path too long", path);
    snprintf(buf, sizeof buf, "%s%s%s", cwd, cwd[0] ? "/" : "", path);
    /* the longest part that exists, resolved by the system; the rest held back */
    while (!realpath(buf, real)) {
        char *slash = strrchr(buf, '/'), part[sizeof rest];
        if (!slash) return vkg_set_error("%s: cannot resolve it", path);
        snprintf(part, sizeof part, "%s%s%s", slash + 1, rest[0] ? "/" : "", rest);
        memcpy(rest, part, sizeof rest);
        if (slash == buf)
            buf[1] = 0; /* "/" */
        else
            *slash = 0;
    }
    /* the rest, none of which exists: its "." and ".." by name */
    size_t n = strlen(real);
    char *save = NULL;
    for (char *part = strtok_r(rest, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0) continue;
        if (strcmp(part, "..") == 0) {
            char *slash = strrchr(real, '/');
            n = slash && slash != real ? (size_t)(slash - real) : 1;
            real[n] = 0;
            continue;
        }
        if (n + 1 + strlen(part) >= sizeof real) return vkg_set_error("%s: path too long", path);
        n += (size_t)sprintf(real + n, "%s%s", real[n - 1] == '/' ? "" : "/", part);
    }
    if (strlen(real) >= size) return vkg_set_error("%s: path too long", path);
    snprintf(out, size, "%s", real);
    return 0;
}

int vkg_write_target(const char *path, char *out, size_t size) {
    char target[4200];
    if (write_target(path, target, sizeof target) < 0) return -1;
    return vkg_real_path(target, out, size);
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
