/* memfile.h - a snapshot's guest memory, in a file of its own beside the
 * state file (snapfile.h): guest-physical memory byte for byte, `size`
 * bytes long, sparse (pages that read as zeroes are holes and take no
 * disk). A restore maps it MAP_PRIVATE, so VMs restored from one snapshot
 * share every page none of them wrote through the host's page cache. The
 * memory file is as trusted as the directory holding it (it is not
 * checksummed: hashing it would make every restore cost grow with the
 * memory's size); gmem_check_tables still keeps a bad one from sending the
 * VMM outside guest memory. */
#ifndef HEARTH_VMM_SNAPSHOT_MEMFILE_H
#define HEARTH_VMM_SNAPSHOT_MEMFILE_H

#include <stdint.h>

#include "mem/gmem.h"

/* Writes m's memory to dirfd/SNAP_MEMORY_FILE through a temp file, fsync
 * and rename (never in place: VMs restored from the old file keep mapping
 * its inode, and must not see it change). Only what the allocator handed out is read (the rest of
 * guest memory has never been written and becomes a hole unread), and zero pages there are skipped
 * too. The guest must not run meanwhile. 0 or -errno. */
int memfile_write(const struct gmem *m, int dirfd);

/* Builds m (gmem_init_from_file) from dirfd/SNAP_MEMORY_FILE, which must be
 * a regular file of exactly `size` bytes (-EBADMSG otherwise); the
 * allocator's state comes after, from the state file (snap_load_memory).
 * 0 or -errno; m needs gmem_fini either way only after success. */
int memfile_map(struct gmem *m, int dirfd, uint64_t size, enum gmem_pages pages);

#endif
