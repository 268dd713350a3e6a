/* snap_files_fixture.c - see snap_files_fixture.h. */
#include "snap_files_fixture.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "kernel/fdtable.h"
#include "kernel/stdio_frame.h"
#include "net/vsock.h"

struct sfx *sfx_new(const char *host_root, uint64_t tmp_bytes, uint64_t tmp_entries) {
  struct sfx *x = calloc(1, sizeof *x);
  assert_non_null(x);
  x->cfg = (struct vm_config){.root = host_root, .vsock_cid = 3, .ready_fd = -1};
  x->vm.cfg = &x->cfg;
  fdtable_init(&x->vm.fds);
  struct vfs_config vc = {.host_root = host_root,
                          .tmp_max_bytes = tmp_bytes,
                          .tmp_max_entries = tmp_entries,
                          .exe_path = "/bin/prog",
                          .fds = &x->vm.fds,
                          .uid = 1000,
                          .gid = 1000};
  assert_int_equal(vfs_create(&vc, &x->vm.vfs), 0);
  assert_int_equal(vsock_init(&x->vm), 0);
  return x;
}

void sfx_free(struct sfx *x) {
  fdtable_fini(&x->vm.fds);
  vsock_fini(&x->vm);
  vfs_destroy(x->vm.vfs);
  free(x);
}

void sfx_save(struct sfx *x, sfx_save_fn *save, struct snap_buf *b) {
  *b = (struct snap_buf){0};
  assert_int_equal(save(&x->vm, b), 0);
  assert_int_equal(b->err, 0);
}

int sfx_load(struct sfx *x, sfx_load_fn *load, const void *p, size_t len) {
  struct snap_cursor c = {.p = p, .len = len};
  return load(&x->vm, &c);
}

/* sockfile.c's ioctl reaches framed stdio, which these tests never use. */
long stdio_frame_attach(struct vm *vm, struct file *conn, uint64_t arg) { return -ENOTTY; }
