/* fake_vm.c - the test VM of fake_vm.h. */
#include "fake_vm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kernel/proc.h"
#include "mem/gmem.h"

void vm_stop_exit(struct vm *vm, int status) {
  vm->stop = VM_STOP_EXIT;
  vm->stop_value = status & 0xff;
}

void vm_stop_signal(struct vm *vm, int sig) {
  vm->stop = VM_STOP_SIGNAL;
  vm->stop_value = sig;
}

void vm_stop_error(struct vm *vm) { vm->stop = VM_STOP_ERROR; }

struct vm *test_vm_new(void) {
  struct vm *vm = calloc(1, sizeof *vm);
  assert_non_null(vm);
  vm->kvm.run = calloc(1, sizeof *vm->kvm.run);
  assert_non_null(vm->kvm.run);
  vm->kvm.kvm_fd = vm->kvm.vm_fd = vm->kvm.vcpu_fd = -1;
  assert_int_equal(gmem_init(&vm->mem, TEST_VM_MEM), 0);
  sig_state_init(&vm->sig);
  proc_state_init(&vm->proc, TEST_VM_STACK_SIZE, TEST_VM_MEM);
  vm->fds.limit = FDTABLE_DEFAULT_MAX;
  vm->stop = VM_RUNNING;
  return vm;
}

void test_vm_free(struct vm *vm) {
  gmem_fini(&vm->mem);
  free(vm->kvm.run);
  free(vm);
}

void test_vm_map(struct vm *vm, uint64_t gva, uint64_t len, unsigned access) {
  assert_int_equal(gmem_populate(&vm->mem, gva, len, access, true), 0);
}
