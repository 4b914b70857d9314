/* Checks of the paths a dataset reader is given, so that what is wrong with one is said as it
 * is (missing, a file where a folder is meant, or the reverse, unreadable). */
#ifndef VKGAN_DATA_PATHS_H
#define VKGAN_DATA_PATHS_H

/* 0 when path is a regular file that can be opened for reading; else -1 with vkg_error()
 * "PATH: why" (missing, a broken link, a file where one of its folders is meant, a directory, a
 * pipe or device, unreadable). */
int data_check_file(const char *path);
/* 0 when dir is a directory that can be listed; else -1 with vkg_error() "DIR: why" (as
 * data_check_file's, or a file). */
int data_check_dir(const char *dir);

#endif
