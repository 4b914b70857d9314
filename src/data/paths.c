/* Checks of a dataset reader's paths (paths.h). */
#include "data/paths.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkgan/error.h"

int data_check_file(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return vkg_set_error("%s: cannot open it (%s)", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return vkg_set_error("%s: is a directory, not a file", path);
    if (access(path, R_OK) != 0)
        return vkg_set_error("%s: cannot read it (%s)", path, strerror(errno));
    return 0;
}

int data_check_dir(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0)
        return vkg_set_error("%s: cannot open the directory (%s)", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return vkg_set_error("%s: is a file, not a directory", dir);
    if (access(dir, R_OK | X_OK) != 0)
        return vkg_set_error("%s: cannot read the directory (%s)", dir, strerror(errno));
    return 0;
}
