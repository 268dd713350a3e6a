/* tarbuild.h - a small tar writer for the extractor's tests: archives with
 * exactly the headers a test needs, hostile ones included (which no real
 * tar program would write). */
#ifndef HEARTH_TEST_TARBUILD_H
#define HEARTH_TEST_TARBUILD_H

#include <stddef.h>
#include <stdint.h>

struct tarbuild {
  uint8_t *p;
  size_t len, cap;
};

struct tb_entry {
  char type;        /* typeflag */
  const char *name; /* up to 100 bytes, or 255 split into prefix/name (POSIX) */
  const char *link; /* linkname, up to 100 bytes */
  unsigned mode;
  uint64_t size; /* the header's size field */
  int gnu;       /* GNU magic ("ustar  \0") instead of POSIX */
  int base256;   /* size field in GNU base-256 */
};

/* One header block. */
void tb_header(struct tarbuild *tb, const struct tb_entry *e);
/* len bytes of data, then zeros to the next block. */
void tb_data(struct tarbuild *tb, const void *data, size_t len);
void tb_file(struct tarbuild *tb, const char *name, const char *data, unsigned mode);
void tb_dir(struct tarbuild *tb, const char *name);
void tb_symlink(struct tarbuild *tb, const char *name, const char *target);
/* A pax header (type 'x' or 'g') holding one record key=value. */
void tb_pax(struct tarbuild *tb, char type, const char *key, const char *value);
/* A GNU long name ('L') or long link target ('K'). */
void tb_gnu_long(struct tarbuild *tb, char type, const char *value);
/* The end-of-archive marker: two zero blocks. */
void tb_end(struct tarbuild *tb);
void tb_free(struct tarbuild *tb);

#endif
