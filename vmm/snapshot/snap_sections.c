/* snap_sections.c - the section table (snap_sections.h). A restore loads
 * memory first (the allocator, over the mapped memory file), the vfs before
 * the files and mappings that name its nodes, the mappings before the clock
 * (whose vDSO must be among them), and the vCPU last. */
#include "snapshot/snap_sections.h"

#include "snapshot/snap_parts.h"
#include "vm.h"

/* The saves of a const VM, at the table's one signature. */
#define SAVE_CONST(part)                                                                           \
  static int save_##part(struct vm *vm, struct snap_buf *b) { return snap_save_##part(vm, b); }

SAVE_CONST(memory)
SAVE_CONST(vfs)
SAVE_CONST(files)
SAVE_CONST(mm)
SAVE_CONST(vsock)
SAVE_CONST(signals)
SAVE_CONST(proc)
SAVE_CONST(clock)

const struct snap_section_part snap_section_parts[] = {
    {"memory", SNAP_SEC_MEMORY, save_memory, snap_load_memory},
    {"vfs", SNAP_SEC_VFS, save_vfs, snap_load_vfs},
    {"files", SNAP_SEC_FILES, save_files, snap_load_files},
    {"mm", SNAP_SEC_MM, save_mm, snap_load_mm},
    {"vsock", SNAP_SEC_VSOCK, save_vsock, snap_load_vsock},
    {"signals", SNAP_SEC_SIGNALS, save_signals, snap_load_signals},
    {"proc", SNAP_SEC_PROC, save_proc, snap_load_proc},
    {"clock", SNAP_SEC_CLOCK, save_clock, snap_load_clock},
    {"vcpu", SNAP_SEC_VCPU, snap_save_vcpu, snap_load_vcpu},
};

const size_t snap_section_parts_count = sizeof snap_section_parts / sizeof snap_section_parts[0];
