/* snapshot.h - saving a paused VM to a directory and building a VM from
 * one (issue 6). A snapshot is taken only at a system-call boundary: the
 * guest's registers say "about to make system call N" (a call it was
 * blocked in is restarted, not resumed), so no VMM stack is ever part of
 * it. Each subsystem saves and loads its own section (snapfile.h):
 *   snap_save_<part>(const struct vm *, struct snap_buf *)
 *   snap_load_<part>(struct vm *, struct snap_cursor *)
 * in vmm/snapshot/snap_<part>.c, declared in snap_parts.h. */
#ifndef HEARTH_VMM_SNAPSHOT_SNAPSHOT_H
#define HEARTH_VMM_SNAPSHOT_SNAPSHOT_H

struct vm;

/* Writes dir/state.snap and dir/memory.snap (dir created 0700 if missing).
 * The VM must be paused at a system-call boundary. 0 or -errno, with a
 * one-line reason in err. */
int vm_snapshot(struct vm *vm, const char *dir, char *err, unsigned errlen);

#endif
