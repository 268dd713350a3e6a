/* dirent64.h - writing struct linux_dirent64 records (getdents64's format on
 * x86-64 Linux) into a bounded buffer, for every kind of directory. */
#ifndef HEARTH_VMM_FS_DIRENT64_H
#define HEARTH_VMM_FS_DIRENT64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct linux_dirent64: d_ino, d_off, d_reclen, d_type, then the name. */
#define DIRENT_NAME_OFFSET 19u

/* Size of the record for a name of `namelen` bytes (NUL and padding to 8
 * bytes included). */
size_t dirent_reclen(size_t namelen);

/* Appends one record at buf + *used when it fits in len (then advances
 * *used and returns true). `off` is the position that continues after this
 * entry; padding bytes are zeroed. */
bool dirent_put(void *buf, size_t len, size_t *used, uint64_t ino, int64_t off, unsigned char type,
                const char *name);

/* The DT_* type for an S_IFMT mode. */
unsigned char dirent_type(unsigned mode);

#endif
