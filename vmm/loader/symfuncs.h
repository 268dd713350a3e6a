/* symfuncs.h - function ranges from an ELF's symbol table (.symtab): a
 * second source of function starts for code that has no unwind tables
 * (Debian's musl libc.a has no .eh_frame, so a static musl program has FDEs
 * for almost nothing). Each defined STT_FUNC symbol with a size is decoded
 * from its start over its size, exactly as an FDE is. Pure: bytes in,
 * ranges out. */
#ifndef HEARTH_VMM_LOADER_SYMFUNCS_H
#define HEARTH_VMM_LOADER_SYMFUNCS_H

#include <stddef.h>
#include <stdint.h>

#include "loader/ehframe.h"

#define SYMFUNCS_MAX_BYTES (64ULL << 20) /* largest .symtab we read */

/* The SHT_SYMTAB section of shdrs[0, shnum) (ELF64 Shdr bytes), which must
 * lie inside a file of `file_size` bytes. 0, -ENOENT (none: a stripped
 * file) or -EFBIG (larger than SYMFUNCS_MAX_BYTES). */
int symfuncs_find_symtab(const uint8_t *shdrs, size_t shnum, uint64_t file_size,
                         struct ehframe_section *out);

/* Appends a range for every defined, sized STT_FUNC symbol in the Elf64_Sym
 * array syms[0, len) whose start is not already the start of a range in
 * *out (FDEs come first), keeping at most EHFRAME_MAX_FDES ranges. Returns
 * the number added, or -ENOMEM. */
long symfuncs_append(const uint8_t *syms, size_t len, struct ehframe_fdes *out);

#endif
