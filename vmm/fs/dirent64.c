/* dirent64.c - linux_dirent64 records (see dirent64.h). */
#include "dirent64.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

size_t dirent_reclen(size_t namelen) { return (DIRENT_NAME_OFFSET + namelen + 1 + 7) & ~(size_t)7; }

bool dirent_put(void *buf, size_t len, size_t *used, uint64_t ino, int64_t off, unsigned char type,
                const char *name) {
  size_t namelen = strlen(name);
  size_t reclen = dirent_reclen(namelen);
  if (reclen > len - *used)
    return false;
  unsigned char *rec = (unsigned char *)buf + *used;
  uint16_t reclen16 = (uint16_t)reclen;
  memset(rec, 0, reclen);
  memcpy(rec, &ino, 8);
  memcpy(rec + 8, &off, 8);
  memcpy(rec + 16, &reclen16, 2);
  rec[18] = type;
  memcpy(rec + DIRENT_NAME_OFFSET, name, namelen);
  *used += reclen;
  return true;
}

unsigned char dirent_type(unsigned mode) {
  switch (mode & S_IFMT) {
  case S_IFREG:
    return DT_REG;
  case S_IFDIR:
    return DT_DIR;
  case S_IFLNK:
    return DT_LNK;
  case S_IFCHR:
    return DT_CHR;
  case S_IFBLK:
    return DT_BLK;
  case S_IFIFO:
    return DT_FIFO;
  case S_IFSOCK:
    return DT_SOCK;
  default:
    return DT_UNKNOWN;
  }
}
