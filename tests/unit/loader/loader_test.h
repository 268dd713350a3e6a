/* loader_test.h - helpers shared by the loader's unit tests: the real
 * static programs built by CMakeLists.txt, whole-file reads, objdump's site
 * lists, and a small byte builder for hand-made ELF and .eh_frame data. */
#ifndef HEARTH_TESTS_LOADER_TEST_H
#define HEARTH_TESTS_LOADER_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/ehframe.h"
#include "loader/elf.h"

#ifdef LOADER_TEST_PROGS
static const char *const loader_test_progs[] = {LOADER_TEST_PROGS};
#define LOADER_TEST_NPROGS (sizeof loader_test_progs / sizeof loader_test_progs[0])
#endif

/* The whole of a host file, or NULL. Free with free(). */
static inline uint8_t *lt_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  uint8_t *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && (fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)n, f) != (size_t)n)) {
      free(buf);
      buf = NULL;
    }
    *len = buf ? (size_t)n : 0;
  }
  fclose(f);
  return buf;
}

/* The addresses in `<prog>.sites` (objdump's syscalls), sorted as objdump
 * prints them. Returns the count, or -1. */
static inline long lt_read_objdump_sites(const char *prog, uint64_t **out) {
  char path[4096];
  snprintf(path, sizeof path, "%s.sites", prog);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = 0, cap = 0;
  uint64_t *v = NULL, a;
  while (fscanf(f, "%lx", &a) == 1) {
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      v = realloc(v, cap * sizeof *v);
      if (!v)
        break;
    }
    v[n++] = a;
  }
  fclose(f);
  *out = v;
  return v ? (long)n : -1;
}

/* The FDEs of a whole ELF file in memory, found through its section
 * headers; 0 or a negative errno. */
static inline int lt_fdes_by_section(const uint8_t *file, size_t len, const struct elf_info *info,
                                     struct ehframe_fdes *f) {
  struct ehframe_section strtab, sec;
  const uint8_t *shdrs = file + info->shoff;
  *f = (struct ehframe_fdes){0};
  if (!info->has_sections)
    return -ENOENT;
  int err = ehframe_shstrtab(shdrs, info->shnum, info->shstrndx, len, &strtab);
  if (!err)
    err = ehframe_find_section(shdrs, info->shnum, (const char *)file + strtab.offset,
                               (size_t)strtab.size, len, ".eh_frame", &sec);
  if (!err)
    err = ehframe_parse(file + sec.offset, (size_t)sec.size, sec.addr, f);
  return err;
}

/* Whether a test program is built with musl, whose libc.a has almost no
 * unwind tables (so almost no FDEs: its syscalls take the LSTAR path). */
static inline int lt_is_musl(const char *prog) { return strstr(prog, "musl") != NULL; }

/* A growing byte buffer for hand-built inputs. */
struct lt_bytes {
  uint8_t b[8192];
  size_t n;
};

static inline size_t lt_put(struct lt_bytes *o, const void *p, size_t n) {
  size_t at = o->n;
  memcpy(o->b + o->n, p, n);
  o->n += n;
  return at;
}
static inline size_t lt_u8(struct lt_bytes *o, uint8_t v) { return lt_put(o, &v, 1); }
static inline size_t lt_u16(struct lt_bytes *o, uint16_t v) { return lt_put(o, &v, 2); }
static inline size_t lt_u32(struct lt_bytes *o, uint32_t v) { return lt_put(o, &v, 4); }
static inline size_t lt_u64(struct lt_bytes *o, uint64_t v) { return lt_put(o, &v, 8); }
static inline void lt_set_u32(struct lt_bytes *o, size_t at, uint32_t v) {
  memcpy(o->b + at, &v, 4);
}
static inline size_t lt_uleb(struct lt_bytes *o, uint64_t v) {
  size_t at = o->n;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    lt_u8(o, (uint8_t)(byte | (v ? 0x80 : 0)));
  } while (v);
  return at;
}
static inline size_t lt_sleb(struct lt_bytes *o, int64_t v) {
  size_t at = o->n;
  for (;;) {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    int done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    lt_u8(o, (uint8_t)(byte | (done ? 0 : 0x80)));
    if (done)
      return at;
  }
}

#endif
