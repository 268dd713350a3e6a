/* elfmap.c - puts one ELF image into guest memory (see elfmap.h).
 *
 * Each PT_LOAD gets fresh zero-filled pages, mapped writable while the
 * loader fills them: the file bytes from the start of the segment's first
 * page (as a file mapping would show them) to p_filesz; what follows
 * (the rest of the last file page, and .bss) stays zero. Once the syscall
 * sites are rewritten, each segment gets the protection its p_flags ask
 * for. */
#include "loader/elfmap.h"

#include <elf.h>
#include <errno.h>
#include <sys/mman.h>

#include "kernel/file.h"
#include "loader/elfsites.h"
#include "loader/loadfile.h"
#include "log.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "vm.h"

static uint64_t page_down(uint64_t v) { return v & GUEST_PAGE_MASK; }
static uint64_t page_up(uint64_t v) { return page_down(v + GUEST_PAGE_SIZE - 1); }

int elfmap_read_headers(const struct load_file *lf, struct elf_info *info) {
  uint8_t ehdr[ELF_EHDR_SIZE];
  uint8_t phdrs[ELF_MAX_PHNUM * ELF_PHENT_SIZE];
  const char *why = NULL;
  size_t n = lf->size < sizeof ehdr ? (size_t)lf->size : sizeof ehdr;
  int err = load_file_read(lf, ehdr, n, 0);
  if (err)
    return err;
  err = elf_parse_ehdr(ehdr, n, lf->size, info, &why);
  if (!err) {
    size_t phsize = (size_t)info->phnum * ELF_PHENT_SIZE;
    err = load_file_read(lf, phdrs, phsize, info->phoff);
    if (err)
      return err;
    err = elf_parse_phdrs(phdrs, phsize, lf->size, info, &why);
  }
  if (err == -ENOEXEC)
    vlog(VLOG_ERROR, "%s: not a usable ELF executable: %s", lf->path, why);
  return err;
}

int elfmap_read_interp(const struct load_file *lf, const struct elf_info *info, char *buf) {
  const char *why = NULL;
  size_t len = (size_t)info->interp.filesz; /* at most ELF_INTERP_MAX: elf.c */
  int err = load_file_read(lf, buf, len, info->interp.offset);
  if (err)
    return err;
  err = elf_check_interp(buf, len, &why);
  if (err)
    vlog(VLOG_ERROR, "%s: not a usable ELF executable: %s", lf->path, why);
  return err;
}

static int segment_prot(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
         ((flags & PF_X) ? PROT_EXEC : 0);
}

/* The image's guest path with symlinks resolved (what Linux's maps shows),
 * else the path it was opened by. */
static const char *image_name(const struct load_file *lf) {
  const char *path = lf->file->ops->path ? lf->file->ops->path(lf->file) : NULL;
  return path ? path : lf->path;
}

static int map_segment(struct vm *vm, const struct load_file *lf, const struct elf_segment *s,
                       uint64_t bias) {
  uint64_t va = s->vaddr + bias;
  uint64_t start = page_down(va), end = page_up(va + s->memsz);
  int err = mm_map_fixed(vm, start, end - start, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_IMAGE);
  if (err) {
    vlog(VLOG_ERROR, "%s: cannot map %llu bytes at %#llx: %s", lf->path,
         (unsigned long long)(end - start), (unsigned long long)start,
         err == -ENOMEM ? "guest memory exhausted" : "mapping failed");
    return err;
  }
  if (s->filesz == 0)
    return 0; /* all .bss: nothing from the file */
  /* va and p_offset agree modulo the page size (elf.c), so the first page
   * starts `lead` bytes before p_offset in the file. */
  uint64_t lead = va - start;
  /* /proc/self/maps shows the file's pages under its name, as Linux does. */
  err = vma_name_range(&vm->vmas, start, page_up(va + s->filesz), image_name(lf), s->offset - lead);
  if (err)
    return err;
  return load_file_read_guest(vm, lf, start, (size_t)(s->filesz + lead), s->offset - lead);
}

static int protect_segment(struct vm *vm, const struct load_file *lf, const struct elf_segment *s,
                           uint64_t bias) {
  uint64_t start = page_down(s->vaddr + bias), end = page_up(s->vaddr + bias + s->memsz);
  int err = mm_protect(vm, start, end - start, segment_prot(s->flags));
  if (err)
    vlog(VLOG_ERROR, "%s: cannot protect the segment at %#llx (%d)", lf->path,
         (unsigned long long)start, err);
  return err;
}

int elfmap_load(struct vm *vm, const struct load_file *lf, const struct elf_info *info,
                uint64_t bias, struct elf_placed *out) {
  for (size_t i = 0; i < info->nload; i++) {
    int err = map_segment(vm, lf, &info->load[i], bias);
    if (err)
      return err;
  }
  elfsites_rewrite(vm, lf, info, bias);
  for (size_t i = 0; i < info->nload; i++) {
    int err = protect_segment(vm, lf, &info->load[i], bias);
    if (err)
      return err;
  }
  *out = (struct elf_placed){
      .bias = bias,
      .entry = info->entry + bias,
      .phdr = info->phdr_vaddr + bias,
      .start = info->lo + bias,
      .end = info->hi + bias,
  };
  return 0;
}
