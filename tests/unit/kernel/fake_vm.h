/* fake_vm.h - a struct vm for unit tests of the guest kernel: real guest
 * memory and page tables (gmem.c, uaccess.c), a kvm_run holding the synced
 * registers, initialised process and signal state, and no KVM. The VM's
 * stop functions (vm.c) are replaced by ones with the same effect. */
#ifndef HEARTH_TEST_FAKE_VM_H
#define HEARTH_TEST_FAKE_VM_H

#include <stdint.h>

#include "vm.h"

#define TEST_VM_MEM (16ULL << 20)
#define TEST_VM_STACK_SIZE (256ULL << 10)

/* A fresh VM (asserts on failure); free with test_vm_free. */
struct vm *test_vm_new(void);
void test_vm_free(struct vm *vm);

/* Maps [gva, gva+len) (page-aligned) with GMEM_ACC_* access. */
void test_vm_map(struct vm *vm, uint64_t gva, uint64_t len, unsigned access);

#endif
