/* restore.c - vm_restore (restore.h). vm_create's teardown table is reused:
 * each piece built here marks its step done, so vm_destroy undoes a
 * restored VM, or a half-restored one, exactly as a started one. */
#include "snapshot/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/vsock.h"
#include "snapshot/memfile.h"
#include "snapshot/snap_files.h"
#include "snapshot/snap_sections.h"
#include "vdso/vdso.h"
#include "vm.h"

static int restore_config(const struct snap_file *f, struct snap_config *store,
                          const struct vm_restore_args *args, char *err, size_t errlen) {
  struct snap_cursor c;
  int rc = snap_file_section(f, SNAP_SEC_CONFIG, &c);
  if (rc == 0)
    rc = snap_load_config(&c, store);
  if (rc < 0) {
    snprintf(err, errlen, "restore: the config section is %s",
             rc == -ENOENT ? "missing" : "malformed");
    return rc;
  }
  if (args->vsock_uds)
    store->cfg.vsock_uds = args->vsock_uds;
  if (args->vsock_cid)
    store->cfg.vsock_cid = args->vsock_cid;
  store->cfg.ready_fd = args->ready_fd;
  return 0;
}

/* Guest memory from the memory file, vsock's bridge, KVM, and the empty
 * address space, signal state and vfs the sections fill in. */
static int restore_machine(struct vm *vm, int dirfd, char *err, size_t errlen) {
  const struct vm_config *cfg = vm->cfg;
  int rc = memfile_map(&vm->mem, dirfd, cfg->mem_bytes, cfg->guest_pages);
  const char *what = SNAP_MEMORY_FILE;
  if (rc == 0) {
    vm_mark_step_done(vm, "guest memory");
    what = "vsock";
    rc = vsock_init(vm);
  }
  if (rc == 0) {
    vm_mark_step_done(vm, "vsock");
    what = "kvm";
    rc = vkvm_create(&vm->kvm, &vm->mem);
  }
  if (rc == 0) {
    vm_mark_step_done(vm, "kvm");
    vma_space_init(&vm->vmas);
    sig_state_init(&vm->sig);
    vm_mark_step_done(vm, "program"); /* its undo: the mappings the mm section makes */
    what = "files";
    rc = vm_create_vfs(vm);
    vm_mark_step_done(vm, "files"); /* undoes a half-made vfs too */
  }
  if (rc < 0)
    snprintf(err, errlen, "restore: %s: %s", what,
             rc == -EBADMSG ? "does not match the state file" : strerror(-rc));
  return rc;
}

static const char *restore_reason(const struct snap_section_part *p, int rc) {
  if (p->type == SNAP_SEC_FILES && snap_files_reason()[0])
    return snap_files_reason();
  return rc == -EBADMSG ? "malformed" : strerror(-rc);
}

static int restore_sections(struct vm *vm, const struct snap_file *f, char *err, size_t errlen) {
  for (size_t i = 0; i < snap_section_parts_count; i++) {
    const struct snap_section_part *p = &snap_section_parts[i];
    struct snap_cursor c;
    if (snap_file_section(f, p->type, &c) < 0) {
      snprintf(err, errlen, "restore: the snapshot has no %s section", p->name);
      return -EBADMSG;
    }
    int rc = p->load(vm, &c);
    if (rc < 0) {
      snprintf(err, errlen, "restore: the %s section is refused: %s", p->name,
               restore_reason(p, rc));
      return rc;
    }
  }
  return 0;
}

static int restore_from(struct vm *vm, int dirfd, struct snap_config *store,
                        const struct vm_restore_args *args, char *err, size_t errlen) {
  struct snap_file *f;
  int rc = snap_file_read(dirfd, SNAP_STATE_FILE, &f, err, errlen);
  if (rc < 0)
    return rc;
  if ((rc = restore_config(f, store, args, err, errlen)) == 0) {
    vm_reset(vm, &store->cfg);
    rc = restore_machine(vm, dirfd, err, errlen);
    if (rc == 0)
      rc = restore_sections(vm, f, err, errlen);
    if (rc == 0) {
      vdso_start(vm); /* the clock line, through the restored clock shifts */
      vm->syscall_restarted = store->restarting;
    } else {
      vm_destroy(vm);
    }
  }
  snap_file_free(f);
  return rc;
}

int vm_restore(struct vm *vm, struct snap_config *store, const struct vm_restore_args *args,
               char *err, size_t errlen) {
  err[0] = '\0';
  int dirfd = open(args->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    int rc = -errno;
    snprintf(err, errlen, "restore: %s: %s", args->dir, strerror(-rc));
    return rc;
  }
  int rc = restore_from(vm, dirfd, store, args, err, errlen);
  close(dirfd);
  if (rc < 0 && !err[0])
    snprintf(err, errlen, "restore: %s", strerror(-rc));
  return rc;
}

static uint64_t hold_host_ns(clockid_t clk) {
  struct timespec t;
  clock_gettime(clk, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* MONOTONIC read before BOOTTIME here and after it at the end: the reads'
 * own time then counts against BOOTTIME's hold, so the guest's BOOTTIME -
 * MONOTONIC gap (never below 0, snap_clock.c) can only widen. */
void vm_restore_hold_begin(struct restore_hold *h) {
  h->mono = hold_host_ns(CLOCK_MONOTONIC);
  h->raw = hold_host_ns(CLOCK_MONOTONIC_RAW);
  h->boot = hold_host_ns(CLOCK_BOOTTIME);
}

/* The guest has not run since vm_restore drew its line, so it has read no
 * clock past the snapshot point: moving the shifts back by the hold cannot
 * make any of its clocks go back. */
void vm_restore_hold_end(struct vm *vm, const struct restore_hold *h) {
  struct vdso_state *s = &vm->vdso;
  s->boot_shift -= (int64_t)(hold_host_ns(CLOCK_BOOTTIME) - h->boot);
  s->raw_shift -= (int64_t)(hold_host_ns(CLOCK_MONOTONIC_RAW) - h->raw);
  s->mono_shift -= (int64_t)(hold_host_ns(CLOCK_MONOTONIC) - h->mono);
  vdso_start(vm);
}
