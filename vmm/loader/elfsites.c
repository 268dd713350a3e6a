/* elfsites.c - syscall sites of a freshly loaded ELF image (see
 * elfsites.h): FDE ranges from the file's `.eh_frame`, decoded over the
 * code bytes already in guest memory, rewritten in place. */
#include "loader/elfsites.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>

#include "loader/ehframe.h"
#include "loader/loadfile.h"
#include "loader/rewrite.h"
#include "loader/sites.h"
#include "loader/symfuncs.h"
#include "log.h"
#include "mem/uaccess.h"
#include "vm.h"

#define EH_FRAME_HDR_HEAD 16u /* version, encodings and eh_frame_ptr */

/* Reads the section headers and their name table, and finds .eh_frame. */
static int find_section(const struct load_file *lf, const struct elf_info *info,
                        struct ehframe_section *sec) {
  if (!info->has_sections || info->shnum > EHFRAME_MAX_SHNUM)
    return -ENOENT;
  uint8_t *shdrs = NULL, *names = NULL;
  struct ehframe_section strtab;
  int err = load_file_read_alloc(lf, info->shoff, (size_t)info->shnum * ELF_SHENT_SIZE, &shdrs);
  if (!err)
    err = ehframe_shstrtab(shdrs, info->shnum, info->shstrndx, lf->size, &strtab);
  if (!err)
    err = load_file_read_alloc(lf, strtab.offset, (size_t)strtab.size, &names);
  if (!err)
    err = ehframe_find_section(shdrs, info->shnum, (const char *)names, (size_t)strtab.size,
                               lf->size, ".eh_frame", sec);
  free(names);
  free(shdrs);
  return err;
}

/* Without section headers: .eh_frame_hdr points at .eh_frame, which runs
 * to its zero terminator or the end of its segment's file bytes. */
static int find_through_hdr(const struct load_file *lf, const struct elf_info *info,
                            struct ehframe_section *sec) {
  const struct elf_extent *hdr = &info->eh_frame_hdr;
  uint8_t head[EH_FRAME_HDR_HEAD];
  size_t n = hdr->filesz < sizeof head ? (size_t)hdr->filesz : sizeof head;
  uint64_t target;
  if (!hdr->present || load_file_read(lf, head, n, hdr->offset) ||
      ehframe_hdr_target(head, n, hdr->vaddr, &target))
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

static int load_fdes(const struct load_file *lf, const struct elf_info *info,
                     struct ehframe_fdes *fdes) {
  struct ehframe_section sec;
  if (find_section(lf, info, &sec) && find_through_hdr(lf, info, &sec)) {
    vlog(VLOG_INFO, "%s: no .eh_frame: its syscalls take the LSTAR path", lf->path);
    return -ENOENT;
  }
  uint8_t *buf = NULL;
  int err = load_file_read_alloc(lf, sec.offset, (size_t)sec.size, &buf);
  if (!err)
    err = ehframe_parse(buf, (size_t)sec.size, sec.addr, fdes);
  free(buf);
  if (!err && fdes->why)
    vlog(VLOG_INFO, "%s: .eh_frame parsed partially: %s", lf->path, fdes->why);
  return err;
}

/* Adds the function symbols of .symtab, where there is one, to the ranges
 * to decode: functions without unwind information (musl's libc) then still
 * get their sites rewritten. */
static void load_symfuncs(const struct load_file *lf, const struct elf_info *info,
                          struct ehframe_fdes *fdes) {
  if (!info->has_sections || info->shnum > EHFRAME_MAX_SHNUM)
    return;
  uint8_t *shdrs = NULL, *syms = NULL;
  struct ehframe_section symtab;
  long added = -1;
  if (!load_file_read_alloc(lf, info->shoff, (size_t)info->shnum * ELF_SHENT_SIZE, &shdrs) &&
      !symfuncs_find_symtab(shdrs, info->shnum, lf->size, &symtab) &&
      !load_file_read_alloc(lf, symtab.offset, (size_t)symtab.size, &syms))
    added = symfuncs_append(syms, (size_t)symtab.size, fdes);
  if (added > 0)
    vlog(VLOG_DEBUG, "%s: %ld functions without an FDE added from .symtab", lf->path, added);
  free(syms);
  free(shdrs);
}

/* Decodes one executable segment. The guest has not run yet, so its bytes
 * are read in place when the segment is contiguous in host memory (the
 * usual case: data pages are allocated in order); otherwise copied out. */
static int scan_segment(struct vm *vm, const struct elf_segment *s, uint64_t bias,
                        const struct ehframe_fdes *fdes, struct site_list *sites,
                        struct sites_stats *st) {
  if (s->filesz == 0 || s->filesz > ELFSITES_MAX_CODE)
    return 0;
  const uint8_t *in_place = uaccess_ptr(&vm->mem, s->vaddr + bias, (size_t)s->filesz, false);
  if (in_place)
    return sites_find(in_place, (size_t)s->filesz, s->vaddr, fdes->v, fdes->n, sites, st);
  uint8_t *code = malloc((size_t)s->filesz);
  if (!code)
    return -ENOMEM;
  int err = uaccess_copy_from(&vm->mem, code, s->vaddr + bias, (size_t)s->filesz);
  if (!err)
    err = sites_find(code, (size_t)s->filesz, s->vaddr, fdes->v, fdes->n, sites, st);
  free(code);
  return err;
}

size_t elfsites_rewrite(struct vm *vm, const struct load_file *lf, const struct elf_info *info,
                        uint64_t bias) {
  struct ehframe_fdes fdes = {0};
  struct site_list sites = {0};
  struct sites_stats st = {0};
  size_t done = 0;
  if (vm->cfg->no_rewrite)
    goto out;
  load_fdes(lf, info, &fdes);
  load_symfuncs(lf, info, &fdes);
  if (fdes.n == 0)
    goto out;
  for (size_t i = 0; i < info->nload; i++) {
    if (!(info->load[i].flags & PF_X))
      continue;
    int err = scan_segment(vm, &info->load[i], bias, &fdes, &sites, &st);
    if (err)
      vlog(VLOG_WARN, "%s: syscall sites not all found (%d): the rest take the LSTAR path",
           lf->path, err);
  }
  done = rewrite_sites(vm, sites.v, sites.n, bias);
  vlog(VLOG_INFO,
       "%s: %zu functions (%zu decoded, %zu cut short), %zu syscall sites, %zu rewritten%s",
       lf->path, fdes.n, st.fdes_scanned, st.decode_failures, sites.n, done,
       st.capped ? " (site cap reached)" : "");
out:
  site_list_free(&sites);
  ehframe_fdes_free(&fdes);
  return done;
}
