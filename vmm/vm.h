/* vm.h - one hearth microVM: the KVM machine, guest memory, and the guest
 * kernel state the VMM keeps for the single program it runs (address space,
 * files, signals, process identity). Everything in vmm/kernel works on a
 * struct vm. */
#ifndef HEARTH_VMM_VM_H
#define HEARTH_VMM_VM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/fdtable.h"
#include "kernel/signal.h"
#include "kvm/kvm.h"
#include "loader/load.h"
#include "mem/gmem.h"
#include "mem/vma.h"
#include "vdso/vdso.h"

struct vfs;
struct sitecache;
struct vsock_state;
struct stdio_frame;
struct api;

struct vm_config {
  uint64_t mem_bytes;
  const char *root; /* host directory shown as the guest's "/", or NULL */
  const char *cwd;  /* guest working directory, default "/" */
  char **env;       /* the guest's environment, NULL-terminated */
  char **argv;      /* argv[0] is the program's guest path */
  unsigned timeout_s;
  FILE *trace;     /* --trace-syscalls destination, or NULL */
  bool no_rewrite; /* leave `syscall` instructions alone (LSTAR path only) */
  bool no_vdso;    /* no vDSO: every clock read is a system call (--no-vdso) */
  /* Host directory of the syscall-site cache shared across VMs, or NULL
   * for none (loader/sitecache.h). */
  const char *site_cache_dir;
  uint64_t tmp_max_bytes;
  enum gmem_pages guest_pages; /* --guest-pages: 4 KiB or 2 MiB user pages */
  uint64_t code_max_bytes;     /* /code: file data cap (--code-size) */
  uint64_t code_max_entries;   /* /code: files and directories (--code-files) */
  /* vsock (net/vsock.h): the guest's CID, and the host Unix socket path of
   * Firecracker's convention (NULL: the guest can listen and connect to
   * itself only). */
  uint32_t vsock_cid;
  const char *vsock_uds;
  /* --ready-fd: "ready\n" is written here (then closed) the first time the
   * guest waits in accept() on a listening vsock socket; -1 for none. */
  int ready_fd;
  /* --image/--trust/--state-dir (vmm/image.h): a signed image verified and
   * unpacked into the state dir's cache, used as the root. */
  const char *image_dir;
  const char *trust_dir;
  const char *state_dir;
  /* The verified image's manifest hash (hex, NUL-terminated; "" without
   * --image): a snapshot's open image files are tied to it. */
  char image_manifest_hash[65];
};

/* Why the VM stopped; turned into hearth-vmm's exit status. */
enum vm_stop {
  VM_RUNNING,
  VM_STOP_EXIT,    /* exit_group(status) */
  VM_STOP_SIGNAL,  /* killed by a signal's default action */
  VM_STOP_TIMEOUT, /* --timeout */
  VM_STOP_ERROR,   /* the VMM failed */
};

struct vm_mm {
  uint64_t brk_start, brk, brk_limit; /* program break and how far it may go */
  uint64_t mmap_top;                  /* mmaps are placed below this */
  uint64_t stack_top, stack_bottom;
  uint64_t load_bias; /* of the main executable */
};

struct vm_proc {
  int pid, tid;
  uint64_t clear_child_tid, robust_list, robust_len;
  uint64_t rlim_cur[16], rlim_max[16]; /* indexed by RLIMIT_* */
  uint8_t random[16];                  /* AT_RANDOM bytes */
  uint64_t start_ns;                   /* CLOCK_MONOTONIC at start: sysinfo's uptime */
};

/* Counted system calls by number: numbers at or above this are counted
 * together in syscalls_other. */
#define VM_STATS_SYSCALL_NRS 512

struct vm_stats {
  uint64_t exits, syscalls, lstar_syscalls, sites_rewritten;
  /* Exits by kind (run.c): system calls through a rewritten site or the
   * LSTAR stub are syscalls/lstar_syscalls; kicks are KVM_RUN calls a
   * control request or --timeout interrupted. */
  uint64_t exits_shutdown, exits_other, kicks;
  uint64_t syscalls_by_nr[VM_STATS_SYSCALL_NRS], syscalls_other;
};

struct vm {
  const struct vm_config *cfg;
  struct vkvm kvm;
  struct gmem mem;
  struct vma_space vmas;
  struct vm_mm mm;
  struct fdtable fds;
  struct vfs *vfs;
  struct sig_state sig;
  struct vm_proc proc;
  struct vm_stats stats;
  struct vdso_state vdso; /* the guest vDSO and its clock (vdso/vdso.h) */
  /* AF_VSOCK sockets and the host bridge (net/vsock.h). */
  struct vsock_state *vsock;
  /* Framed stdio in progress, from its ioctl to the guest's end
   * (kernel/stdio_frame.h), or NULL. */
  struct stdio_frame *frame;
  /* The syscall sites of files mapped executable (loader/sitecache.h),
   * made on first use. */
  struct sitecache *sitecache;
  struct load_result start; /* where the program starts */
  unsigned steps_done;      /* bit i: vm_create's step i succeeded */
  /* Set by a system call that replaced every register (execve): the run
   * loop must not apply the usual system call return. */
  bool regs_replaced;
  enum vm_stop stop;
  int stop_value; /* exit status or signal number */
  /* "The VMM wants the vCPU back": set by --timeout's signal handler and by
   * a control request (api/api.h). It is the stop flag every blocking wait
   * of the guest gets (fs/wait.h); the run loop clears it once served. */
  volatile sig_atomic_t vcpu_wanted;
  volatile sig_atomic_t timed_out; /* --timeout expired: the VM stops */
  /* Set by the run loop when a system call was cut short by a control
   * request and will be made again (run.c, "restart rule"). */
  bool syscall_restarted;
  struct api *api; /* the control socket (--api-sock), or NULL */
};

/* Ends the guest: exit_group(status). */
void vm_stop_exit(struct vm *vm, int status);
/* Ends the guest as killed by `sig` (status 128+sig). */
void vm_stop_signal(struct vm *vm, int sig);
/* Ends the VM because the VMM itself failed (status 125). */
void vm_stop_error(struct vm *vm);
/* hearth-vmm's exit status for how the VM stopped. */
int vm_exit_status(const struct vm *vm);

#endif

/* Builds the VM for cfg — guest memory; then KVM on this thread while the
 * files and the program are set up on a second one; then the entry point —
 * and leaves it ready to run on this thread. On failure undoes the steps that succeeded, logs
 * the failed step, and returns its negative errno; *failed_step names it
 * ("program" errors: -ENOENT not found, -ENOEXEC/-EACCES not executable). */
int vm_create(struct vm *vm, const struct vm_config *cfg, const char **failed_step);
void vm_destroy(struct vm *vm);

/* For a restore (snapshot/restore.h), which rebuilds a VM from a snapshot
 * instead of vm_create's steps: */
/* An empty VM over cfg, nothing built. */
void vm_reset(struct vm *vm, const struct vm_config *cfg);
/* The empty fd table and the vfs of cfg (root, /tmp and /code caps), with
 * no cwd change and no stdio: vm_create's "files" step, minus those. */
int vm_create_vfs(struct vm *vm);
/* Marks vm_create's step `step` ("guest memory", "vsock", "files",
 * "program", "kvm") as built, so vm_destroy undoes it. 0 or -ENOENT. */
int vm_mark_step_done(struct vm *vm, const char *step);
