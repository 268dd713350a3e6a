/* vm.c - building and tearing down a VM in explicit steps, and how it
 * stopped (vm.h). */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "kvm/cpu.h"
#include "loader/load.h"
#include "log.h"

void vm_stop_exit(struct vm *vm, int status) {
  vm->stop = VM_STOP_EXIT;
  vm->stop_value = status & 0xff;
}

void vm_stop_signal(struct vm *vm, int sig) {
  vm->stop = VM_STOP_SIGNAL;
  vm->stop_value = sig;
}

void vm_stop_error(struct vm *vm) { vm->stop = VM_STOP_ERROR; }

int vm_exit_status(const struct vm *vm) {
  switch (vm->stop) {
  case VM_STOP_EXIT:
    return vm->stop_value;
  case VM_STOP_SIGNAL:
    return 128 + vm->stop_value;
  case VM_STOP_TIMEOUT:
    return 124;
  default:
    return 125;
  }
}

static int step_memory(struct vm *vm) {
  int rc = gmem_init(&vm->mem, vm->cfg->mem_bytes);
  if (rc == 0 && (rc = cpu_build_system_pages(&vm->mem)) < 0)
    gmem_fini(&vm->mem);
  return rc;
}

static void undo_memory(struct vm *vm) { gmem_fini(&vm->mem); }

static int step_kvm(struct vm *vm) { return vkvm_create(&vm->kvm, &vm->mem); }
static void undo_kvm(struct vm *vm) { vkvm_destroy(&vm->kvm); }

static int install_stdio(struct vm *vm) {
  static const int modes[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
  for (int fd = 0; fd < 3; fd++) {
    struct file *f = vfs_host_stdio(fd, modes[fd]);
    if (!f)
      return -ENOMEM;
    int rc = fdtable_install_at(&vm->fds, fd, f, false);
    if (rc < 0) {
      file_unref(f);
      return rc;
    }
  }
  return 0;
}

static int step_files(struct vm *vm) {
  struct vfs_config vc = {.host_root = vm->cfg->root,
                          .tmp_max_bytes = vm->cfg->tmp_max_bytes,
                          .tmp_max_entries = 0, /* the vfs default */
                          .exe_path = vm->cfg->argv[0],
                          .fds = &vm->fds,
                          .uid = PROC_GUEST_UID,
                          .gid = PROC_GUEST_GID};
  fdtable_init(&vm->fds);
  int rc = vfs_create(&vc, &vm->vfs);
  if (rc < 0)
    return rc;
  if (vm->cfg->cwd && (rc = vfs_chdir(vm->vfs, vm->cfg->cwd)) < 0) {
    vlog(VLOG_ERROR, "--cwd %s: %s", vm->cfg->cwd, strerror(-rc));
    return rc;
  }
  return install_stdio(vm);
}

static void undo_files(struct vm *vm) {
  fdtable_fini(&vm->fds);
  if (vm->vfs)
    vfs_destroy(vm->vfs);
  vm->vfs = NULL;
}

static int step_program(struct vm *vm) {
  vma_space_init(&vm->vmas);
  sig_state_init(&vm->sig);
  struct load_result lr;
  int rc = load_program(vm, &lr);
  if (rc < 0)
    return rc;
  proc_state_init(&vm->proc, vm->mm.stack_top - vm->mm.stack_bottom, vm->cfg->mem_bytes);
  vkvm_set_entry(&vm->kvm, lr.entry, lr.sp);
  return 0;
}

/* Mappings hold references on files: drop them before the files go. */
static void undo_program(struct vm *vm) { vma_space_fini(&vm->vmas); }

static const struct vm_step {
  const char *name;
  int (*init)(struct vm *);
  void (*fini)(struct vm *);
} vm_steps[] = {
    {"guest memory", step_memory, undo_memory},
    {"kvm", step_kvm, undo_kvm},
    {"files", step_files, undo_files},
    {"program", step_program, undo_program},
};

#define VM_STEPS (sizeof vm_steps / sizeof vm_steps[0])

int vm_create(struct vm *vm, const struct vm_config *cfg, const char **failed_step) {
  memset(vm, 0, sizeof *vm);
  vm->cfg = cfg;
  vm->kvm.kvm_fd = vm->kvm.vm_fd = vm->kvm.vcpu_fd = -1;
  for (size_t i = 0; i < VM_STEPS; i++) {
    int rc = vm_steps[i].init(vm);
    if (rc < 0) {
      *failed_step = vm_steps[i].name;
      for (size_t j = i + 1; j-- > 0;)
        vm_steps[j].fini(vm);
      return rc;
    }
  }
  return 0;
}

void vm_destroy(struct vm *vm) {
  for (size_t j = VM_STEPS; j-- > 0;)
    vm_steps[j].fini(vm);
}
