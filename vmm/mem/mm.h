/* mm.h - the guest's address-space operations, shared by the mmap family of
 * system calls and the ELF loader: a mapping is a vma (what the program may
 * use) plus populated page-table entries (what the CPU can reach). */
#ifndef HEARTH_VMM_MM_H
#define HEARTH_VMM_MM_H

#include <stdint.h>

#include "vma.h"

struct vm;

/* Maps [addr, addr+len) anonymous and zero-filled, replacing whatever was
 * there. addr and len page-aligned, inside the user range. PROT_NONE ranges
 * get no pages. -ENOMEM when guest memory or mapping slots run out. */
int mm_map_fixed(struct vm *vm, uint64_t addr, uint64_t len, int prot, int flags,
                 enum vma_kind kind);

/* Finds room for `len` bytes below the mmap top; 0 when none. */
uint64_t mm_find_free(struct vm *vm, uint64_t len);

int mm_unmap(struct vm *vm, uint64_t addr, uint64_t len);

/* MADV_DONTNEED's part: the pages of [addr, addr+len) are zeroed (their host
 * memory given back) and keep the access `prot` grants; the mappings stay
 * as they are. -ENOMEM when pages `prot` grants run out. */
int mm_discard(struct vm *vm, uint64_t addr, uint64_t len, int prot);
int mm_protect(struct vm *vm, uint64_t addr, uint64_t len, int prot);

#endif
