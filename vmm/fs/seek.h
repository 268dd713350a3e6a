/* seek.h - lseek(2) arithmetic for files whose size is known and that have
 * no holes (tmpfs files, host image files), shared by their ops. */
#ifndef HEARTH_VMM_FS_SEEK_H
#define HEARTH_VMM_FS_SEEK_H

#include <sys/types.h>

/* Moves *pos for SEEK_SET/CUR/END/DATA/HOLE and returns the new position:
 * -EINVAL for a bad whence or a negative/overflowing result, -ENXIO for
 * SEEK_DATA/SEEK_HOLE at or past the end (Linux's answers). */
off_t seek_in_file(off_t *pos, off_t off, int whence, off_t size);

#endif
