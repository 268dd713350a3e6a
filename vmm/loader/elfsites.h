/* elfsites.h - rewrites the `syscall` sites of an ELF image just copied
 * into guest memory (the program, or its interpreter): the file's site list
 * comes from the VM's site cache (sitecache.h: worked out once per file
 * content, kept on disk across VMs), and each executable segment gets the
 * sites in its file bytes. Rewriting is an optimisation (the LSTAR stub
 * catches any `syscall` left), so nothing here fails a load: problems are
 * logged and leave the sites alone. */
#ifndef HEARTH_VMM_LOADER_ELFSITES_H
#define HEARTH_VMM_LOADER_ELFSITES_H

#include <stddef.h>
#include <stdint.h>

#include "loader/elf.h"

struct vm;
struct load_file;

/* Rewrites the sites of lf's executable segments, loaded at bias and still
 * writable. Returns the number rewritten (0 when vm->cfg->no_rewrite). */
size_t elfsites_rewrite(struct vm *vm, const struct load_file *lf, const struct elf_info *info,
                        uint64_t bias);

#endif
