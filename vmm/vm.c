/* vm.c - building and tearing down a VM in explicit steps, and how it
 * stopped (vm.h). */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "kernel/proc_maps.h"
#include "kernel/stdio_frame.h"
#include "kvm/cpu.h"
#include "loader/load.h"
#include "loader/sitecache.h"
#include "log.h"
#include "net/vsock.h"

void vm_stop_exit(struct vm *vm, int status) {
  vm->stop = VM_STOP_EXIT;
  vm->stop_value = status & 0xff;
  stdio_frame_finish(vm); /* framed stdio: END, END, RESULT */
}

void vm_stop_signal(struct vm *vm, int sig) {
  vm->stop = VM_STOP_SIGNAL;
  vm->stop_value = sig;
  stdio_frame_finish(vm);
}

void vm_stop_error(struct vm *vm) {
  vm->stop = VM_STOP_ERROR;
  stdio_frame_finish(vm);
}

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
  int rc = gmem_init_paged(&vm->mem, vm->cfg->mem_bytes, vm->cfg->guest_pages);
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

int vm_create_vfs(struct vm *vm) {
  struct vfs_config vc = {.host_root = vm->cfg->root,
                          .tmp_max_bytes = vm->cfg->tmp_max_bytes,
                          .tmp_max_entries = 0, /* the vfs default */
                          .code_max_bytes = vm->cfg->code_max_bytes,
                          .code_max_entries = vm->cfg->code_max_entries,
                          .exe_path = vm->cfg->argv[0],
                          .fds = &vm->fds,
                          .uid = PROC_GUEST_UID,
                          .gid = PROC_GUEST_GID,
                          .maps = proc_maps_generate,
                          .maps_ctx = vm};
  fdtable_init(&vm->fds);
  return vfs_create(&vc, &vm->vfs);
}

static int step_files(struct vm *vm) {
  int rc = vm_create_vfs(vm);
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
  int rc = load_program(vm, &vm->start);
  if (rc < 0)
    return rc;
  proc_state_init(&vm->proc, vm->mm.stack_top - vm->mm.stack_bottom, vm->cfg->mem_bytes);
  return 0;
}

/* Mappings hold references on files: drop them before the files go. */
static void undo_program(struct vm *vm) { vma_space_fini(&vm->vmas); }

static int step_entry(struct vm *vm) {
  vkvm_set_entry(&vm->kvm, vm->start.entry, vm->start.sp);
  return 0;
}

static void undo_nothing(struct vm *vm) { (void)vm; }

/* Creating the KVM machine (about a millisecond of host kernel work) does
 * not need the program, and loading the program does not need KVM: the
 * loader lane runs on a second thread meanwhile. KVM_RUN stays on the
 * calling thread, which is the one that will run the vCPU (moving a vCPU
 * between threads costs KVM an RCU grace period). */
enum vm_lane { LANE_MAIN, LANE_LOADER, LANE_JOIN };

static const struct vm_step {
  const char *name;
  int (*init)(struct vm *);
  void (*fini)(struct vm *);
  enum vm_lane lane;
} vm_steps[] = {
    {"guest memory", step_memory, undo_memory, LANE_MAIN},
    {"vsock", vsock_init, vsock_fini, LANE_MAIN}, /* its sockets are closed with the files */
    {"files", step_files, undo_files, LANE_LOADER},
    {"program", step_program, undo_program, LANE_LOADER},
    {"kvm", step_kvm, undo_kvm, LANE_MAIN},
    {"entry", step_entry, undo_nothing, LANE_JOIN},
    {"vdso clock", vdso_start, undo_nothing, LANE_JOIN}, /* needs the vCPU and the vvar */
};

#define VM_STEPS (sizeof vm_steps / sizeof vm_steps[0])

struct vm_lane_run {
  struct vm *vm;
  size_t failed; /* index of the failed step, VM_STEPS when none */
  int rc;
};

/* Runs the steps of `lane` in table order, from `from`, until one fails or
 * a LANE_JOIN step is reached. Marks each success in vm->steps_done. */
static void vm_run_lane(struct vm_lane_run *r, enum vm_lane lane, size_t from) {
  r->failed = VM_STEPS;
  for (size_t i = from; i < VM_STEPS && vm_steps[i].lane != LANE_JOIN; i++) {
    if (vm_steps[i].lane != lane)
      continue;
    r->rc = vm_steps[i].init(r->vm);
    if (r->rc < 0) {
      r->failed = i;
      return;
    }
    r->vm->steps_done |= 1u << i;
  }
}

static void *vm_loader_lane(void *arg) {
  vm_run_lane(arg, LANE_LOADER, 0);
  return NULL;
}

static void vm_undo_done(struct vm *vm) {
  for (size_t j = VM_STEPS; j-- > 0;)
    if (vm->steps_done & (1u << j))
      vm_steps[j].fini(vm);
  vm->steps_done = 0;
  sitecache_destroy(vm->sitecache); /* made by whichever step mapped code first */
  vm->sitecache = NULL;
}

/* The first failure in table order decides what is reported. */
static int vm_lanes_result(const struct vm_lane_run *a, const struct vm_lane_run *b,
                           const char **failed_step) {
  const struct vm_lane_run *f = a->failed <= b->failed ? a : b;
  if (f->failed == VM_STEPS)
    return 0;
  *failed_step = vm_steps[f->failed].name;
  return f->rc;
}

static int vm_run_lanes(struct vm *vm, const char **failed_step) {
  struct vm_lane_run main_lane = {.vm = vm}, loader = {.vm = vm};
  pthread_t thread;
  bool threaded = pthread_create(&thread, NULL, vm_loader_lane, &loader) == 0;
  if (!threaded)
    vm_loader_lane(&loader);             /* no thread to be had: the same steps, in turn */
  vm_run_lane(&main_lane, LANE_MAIN, 1); /* step 0, memory, is already done */
  if (threaded)
    pthread_join(thread, NULL);
  return vm_lanes_result(&main_lane, &loader, failed_step);
}

void vm_reset(struct vm *vm, const struct vm_config *cfg) {
  memset(vm, 0, sizeof *vm);
  vm->cfg = cfg;
  vm->kvm.kvm_fd = vm->kvm.vm_fd = vm->kvm.vcpu_fd = -1;
}

int vm_mark_step_done(struct vm *vm, const char *step) {
  for (size_t i = 0; i < VM_STEPS; i++)
    if (strcmp(vm_steps[i].name, step) == 0) {
      vm->steps_done |= 1u << i;
      return 0;
    }
  return -ENOENT;
}

/* Guest memory first (both lanes need it), then the two lanes, then the
 * join steps. */
int vm_create(struct vm *vm, const struct vm_config *cfg, const char **failed_step) {
  vm_reset(vm, cfg);
  int rc = step_memory(vm);
  if (rc < 0) {
    *failed_step = vm_steps[0].name;
    return rc;
  }
  vm->steps_done = 1u;
  rc = vm_run_lanes(vm, failed_step);
  for (size_t i = 0; rc == 0 && i < VM_STEPS; i++) {
    if (vm_steps[i].lane != LANE_JOIN)
      continue;
    if ((rc = vm_steps[i].init(vm)) < 0)
      *failed_step = vm_steps[i].name;
    else
      vm->steps_done |= 1u << i;
  }
  if (rc < 0)
    vm_undo_done(vm);
  return rc;
}

void vm_destroy(struct vm *vm) {
  stdio_frame_finish(vm); /* a timeout's (no-op when already finished) */
  vm_undo_done(vm);
}
