/* fileio.h - whole small files in and out of a directory descriptor, for
 * the image library's own files (manifest.json, manifest.sig, keys,
 * config.json): reads capped before anything is allocated, writes to a
 * fresh temporary name, fsynced, then renamed into place, so a reader
 * sees the old file, the new one, or none. */
#ifndef HEARTH_IMAGES_FILEIO_H
#define HEARTH_IMAGES_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "imgerr.h"

/* Reads the regular file `name` (relative to dirfd) whole into a new
 * buffer, NUL-terminated one past *len. A file larger than `cap` is
 * refused (-EFBIG) without being read. Errors name the file as `shown`. */
int img_read_file(int dirfd, const char *name, const char *shown, size_t cap, char **buf,
                  size_t *len, struct img_err *err);

/* The same for an open file, read from its current offset. */
int img_read_fd(int fd, const char *shown, size_t cap, char **buf, size_t *len,
                struct img_err *err);

/* Writes data[0, len) as `name` in dirfd with `mode`: a temporary file,
 * fsync, then a rename; with `no_replace` an existing `name` is kept and
 * the result is -EEXIST. The temporary is removed on failure. */
int img_write_file(int dirfd, const char *name, const char *shown, const void *data, size_t len,
                   mode_t mode, bool no_replace, struct img_err *err);

/* "<dir>/<name>" into out[0, cap): 0, or -ENAMETOOLONG. For the host paths
 * of hearth's own files (state and build directories), never for guest
 * paths. */
int img_path_join(char *out, size_t cap, const char *dir, const char *name);

/* write(2) until done: 0 or a negative errno (-EIO for a zero write). */
int img_write_all(int fd, const void *data, size_t len);

#endif
