/* elfsites.h - finds and rewrites the `syscall` sites of an ELF image just
 * copied into guest memory: its FDE ranges come from `.eh_frame` (located
 * through the section headers, or through PT_GNU_EH_FRAME when there are
 * none), its code bytes from guest memory. Rewriting is an optimisation
 * (the LSTAR stub catches any `syscall` left), so nothing here fails a
 * load: problems are logged and leave the sites alone. */
#ifndef HEARTH_VMM_LOADER_ELFSITES_H
#define HEARTH_VMM_LOADER_ELFSITES_H

#include <stddef.h>
#include <stdint.h>

#include "loader/elf.h"

struct vm;
struct load_file;

#define ELFSITES_MAX_CODE (512ULL << 20) /* executable segment bytes we decode */

/* Rewrites the sites of lf's executable segments, loaded at bias and still
 * writable. Returns the number rewritten (0 when vm->cfg->no_rewrite). */
size_t elfsites_rewrite(struct vm *vm, const struct load_file *lf, const struct elf_info *info,
                        uint64_t bias);

#endif
