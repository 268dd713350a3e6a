/* snapshot.c - vm_snapshot (snapshot.h): a paused VM written to a
 * directory, memory.snap first and state.snap last, each through a temp
 * file and a rename, so a directory holding a state file holds the memory
 * it goes with. Each subsystem writes its own section (snap_sections.h);
 * this file decides the order, the directory and what is reported. */
#include "snapshot/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapshot/memfile.h"
#include "snapshot/snap_config.h"
#include "snapshot/snap_files.h"
#include "snapshot/snap_sections.h"
#include "vm.h"

/* On hardware KVM an I/O exit is completed by the next KVM_RUN (RIP
 * skipped past the `out`); entering with immediate_exit completes it
 * without running guest code, so the registers saved are final. */
static int snapshot_settle_vcpu(struct vm *vm) {
  struct vkvm *k = &vm->kvm;
  if (!k->io_pending)
    return 0;
  k->run->immediate_exit = 1;
  int rc = vkvm_run(k);
  if (rc < 0 && rc != -EINTR)
    return rc;
  k->io_pending = false;
  return 0;
}

static int snapshot_open_dir(const char *dir) {
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return -errno;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static const char *part_reason(const struct snap_section_part *p, int rc) {
  if (p->type == SNAP_SEC_FILES && snap_files_reason()[0])
    return snap_files_reason();
  return strerror(-rc);
}

static int snapshot_sections(struct vm *vm, struct snap_writer *w, char *err, unsigned errlen) {
  int rc = snap_save_config(vm, snap_writer_section(w, SNAP_SEC_CONFIG));
  if (rc < 0) {
    snprintf(err, errlen, "snapshot: saving the config: %s", strerror(-rc));
    return rc;
  }
  for (size_t i = 0; i < snap_section_parts_count; i++) {
    const struct snap_section_part *p = &snap_section_parts[i];
    struct snap_buf *b = snap_writer_section(w, p->type);
    if (!b)
      rc = -ENOMEM;
    else if ((rc = p->save(vm, b)) == 0)
      rc = b->err;
    if (rc < 0) {
      snprintf(err, errlen, "snapshot: saving %s: %s", p->name, part_reason(p, rc));
      return rc;
    }
  }
  return 0;
}

static int snapshot_write(struct vm *vm, int dirfd, char *err, unsigned errlen) {
  struct snap_writer *w;
  int rc = snap_writer_new(&w);
  if (rc < 0) {
    snprintf(err, errlen, "snapshot: %s", strerror(-rc));
    return rc;
  }
  rc = snapshot_sections(vm, w, err, errlen);
  if (rc == 0 && (rc = memfile_write(&vm->mem, dirfd)) < 0)
    snprintf(err, errlen, "snapshot: writing %s: %s", SNAP_MEMORY_FILE, strerror(-rc));
  if (rc == 0 && (rc = snap_writer_commit(w, dirfd, SNAP_STATE_FILE)) < 0)
    snprintf(err, errlen, "snapshot: writing %s: %s", SNAP_STATE_FILE, strerror(-rc));
  snap_writer_free(w);
  return rc;
}

/* A restarted ppoll/epoll_pwait installs its temporary mask anew, saving
 * the mask then in force as the caller's: the caller's own must be in
 * force when it restarts. sig_deliver_pending puts it back after every
 * call (run.c), so this only holds the snapshot to that rule. */
static void snapshot_settle_sigmask(struct vm *vm) {
  if (!vm->sig.restore_mask)
    return;
  vm->sig.blocked = vm->sig.saved_mask;
  vm->sig.restore_mask = false;
}

int vm_snapshot(struct vm *vm, const char *dir, char *err, unsigned errlen) {
  snapshot_settle_sigmask(vm);
  int rc = snapshot_settle_vcpu(vm);
  if (rc < 0) {
    snprintf(err, errlen, "snapshot: completing the vCPU's exit: %s", strerror(-rc));
    return rc;
  }
  int dirfd = snapshot_open_dir(dir);
  if (dirfd < 0) {
    snprintf(err, errlen, "snapshot: %s: %s", dir, strerror(-dirfd));
    return dirfd;
  }
  rc = snapshot_write(vm, dirfd, err, errlen);
  close(dirfd);
  if (rc == 0)
    vlog(VLOG_DEBUG, "snapshot written to %s", dir);
  return rc;
}
