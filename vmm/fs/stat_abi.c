/* stat_abi.c - stat answers in the guest's layout (see stat_abi.h). */
#include "stat_abi.h"

#include <string.h>
#include <sys/sysmacros.h>

_Static_assert(sizeof(struct stat) == 144, "struct stat must be x86-64 Linux's");
_Static_assert(sizeof(struct guest_statx) == 256, "struct statx is 256 bytes");

void stat_for_guest(const struct stat *st, struct stat *out) {
  memset(out, 0, sizeof *out);
  out->st_dev = st->st_dev;
  out->st_ino = st->st_ino;
  out->st_nlink = st->st_nlink;
  out->st_mode = st->st_mode;
  out->st_uid = st->st_uid;
  out->st_gid = st->st_gid;
  out->st_rdev = st->st_rdev;
  out->st_size = st->st_size;
  out->st_blksize = st->st_blksize;
  out->st_blocks = st->st_blocks;
  out->st_atim = st->st_atim;
  out->st_mtim = st->st_mtim;
  out->st_ctim = st->st_ctim;
}

static struct guest_statx_timestamp stx_time(struct timespec ts) {
  return (struct guest_statx_timestamp){.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
}

void statx_for_guest(const struct stat *st, struct guest_statx *out) {
  memset(out, 0, sizeof *out);
  out->stx_mask = GUEST_STATX_BASIC_STATS;
  out->stx_blksize = (uint32_t)st->st_blksize;
  out->stx_nlink = (uint32_t)st->st_nlink;
  out->stx_uid = st->st_uid;
  out->stx_gid = st->st_gid;
  out->stx_mode = (uint16_t)st->st_mode;
  out->stx_ino = st->st_ino;
  out->stx_size = (uint64_t)st->st_size;
  out->stx_blocks = (uint64_t)st->st_blocks;
  out->stx_atime = stx_time(st->st_atim);
  out->stx_ctime = stx_time(st->st_ctim);
  out->stx_mtime = stx_time(st->st_mtim);
  out->stx_rdev_major = major(st->st_rdev);
  out->stx_rdev_minor = minor(st->st_rdev);
  out->stx_dev_major = major(st->st_dev);
  out->stx_dev_minor = minor(st->st_dev);
}
