/* snap_proc.c - the process section (snap_parts.h): identity, tid and
 * robust-list addresses, rlimits, AT_RANDOM bytes, and the start time as
 * "uptime at the snapshot", since the host's CLOCK_MONOTONIC at restore has
 * nothing to do with the one the VM started under. A load accepts only what
 * a running guest could have reached: its own pid, limits no higher than
 * hearth grants. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kernel/proc.h"
#include "mem/layout.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define ROBUST_HEAD_SIZE 24 /* struct robust_list_head: the only length set_robust_list takes */

static uint64_t host_mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int snap_save_proc(const struct vm *vm, struct snap_buf *b) {
  const struct vm_proc *p = &vm->proc;
  snap_put_u32(b, (uint32_t)p->pid);
  snap_put_u32(b, (uint32_t)p->tid);
  snap_put_u64(b, p->clear_child_tid);
  snap_put_u64(b, p->robust_list);
  snap_put_u64(b, p->robust_len);
  for (int r = 0; r < PROC_RLIMIT_COUNT; r++) {
    snap_put_u64(b, p->rlim_cur[r]);
    snap_put_u64(b, p->rlim_max[r]);
  }
  snap_put_bytes(b, p->random, sizeof p->random);
  snap_put_u64(b, host_mono_ns() - p->start_ns); /* uptime */
  return b->err;
}

/* The hard limits a fresh VM of this configuration starts with: no
 * restored limit may be above them. RLIMIT_STACK is the stack the snapshot
 * mapped (checked against the mm section, loaded first, when present). */
static void proc_ceiling(const struct vm *vm, const struct vm_proc *in, struct vm_proc *ceil) {
  uint64_t mem = vm->cfg ? vm->cfg->mem_bytes : in->rlim_max[RLIMIT_RSS];
  uint64_t stack = vm->mm.stack_top > vm->mm.stack_bottom ? vm->mm.stack_top - vm->mm.stack_bottom
                                                          : in->rlim_max[RLIMIT_STACK];
  memset(ceil, 0, sizeof *ceil);
  proc_state_init(ceil, stack, mem);
}

static int proc_check(const struct vm *vm, const struct vm_proc *p) {
  if (p->pid != PROC_GUEST_PID || p->tid != PROC_GUEST_PID)
    return -EBADMSG;
  if (p->clear_child_tid >= LAYOUT_USER_TOP || p->robust_list >= LAYOUT_USER_TOP)
    return -EBADMSG;
  if (p->robust_len != 0 && p->robust_len != ROBUST_HEAD_SIZE)
    return -EBADMSG;
  struct vm_proc ceil;
  proc_ceiling(vm, p, &ceil);
  for (int r = 0; r < PROC_RLIMIT_COUNT; r++)
    if (p->rlim_cur[r] > p->rlim_max[r] || p->rlim_max[r] > ceil.rlim_max[r])
      return -EBADMSG;
  return 0;
}

int snap_load_proc(struct vm *vm, struct snap_cursor *c) {
  struct vm_proc p = {0};
  p.pid = (int)snap_get_u32(c);
  p.tid = (int)snap_get_u32(c);
  p.clear_child_tid = snap_get_u64(c);
  p.robust_list = snap_get_u64(c);
  p.robust_len = snap_get_u64(c);
  for (int r = 0; r < PROC_RLIMIT_COUNT; r++) {
    p.rlim_cur[r] = snap_get_u64(c);
    p.rlim_max[r] = snap_get_u64(c);
  }
  const uint8_t *random = snap_get_bytes(c, sizeof p.random);
  uint64_t uptime = snap_get_u64(c);
  int rc = snap_cursor_done(c);
  if (rc < 0)
    return rc;
  if ((rc = proc_check(vm, &p)) < 0)
    return rc;
  memcpy(p.random, random, sizeof p.random);
  /* Modulo 2^64 like sysinfo's own subtraction: a host up for less time
   * than the guest still gives the guest its uptime back. */
  p.start_ns = host_mono_ns() - uptime;
  vm->proc = p;
  return 0;
}
