/* vdso_elf.h - reading the embedded vDSO image the way its users do: the
 * dynamic section, and versioned symbol lookups through DT_HASH (musl's
 * way) and through DT_GNU_HASH (glibc's), written here independently of
 * the image's builder so the tests check the image, not themselves. Every
 * offset is checked against the image's size; a malformed image fails the
 * calling test. */
#ifndef HEARTH_TESTS_VDSO_ELF_H
#define HEARTH_TESTS_VDSO_ELF_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

struct vdso_elf {
  const uint8_t *img;
  size_t size;
  Elf64_Ehdr eh;
  const Elf64_Phdr *load, *dynamic; /* the first PT_LOAD, PT_DYNAMIC */
  unsigned loads;                   /* how many PT_LOADs */
  uint64_t dyn[DT_NUM];             /* d_val/d_ptr of the standard tags present, else 0 */
  uint64_t versym, verdef, verdefnum, gnu_hash; /* the GNU tags */
};

/* Parses the headers and the dynamic section of img (vaddr == offset, as a
 * vDSO linked at 0 has); fails the test when they are malformed. */
void vdso_elf_open(struct vdso_elf *e, const void *img, size_t size);

/* A pointer to `len` bytes at image address `addr`; fails the test when
 * they are outside the image. */
const void *vdso_elf_at(const struct vdso_elf *e, uint64_t addr, size_t len);

/* The dynamic symbol `name` defined at version `ver`, found through DT_HASH
 * or DT_GNU_HASH; NULL when absent (or only at another version). */
const Elf64_Sym *vdso_elf_lookup_sysv(const struct vdso_elf *e, const char *name, const char *ver);
const Elf64_Sym *vdso_elf_lookup_gnu(const struct vdso_elf *e, const char *name, const char *ver);

/* The section named `name` (section headers are kept), or NULL. */
const Elf64_Shdr *vdso_elf_section(const struct vdso_elf *e, const char *name);

#endif
