/* load_check.h - what the loader tests check after load_program succeeded,
 * whatever stands behind guest memory (fakes or the real vmm/mem): every
 * PT_LOAD byte for byte against the file with only `syscall` -> `out` site
 * changes, zero after p_filesz, each page's protection and kind, the
 * initial stack and auxv, the program break and the stack layout. Guest
 * memory is read with uaccess_copy_from. */
#ifndef HEARTH_TESTS_LOAD_CHECK_H
#define HEARTH_TESTS_LOAD_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "loader/load.h"
#include "mem/vma.h"

struct vm;

/* The mapping of the page at `addr`: false when unmapped. */
typedef bool (*load_check_mapping_fn)(struct vm *vm, uint64_t addr, int *prot, enum vma_kind *kind);

/* Checks the VM after load_program(vm, lr) returned 0 for the host file
 * `host`, with vm->cfg's argv and env. Returns the number of rewritten
 * sites seen in memory (equal to vm->stats.sites_rewritten, checked). */
uint64_t load_check_program(struct vm *vm, const struct load_result *lr, const char *host,
                            load_check_mapping_fn mapping);

#endif
