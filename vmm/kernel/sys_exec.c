/* sys_exec.c - execve: the guest replaces its program. hearth-init uses it
 * to hand the VM to the image's runtime (python3 and the shim, or a native
 * handler) with the host connection as an inherited descriptor.
 *
 * As on Linux, everything that can fail for a reason the caller should
 * hear about is checked first, in Linux's order — the file
 * (-ENOENT, -EACCES...), the arguments (-EFAULT, -E2BIG), the format
 * (-ENOEXEC, "#!" scripts included: exec_check.h) — while the old program
 * is intact. Then comes the point of no return: close-on-exec descriptors
 * close, every mapping goes, signal handlers reset (ignored signals, the
 * blocked mask and pending signals stay), and the new program is loaded
 * into the empty address space. A failure after that point kills the
 * process (SIGSEGV), as Linux does when it cannot finish an exec. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fs/vfs.h"
#include "kernel/exec_check.h"
#include "kernel/fdtable.h"
#include "kernel/sigstate.h"
#include "kernel/syscalls.h"
#include "kernel/xsave.h"
#include "loader/load.h"
#include "log.h"
#include "mem/uaccess.h"
#include "vdso/vdso.h"
#include "vm.h"

#define EXEC_STRING_MAX (128u << 10) /* Linux's MAX_ARG_STRLEN, NUL included */
#define EXEC_TOTAL_MAX (2u << 20)    /* a quarter of the 8 MiB stack, as Linux */
#define EXEC_COUNT_MAX 65536u        /* argv and envp entries, each */
#define EXEC_ARG_COST(len) ((len) + 1 + sizeof(uint64_t)) /* a string: NUL and pointer */

/* A NULL-terminated vector of host copies of guest strings. */
struct exec_vec {
  char **v;
  size_t n;
};

static void exec_vec_free(struct exec_vec *ev) {
  for (size_t i = 0; ev->v && i < ev->n; i++)
    free(ev->v[i]);
  free(ev->v);
  ev->v = NULL;
  ev->n = 0;
}

/* The bytes argv and envp may take together, as exec_budget counts them:
 * Linux's quarter of the stack, at most EXEC_TOTAL_MAX. The new program's
 * stack is as large as the current one (the loader sizes it from the VM's
 * memory alone) and the loader refuses arguments past a quarter of it, so
 * checking here, before the point of no return, makes that -E2BIG for a
 * caller that lives on rather than a SIGSEGV. */
static size_t exec_args_max(const struct vm *vm) {
  size_t quarter = (size_t)(vm->mm.stack_top - vm->mm.stack_bottom) / 4;
  return quarter < EXEC_TOTAL_MAX ? quarter : EXEC_TOTAL_MAX;
}

/* Counts one more string of len bytes: 0, or -E2BIG past max. */
static long exec_budget(size_t *total, size_t max, size_t len) {
  *total += EXEC_ARG_COST(len);
  return *total > max ? -E2BIG : 0;
}

/* The copying of argv and envp: a scratch buffer of EXEC_STRING_MAX bytes
 * and the bytes used so far against max. */
struct exec_copy {
  struct vm *vm;
  char *scratch;
  size_t total, max;
};

/* One guest string into a fresh host copy, counted. */
static long copy_string(struct exec_copy *c, uint64_t gva, char **out) {
  long len = uaccess_strncpy_from(&c->vm->mem, c->scratch, gva, EXEC_STRING_MAX);
  if (len == -ENAMETOOLONG)
    return -E2BIG;
  if (len < 0)
    return len;
  if (exec_budget(&c->total, c->max, (size_t)len) < 0)
    return -E2BIG;
  *out = strdup(c->scratch);
  return *out ? 0 : -ENOMEM;
}

/* Makes room in ev for one more string and the NULL after it. */
static long vec_grow(struct exec_vec *ev, size_t *cap) {
  if (ev->n + 1 < *cap)
    return 0;
  *cap = *cap ? *cap * 2 : 16;
  char **v = realloc(ev->v, *cap * sizeof *v);
  if (!v)
    return -ENOMEM;
  ev->v = v;
  return 0;
}

/* Copies the guest's NULL-terminated pointer array at gva (NULL: empty, as
 * Linux takes it), at most EXEC_COUNT_MAX strings. */
static long copy_vector(struct exec_copy *c, uint64_t gva, struct exec_vec *ev) {
  size_t cap = 0;
  for (;;) {
    uint64_t ptr = 0;
    if (gva && uaccess_copy_from(&c->vm->mem, &ptr, gva + ev->n * sizeof ptr, sizeof ptr) < 0)
      return -EFAULT;
    long rc = vec_grow(ev, &cap);
    if (rc < 0)
      return rc;
    ev->v[ev->n] = NULL;
    if (!ptr)
      return 0;
    if (ev->n >= EXEC_COUNT_MAX)
      return -E2BIG;
    if ((rc = copy_string(c, ptr, &ev->v[ev->n])) < 0)
      return rc;
    ev->n++;
  }
}

/* Linux (since 5.18) runs a program given no arguments with argv[0] ""
 * rather than with argc 0, which programs do not expect. That string
 * counts too. */
