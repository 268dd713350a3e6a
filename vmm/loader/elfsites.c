/* elfsites.c - syscall sites of a freshly loaded ELF image (see
 * elfsites.h): the file's list of site offsets, applied to each executable
 * segment where it was loaded. */
#include "loader/elfsites.h"

#include <elf.h>

#include "loader/loadfile.h"
#include "loader/rewrite.h"
#include "loader/sitecache.h"
#include "log.h"
#include "vm.h"

size_t elfsites_rewrite(struct vm *vm, const struct load_file *lf, const struct elf_info *info,
                        uint64_t bias) {
  if (vm->cfg->no_rewrite)
    return 0;
  const struct file_sites *sites = sitecache_file_sites(vm, lf->file, lf->path);
  if (!sites)
    return 0;
  size_t done = 0;
  for (size_t i = 0; i < info->nload; i++) {
    const struct elf_segment *s = &info->load[i];
    if (s->flags & PF_X)
      done += rewrite_file_range(vm, sites->v, sites->n, s->offset, s->filesz, s->vaddr + bias);
  }
  vlog(VLOG_INFO, "%s: %zu syscall sites, %zu rewritten", lf->path, sites->n, done);
  return done;
}
