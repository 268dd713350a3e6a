/* elfdeps.c - PT_INTERP, DT_NEEDED and DT_RUNPATH of an ELF file (see
 * elfdeps.h). */
#include "elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "loader/elf.h"

bool elfdeps_is_elf(const uint8_t *buf, size_t len) {
  return len >= 4 && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

static int reject(const char **why, const char *what) {
  *why = what;
  return -ENOEXEC;
}

/* The file range of PT_DYNAMIC, or [0, 0) when there is none. */
static int find_dynamic(const uint8_t *file, size_t len, const struct elf_info *info, uint64_t *off,
                        uint64_t *size, const char **why) {
  *off = *size = 0;
  for (size_t i = 0; i < info->phnum; i++) {
    Elf64_Phdr ph;
    memcpy(&ph, file + info->phoff + i * ELF_PHENT_SIZE, sizeof ph);
    if (ph.p_type != PT_DYNAMIC)
      continue;
    if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
      return reject(why, "PT_DYNAMIC past the end of the file");
    *off = ph.p_offset;
    *size = ph.p_filesz;
    return 0;
  }
  return 0;
}

struct strtab {
  const char *base;
  uint64_t size;
};

/* The string at offset `at` of the string table, NUL-terminated inside it. */
static const char *string_at(const struct strtab *t, uint64_t at) {
  if (!t->base || at >= t->size)
    return NULL;
  const char *s = t->base + at;
  size_t max = (size_t)(t->size - at);
  if (max > ELFDEPS_MAX_STRING)
    max = ELFDEPS_MAX_STRING;
  return memchr(s, '\0', max) ? s : NULL;
}

static int add_needed(struct elf_deps *out, const char *name, const char **why) {
  if (!name)
    return reject(why, "a DT_NEEDED name outside the string table");
  if (out->nneeded == ELFDEPS_MAX_NEEDED)
    return reject(why, "too many DT_NEEDED entries");
  out->needed[out->nneeded++] = name;
  return 0;
}

static int locate_strtab(const uint8_t *file, const struct elf_info *info, uint64_t vaddr,
                         uint64_t size, struct strtab *t, const char **why) {
  const struct elf_segment *seg = elf_segment_at(info, vaddr);
  if (!seg || vaddr - seg->vaddr > seg->filesz || size > seg->filesz - (vaddr - seg->vaddr))
    return reject(why, "DT_STRTAB outside the file's segments");
  t->base = (const char *)file + seg->offset + (vaddr - seg->vaddr);
  t->size = size;
  return 0;
}

/* Two passes over the dynamic entries: the string table first, then the
 * strings it holds. */
static int read_dynamic(const uint8_t *file, const struct elf_info *info, uint64_t off,
                        uint64_t size, struct elf_deps *out, const char **why) {
  uint64_t strtab = 0, strsz = 0, rpath = UINT64_MAX, runpath = UINT64_MAX;
  size_t n = (size_t)(size / sizeof(Elf64_Dyn));
  for (size_t i = 0; i < n; i++) {
    Elf64_Dyn d;
    memcpy(&d, file + off + i * sizeof d, sizeof d);
    if (d.d_tag == DT_NULL)
      break;
    if (d.d_tag == DT_STRTAB)
      strtab = d.d_un.d_ptr;
    else if (d.d_tag == DT_STRSZ)
      strsz = d.d_un.d_val;
  }
  struct strtab t = {0};
  int rc = strtab ? locate_strtab(file, info, strtab, strsz, &t, why) : 0;
  for (size_t i = 0; !rc && i < n; i++) {
    Elf64_Dyn d;
    memcpy(&d, file + off + i * sizeof d, sizeof d);
    if (d.d_tag == DT_NULL)
      break;
    switch (d.d_tag) {
    case DT_RPATH:
      rpath = d.d_un.d_val;
      break;
    case DT_RUNPATH:
      runpath = d.d_un.d_val;
      break;
    case DT_NEEDED:
      rc = add_needed(out, string_at(&t, d.d_un.d_val), why);
      break;
    }
  }
  if (!rc)
    out->runpath = string_at(&t, runpath != UINT64_MAX ? runpath : rpath);
  return rc;
}

int elfdeps_read(const uint8_t *file, size_t len, struct elf_deps *out, const char **why) {
  struct elf_info info;
  memset(out, 0, sizeof *out);
  int rc = elf_parse_mapped(file, len, len, &info, why);
  if (rc)
    return rc;
  if (info.interp.present) {
    const char *p = (const char *)file + info.interp.offset;
    if ((rc = elf_check_interp(p, (size_t)info.interp.filesz, why)))
      return rc;
    out->interp = p;
  }
  uint64_t off, size;
  if ((rc = find_dynamic(file, len, &info, &off, &size, why)) || size == 0)
    return rc;
  return read_dynamic(file, &info, off, size, out, why);
}
