/* Checks of a dataset reader's paths (paths.h). */
#include "data/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

/* Why `path` (`what`: "it" or "the directory") cannot be opened, errno `err` from its stat: a
 * broken symbolic link, a file where a folder of the path is meant, or the system's reason. */
static int missing(const char *path, const char *what, int err) {
    struct stat st;
    char link[PATH_MAX];
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, link, sizeof link - 1);
        link[n > 0 ? n : 0] = 0;
        return vkg_set_error("%s: a broken symbolic link (to %s, %s)", path, link, strerror(err));
    }
    if (err == ENOTDIR) { /* the first part of the path that is not a folder */
        char part[PATH_MAX];
        snprintf(part, sizeof part, "%s", path);
        for (char *slash = strchr(part + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
            *slash = 0;
            if (stat(part, &st) == 0 && !S_ISDIR(st.st_mode))
                return vkg_set_error("%s: %s is a file, not a directory", path, part);
            *slash = '/';
        }
    }
    return vkg_set_error("%s: cannot open %s (%s)", path, what, strerror(err));
}

int data_check_file(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return missing(path, "it", errno);
    FILE *f = vkg_open_regular(path); /* a folder, a FIFO or a device, unreadable: said so */
    if (!f) return -1;
    fclose(f);
    return 0;
}

int data_check_dir(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return missing(dir, "the directory", errno);
    if (!S_ISDIR(st.st_mode)) return vkg_set_error("%s: is a file, not a directory", dir);
    if (access(dir, R_OK | X_OK) != 0)
        return vkg_set_error("%s: cannot read the directory (%s)", dir, strerror(errno));
    return 0;
}
