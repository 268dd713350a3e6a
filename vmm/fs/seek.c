/* seek.c - lseek(2) arithmetic for hole-less files (see seek.h). */
#include "seek.h"

#include <errno.h>
#include <unistd.h>

off_t seek_in_file(off_t *pos, off_t off, int whence, off_t size) {
  off_t base, to;
  switch (whence) {
  case SEEK_SET:
    base = 0;
    break;
  case SEEK_CUR:
    base = *pos;
    break;
  case SEEK_END:
    base = size;
    break;
  case SEEK_DATA:
  case SEEK_HOLE:
    if (off < 0 || off >= size)
      return -ENXIO;
    *pos = whence == SEEK_DATA ? off : size; /* all data, one hole at the end */
    return *pos;
  default:
    return -EINVAL;
  }
  if (__builtin_add_overflow(base, off, &to) || to < 0)
    return -EINVAL;
  *pos = to;
  return to;
}
