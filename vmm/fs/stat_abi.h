/* stat_abi.h - struct stat and struct statx as an x86-64 Linux program
 * receives them, built field by field into zeroed structs so that no byte
 * of VMM memory (padding, spare fields) reaches the guest. */
#ifndef HEARTH_VMM_FS_STAT_ABI_H
#define HEARTH_VMM_FS_STAT_ABI_H

#include <stdint.h>
#include <sys/stat.h>

/* struct statx_timestamp and struct statx (256 bytes). */
struct guest_statx_timestamp {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};

struct guest_statx {
  uint32_t stx_mask, stx_blksize;
  uint64_t stx_attributes;
  uint32_t stx_nlink, stx_uid, stx_gid;
  uint16_t stx_mode, spare0;
  uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
  struct guest_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
  uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
  uint64_t stx_mnt_id;
  uint32_t stx_dio_mem_align, stx_dio_offset_align;
  uint64_t spare3[12];
};

#define GUEST_STATX_BASIC_STATS 0x7ffu /* type, mode, nlink, uid, gid, times, ino, size, blocks */
#define GUEST_STATX_RESERVED 0x80000000u

/* The host is x86-64 Linux too, so struct stat is the guest's (144 bytes);
 * only the fields Linux fills are copied. */
void stat_for_guest(const struct stat *st, struct stat *out);
/* statx from a stat: the basic fields, no birth time, no attributes. */
void statx_for_guest(const struct stat *st, struct guest_statx *out);

#endif
