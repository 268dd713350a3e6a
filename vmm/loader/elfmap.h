/* elfmap.h - places one ELF image (the program, or later its interpreter)
 * into the guest at a chosen bias: reads and validates its headers, maps
 * each PT_LOAD, copies the file bytes in (the rest of every page is zero),
 * rewrites its syscall sites, then gives each segment its final
 * protection. */
#ifndef HEARTH_VMM_LOADER_ELFMAP_H
#define HEARTH_VMM_LOADER_ELFMAP_H

#include <stdint.h>

#include "loader/elf.h"

struct vm;
struct load_file;

/* Where an image ended up (all addresses biased). */
struct elf_placed {
  uint64_t bias;
  uint64_t entry;
  uint64_t phdr;       /* AT_PHDR */
  uint64_t start, end; /* page-aligned span of its segments */
};

/* Reads the file header and program headers of lf and validates them into
 * *info. Logs the reason and returns -ENOEXEC for an unusable ELF, or -EIO. */
int elfmap_read_headers(const struct load_file *lf, struct elf_info *info);

/* Reads and checks the PT_INTERP path of lf into buf (ELF_INTERP_MAX
 * bytes). -ENOEXEC (logged) or -EIO. */
int elfmap_read_interp(const struct load_file *lf, const struct elf_info *info, char *buf);

/* Loads every PT_LOAD of info at link-time address + bias (bias page-
 * aligned; the caller has checked the biased span lies in user space and
 * free). Rewrites syscall sites unless vm->cfg->no_rewrite. -ENOMEM (guest
 * memory or mappings ran out), -EIO, -EFAULT; logged. Mappings already made
 * stay on failure: the VM is not started then. */
int elfmap_load(struct vm *vm, const struct load_file *lf, const struct elf_info *info,
                uint64_t bias, struct elf_placed *out);

#endif