static long ensure_argv0(struct exec_copy *c, struct exec_vec *argv) {
  if (argv->n > 0)
    return 0;
  if (exec_budget(&c->total, c->max, 0) < 0)
    return -E2BIG;
  char *empty = strdup("");
  if (!empty)
    return -ENOMEM;
  argv->v[0] = empty;
  argv->v[1] = NULL;
  argv->n = 1;
  return 0;
}

/* The vCPU's x87/SSE/AVX state as a new process gets it: every component
 * in its initial state. */
static int exec_reset_fpu(struct vm *vm) {
  struct kvm_xsave *x = calloc(1, sizeof *x);
  if (!x)
    return -ENOMEM;
  uint16_t fcw = 0x37f;
  uint32_t mxcsr = 0x1f80;
  memcpy((uint8_t *)x->region + XSAVE_FCW, &fcw, sizeof fcw);
  memcpy((uint8_t *)x->region + XSAVE_MXCSR, &mxcsr, sizeof mxcsr);
  int rc = xsave_write(&vm->kvm, x); /* XSTATE_BV 0: all components initial */
  free(x);
  return rc;
}

/* Drops the whole address space: every mapping and its pages. */
static void exec_drop_mappings(struct vm *vm) {
  for (size_t i = 0; i < vm->vmas.n; i++)
    gmem_release(&vm->mem, vm->vmas.v[i].start, vm->vmas.v[i].end - vm->vmas.v[i].start);
  vma_space_fini(&vm->vmas);
  vma_space_init(&vm->vmas);
  vm->vdso.live = false;
  vm->vdso.vvar = NULL;
}

/* Past the point of no return: the new program replaces the old.
 * /proc/self/exe names its canonical path. */
static int exec_replace(struct vm *vm, const char *path, const char *canonical,
                        const struct exec_vec *argv, const struct exec_vec *envp) {
  fdtable_close_on_exec(&vm->fds);
  exec_drop_mappings(vm);
  sig_state_exec(&vm->sig);
  vm->proc.clear_child_tid = vm->proc.robust_list = vm->proc.robust_len = 0;
  struct load_result start;
  int rc = load_program_args(vm, path, argv->v, envp->v, &start);
  if (rc == 0)
    rc = vfs_set_exe(vm->vfs, canonical);
  if (rc == 0)
    rc = vdso_start(vm);
  if (rc == 0)
    rc = exec_reset_fpu(vm);
  if (rc == 0)
    rc = vkvm_set_fs_base(&vm->kvm, 0);
  if (rc == 0)
    rc = vkvm_set_gs_base(&vm->kvm, 0);
  if (rc < 0)
    return rc;
  /* A fresh user context; run.c applies the RIP (and KVM's skip). */
  struct kvm_regs *r = vkvm_regs(&vm->kvm);
  memset(r, 0, sizeof *r);
  r->rip = start.entry;
  r->rsp = start.sp;
  r->rflags = RFLAGS_FIXED | RFLAGS_IOPL3;
  vkvm_regs_dirty(&vm->kvm);
  vm->regs_replaced = true;
  return 0;
}

/* The checks of Linux's order, up to the point of no return: 0 with the
 * copies made and the canonical path in *canonical, or -errno. */
static long exec_prepare(struct vm *vm, const uint64_t *a, const char *path, struct exec_vec *argv,
                         struct exec_vec *envp, char **canonical) {
  struct exec_image img;
  long rc = exec_open(vm, path, &img);
  if (rc < 0)
    return rc;
  struct exec_copy c = {.vm = vm, .scratch = malloc(EXEC_STRING_MAX), .max = exec_args_max(vm)};
  rc = c.scratch ? copy_vector(&c, a[1], argv) : -ENOMEM;
  if (rc >= 0)
    rc = copy_vector(&c, a[2], envp);
  free(c.scratch);
  if (rc >= 0)
    rc = ensure_argv0(&c, argv);
  if (rc >= 0)
    rc = exec_check_format(vm, &img);
  if (rc >= 0 && !(*canonical = exec_canonical_path(&img)))
    rc = -ENOMEM;
  exec_close(&img);
  return rc;
}

long sys_execve(struct vm *vm, const uint64_t *a) {
  char path[PATH_MAX], *canonical = NULL;
  struct exec_vec argv = {0}, envp = {0};
  long rc = uaccess_strncpy_from(&vm->mem, path, a[0], sizeof path);
  if (rc >= 0 && !path[0])
    rc = -ENOENT;
  if (rc >= 0)
    rc = exec_prepare(vm, a, path, &argv, &envp, &canonical);
  if (rc >= 0) {
    VLOG_LIMITED(VLOG_DEBUG, "execve %s (%zu args, %zu env)", path, argv.n, envp.n);
    rc = exec_replace(vm, path, canonical, &argv, &envp);
    if (rc < 0) {
      vlog(VLOG_ERROR, "execve %s failed past the point of no return (%s): SIGSEGV", path,
           strerror((int)-rc));
      vm_stop_signal(vm, SIGSEGV);
    }
  }
  free(canonical);
  exec_vec_free(&argv);
  exec_vec_free(&envp);
  return rc < 0 ? rc : 0;
}
