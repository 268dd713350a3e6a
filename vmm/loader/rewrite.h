/* rewrite.h - turns `syscall` instructions of a program (or of a file it maps) into
 * `out PORT_SYSCALL, al`: the same two bytes of length, one port-I/O exit
 * per system call instead of the slower LSTAR path (PLATFORM.md). */
#ifndef HEARTH_VMM_LOADER_REWRITE_H
#define HEARTH_VMM_LOADER_REWRITE_H

#include <stddef.h>
#include <stdint.h>

struct vm;

#define REWRITE_SYSCALL_0 0x0f /* syscall */
#define REWRITE_SYSCALL_1 0x05
#define REWRITE_OUT_IMM8 0xe6 /* out imm8, al */

/* Rewrites each of sites[0, n) (link-time addresses; the program is loaded
 * at link-time address + bias) from 0f 05 to e6 PORT_SYSCALL, through the
 * checked guest accessors: the pages must be mapped and still writable. A
 * site that no longer reads 0f 05, or cannot be accessed, is left as it is
 * (the LSTAR stub still catches it) and logged at debug level. Adds the
 * count to vm->stats.sites_rewritten and returns it. Does nothing and
 * returns 0 when vm->cfg->no_rewrite. */
size_t rewrite_sites(struct vm *vm, const uint64_t *sites, size_t n, uint64_t bias);

/* The same for sites given as file offsets (offs[0, n), sorted ascending)
 * of a file whose bytes [file_off, file_off + len) are mapped at guest
 * address `addr`: rewrites each site lying whole inside that range, at
 * addr + (offset - file_off). Checks, counting and no_rewrite as above. */
size_t rewrite_file_range(struct vm *vm, const uint64_t *offs, size_t n, uint64_t file_off,
                          uint64_t len, uint64_t addr);

#endif
