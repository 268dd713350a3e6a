/* snap_parts.h - one save and one load per section of the state file
 * (snapfile.h). Saves read the live VM and write only plain values; loads
 * read the section and rebuild the live objects of a VM being restored
 * (guest memory already mapped from memory.snap, KVM created, nothing else
 * yet). Each returns 0 or -errno (-EBADMSG for a malformed section) and
 * logs nothing: vm_snapshot / the restore says which part failed. */
#ifndef HEARTH_VMM_SNAPSHOT_SNAP_PARTS_H
#define HEARTH_VMM_SNAPSHOT_SNAP_PARTS_H

#include "snapshot/snapfile.h"

struct vm;

int snap_save_memory(const struct vm *vm, struct snap_buf *b); /* snap_memory.c */
int snap_load_memory(struct vm *vm, struct snap_cursor *c);
int snap_save_vcpu(struct vm *vm, struct snap_buf *b); /* snap_vcpu.c (KVM ioctls: not const) */
int snap_load_vcpu(struct vm *vm, struct snap_cursor *c);
int snap_save_mm(const struct vm *vm, struct snap_buf *b); /* snap_mm.c */
int snap_load_mm(struct vm *vm, struct snap_cursor *c);
int snap_save_proc(const struct vm *vm, struct snap_buf *b); /* snap_proc.c */
int snap_load_proc(struct vm *vm, struct snap_cursor *c);
int snap_save_signals(const struct vm *vm, struct snap_buf *b); /* snap_signals.c */
int snap_load_signals(struct vm *vm, struct snap_cursor *c);
int snap_save_vfs(const struct vm *vm, struct snap_buf *b); /* snap_vfs.c */
int snap_load_vfs(struct vm *vm, struct snap_cursor *c);
int snap_save_files(const struct vm *vm, struct snap_buf *b); /* snap_files.c */
int snap_load_files(struct vm *vm, struct snap_cursor *c);
int snap_save_vsock(const struct vm *vm, struct snap_buf *b); /* snap_vsock.c */
int snap_load_vsock(struct vm *vm, struct snap_cursor *c);
int snap_save_clock(const struct vm *vm, struct snap_buf *b); /* snap_clock.c */
int snap_load_clock(struct vm *vm, struct snap_cursor *c);

#endif
