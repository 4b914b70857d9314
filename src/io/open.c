/* Opening a file to read it whole: regular files only (see include/vkgan/io.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkgan/error.h"
#include "vkgan/io.h"

FILE *vkg_open_regular(const char *path) {
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        vkg_set_error("%s: cannot open it (%s)", path, strerror(errno));
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (fstat(fd, &st) != 0)
        vkg_set_error("%s: cannot open it (%s)", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        vkg_set_error("%s: is a directory, not a file", path);
    else if (!S_ISREG(st.st_mode))
        vkg_set_error("%s: is not a regular file (a device, pipe or socket): vkgan reads files",
                      path);
    else if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || !(f = fdopen(fd, "rb")))
        vkg_set_error("%s: cannot open it (%s)", path, strerror(errno));
    if (!f) close(fd);
    return f;
}
