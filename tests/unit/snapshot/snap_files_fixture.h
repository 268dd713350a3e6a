/* snap_files_fixture.h - a struct vm with what the vfs, files and vsock
 * sections touch (a vfs over an optional host root, a descriptor table,
 * vsock state with CID 3 and no bridge) and no KVM, for the tests of
 * snap_vfs.c, snap_files.c and snap_vsock.c; and a save-then-load helper. */
#ifndef HEARTH_TEST_SNAP_FILES_FIXTURE_H
#define HEARTH_TEST_SNAP_FILES_FIXTURE_H

#include <stdint.h>

#include "snapshot/snapfile.h"
#include "vm.h"

struct sfx {
  struct vm vm;
  struct vm_config cfg;
};

/* host_root may be NULL; caps 0 are the defaults. Asserts on failure. */
struct sfx *sfx_new(const char *host_root, uint64_t tmp_bytes, uint64_t tmp_entries);
void sfx_free(struct sfx *x);

typedef int sfx_save_fn(const struct vm *vm, struct snap_buf *b);
typedef int sfx_load_fn(struct vm *vm, struct snap_cursor *c);

/* Saves x's part into b (asserting success); b->p is the caller's to free. */
void sfx_save(struct sfx *x, sfx_save_fn *save, struct snap_buf *b);
/* Loads len bytes of p into x's part: its return. */
int sfx_load(struct sfx *x, sfx_load_fn *load, const void *p, size_t len);

#endif
