/* tarhdr.h - one 512-byte tar header block (POSIX ustar or GNU), checked
 * and split into the fields the extractor uses. Pure. */
#ifndef HEARTH_UNPACK_TARHDR_H
#define HEARTH_UNPACK_TARHDR_H

#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512

struct tar_header {
  char type;      /* typeflag: '0' file, '5' dir, 'x' pax... */
  uint32_t mode;  /* permission bits only */
  uint64_t size;  /* of the data that follows, before padding */
  char name[257]; /* POSIX: prefix "/" name; GNU: name (fields may lack a NUL) */
  size_t name_len;
  char link[101];
  size_t link_len;
};

/* Is the block all zero bytes (the end-of-archive marker)? */
int tar_block_is_zero(const uint8_t block[TAR_BLOCK]);

/* Checks magic ("ustar\0" "00" or GNU's "ustar  \0") and checksum, then
 * parses. 0, -EBADMSG (not a tar header: magic or checksum), -EINVAL (a
 * numeric field that is not a number or does not fit). */
int tar_header_parse(const uint8_t block[TAR_BLOCK], struct tar_header *h);

#endif
