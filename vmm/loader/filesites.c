/* filesites.c - syscall sites of a whole ELF file, as file offsets (see
 * filesites.h). Every range taken from the file is inside it: elf.c checks
 * the program headers and the section-header table, ehframe.c and
 * symfuncs.c the sections they return. */
#include "loader/filesites.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/ehframe.h"
#include "loader/elf.h"
#include "loader/sites.h"
#include "loader/symfuncs.h"

#define EH_FRAME_HDR_HEAD 16u /* version, encodings and eh_frame_ptr */

/* .eh_frame by name, through the section headers. */
static int section_by_name(const uint8_t *file, size_t len, const struct elf_info *info,
                           struct ehframe_section *sec) {
  if (!info->has_sections || info->shnum > EHFRAME_MAX_SHNUM)
    return -ENOENT;
  const uint8_t *shdrs = file + info->shoff;
  struct ehframe_section strtab;
  int err = ehframe_shstrtab(shdrs, info->shnum, info->shstrndx, len, &strtab);
  if (err)
    return err;
  return ehframe_find_section(shdrs, info->shnum, (const char *)file + strtab.offset,
                              (size_t)strtab.size, len, ".eh_frame", sec);
}

/* Without section headers: .eh_frame_hdr points at .eh_frame, which runs
 * to its zero terminator or the end of its segment's file bytes. */
static int section_by_hdr(const uint8_t *file, const struct elf_info *info,
                          struct ehframe_section *sec) {
  const struct elf_extent *hdr = &info->eh_frame_hdr;
  size_t n = hdr->filesz < EH_FRAME_HDR_HEAD ? (size_t)hdr->filesz : EH_FRAME_HDR_HEAD;
  uint64_t target;
  if (!hdr->present || ehframe_hdr_target(file + hdr->offset, n, hdr->vaddr, &target))
    return -ENOENT;
  const struct elf_segment *seg = elf_segment_at(info, target);
  if (!seg)
    return -ENOENT;
  uint64_t skip = target - seg->vaddr, size = seg->filesz - skip;
  *sec = (struct ehframe_section){.addr = target,
                                  .offset = seg->offset + skip,
                                  .size = size < EHFRAME_MAX_BYTES ? size : EHFRAME_MAX_BYTES};
  return 0;
}

static int add_fdes(const uint8_t *file, size_t len, const struct elf_info *info,
                    struct ehframe_fdes *fdes, struct filesites_report *rep) {
  struct ehframe_section sec;
  if (section_by_name(file, len, info, &sec) && section_by_hdr(file, info, &sec)) {
    rep->note = "no .eh_frame";
    return 0;
  }
  int err = ehframe_parse(file + sec.offset, (size_t)sec.size, sec.addr, fdes);
  if (!err && fdes->why)
    rep->note = fdes->why;
  return err;
}

/* Functions without unwind information (musl's libc) are decoded from
 * their .symtab symbols, where the file keeps one. */
static int add_symfuncs(const uint8_t *file, size_t len, const struct elf_info *info,
                        struct ehframe_fdes *fdes) {
  struct ehframe_section symtab;
  if (!info->has_sections || info->shnum > EHFRAME_MAX_SHNUM ||
      symfuncs_find_symtab(file + info->shoff, info->shnum, len, &symtab))
    return 0;
  long added = symfuncs_append(file + symtab.offset, (size_t)symtab.size, fdes);
  return added < 0 ? (int)added : 0;
}

struct offsets {
  struct file_sites *out;
  size_t cap;
  bool capped;
};

static int push_offset(struct offsets *o, uint64_t off) {
  struct file_sites *s = o->out;
  if (s->n >= SITES_MAX) {
    o->capped = true;
    return 0;
  }
  if (s->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 64;
    uint64_t *v = reallocarray(s->v, cap, sizeof *v);
    if (!v)
      return -ENOMEM;
    s->v = v;
    o->cap = cap;
  }
  s->v[s->n++] = off;
  return 0;
}

/* Decodes one executable segment's file bytes; its sites, link-time
 * addresses, become file offsets. */
static int scan_segment(const uint8_t *file, const struct elf_segment *s,
                        const struct ehframe_fdes *fdes, struct offsets *o,
                        struct sites_stats *st) {
  struct site_list found = {0};
  int err = sites_find(file + s->offset, (size_t)s->filesz, s->vaddr, fdes->v, fdes->n, &found, st);
  for (size_t i = 0; !err && i < found.n; i++)
    err = push_offset(o, found.v[i] - s->vaddr + s->offset);
  site_list_free(&found);
  return err;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Segments may share file bytes: sort, and drop what two of them found. */
static void sort_distinct(struct file_sites *s) {
  if (s->n < 2)
    return;
  qsort(s->v, s->n, sizeof *s->v, cmp_u64);
  size_t kept = 1;
  for (size_t i = 1; i < s->n; i++)
    if (s->v[i] != s->v[kept - 1])
      s->v[kept++] = s->v[i];
  s->n = kept;
}

static int scan_all(const uint8_t *file, const struct elf_info *info,
                    const struct ehframe_fdes *fdes, struct file_sites *out,
                    struct filesites_report *rep) {
  struct offsets o = {.out = out};
  struct sites_stats st = {0};
  int err = 0;
  for (size_t i = 0; !err && i < info->nload; i++)
    if ((info->load[i].flags & PF_X) && info->load[i].filesz > 0)
      err = scan_segment(file, &info->load[i], fdes, &o, &st);
  rep->decoded = st.fdes_scanned;
  rep->cut_short = st.decode_failures;
  rep->capped = st.capped || o.capped;
  sort_distinct(out);
  return err;
}

int filesites_find(const uint8_t *file, size_t len, struct file_sites *out,
                   struct filesites_report *rep, const char **why) {
  struct filesites_report ignored;
  const char *why_ignored;
  struct elf_info info;
  struct ehframe_fdes fdes = {0};
  rep = rep ? rep : &ignored;
  why = why ? why : &why_ignored;
  *rep = (struct filesites_report){0};
  *out = (struct file_sites){0};
  int err = elf_parse_mapped(file, len, len, &info, why);
  if (err)
    return err;
  err = add_fdes(file, len, &info, &fdes, rep);
  if (!err)
    err = add_symfuncs(file, len, &info, &fdes);
  rep->funcs = fdes.n;
  if (!err && fdes.n > 0)
    err = scan_all(file, &info, &fdes, out, rep);
  if (err)
    file_sites_free(out);
  ehframe_fdes_free(&fdes);
  return err;
}

int file_sites_copy(struct file_sites *dst, const struct file_sites *src) {
  *dst = (struct file_sites){0};
  if (src->n == 0)
    return 0;
  dst->v = malloc(src->n * sizeof *dst->v);
  if (!dst->v)
    return -ENOMEM;
  memcpy(dst->v, src->v, src->n * sizeof *dst->v);
  dst->n = src->n;
  return 0;
}

void file_sites_free(struct file_sites *s) {
  free(s->v);
  *s = (struct file_sites){0};
}
