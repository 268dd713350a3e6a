/* symfuncs.c - function ranges from .symtab (see symfuncs.h). */
#include "loader/symfuncs.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int symfuncs_find_symtab(const uint8_t *shdrs, size_t shnum, uint64_t file_size,
                         struct ehframe_section *out) {
  for (size_t i = 0; i < shnum; i++) {
    Elf64_Shdr sh;
    memcpy(&sh, shdrs + i * sizeof sh, sizeof sh);
    if (sh.sh_type != SHT_SYMTAB)
      continue;
    if (sh.sh_offset > file_size || sh.sh_size > file_size - sh.sh_offset)
      return -ENOENT;
    if (sh.sh_size > SYMFUNCS_MAX_BYTES)
      return -EFBIG;
    *out = (struct ehframe_section){.addr = 0, .offset = sh.sh_offset, .size = sh.sh_size};
    return 0;
  }
  return -ENOENT;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorted starts of the ranges already in the list. */
static uint64_t *known_starts(const struct ehframe_fdes *l) {
  uint64_t *v = malloc((l->n ? l->n : 1) * sizeof *v);
  if (!v)
    return NULL;
  for (size_t i = 0; i < l->n; i++)
    v[i] = l->v[i].start;
  qsort(v, l->n, sizeof *v, cmp_u64);
  return v;
}

static bool is_known(const uint64_t *starts, size_t n, uint64_t start) {
  return bsearch(&start, starts, n, sizeof *starts, cmp_u64) != NULL;
}

static bool is_sized_function(const Elf64_Sym *s) {
  return ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_size > 0 && s->st_shndx != SHN_UNDEF &&
         s->st_shndx < SHN_LORESERVE;
}

long symfuncs_append(const uint8_t *syms, size_t len, struct ehframe_fdes *out) {
  size_t had = out->n;
  uint64_t *starts = known_starts(out);
  if (!starts)
    return -ENOMEM;
  long added = 0;
  for (size_t off = 0; off + sizeof(Elf64_Sym) <= len && out->n < EHFRAME_MAX_FDES;
       off += sizeof(Elf64_Sym)) {
    Elf64_Sym s;
    memcpy(&s, syms + off, sizeof s);
    if (!is_sized_function(&s) || is_known(starts, had, s.st_value))
      continue;
    if (ehframe_fdes_push(out, s.st_value, s.st_size) < 0) {
      free(starts);
      return -ENOMEM;
    }
    added++;
  }
  free(starts);
  return added;
}
