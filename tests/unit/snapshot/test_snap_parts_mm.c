/* Unit tests of the memory-map section (snap_mm.c): a round trip of vm_mm
 * and the vma list with an image name and a file mapping reopened inside
 * the root, refusal when the mapped file changed or is gone, and refusal of
 * mappings no running guest could have. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "mem/layout.h"
#include "mem/vma.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define K 0x1000ull
#define LIB_AT 0x7f0000000000ull

struct fixture {
  char root[64];
  char lib[96];
  struct vfs *vfs;
  struct vm src, dst;
};

static void write_lib(const char *path, size_t len) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (size_t i = 0; i < len; i++)
    fputc((int)(i & 0xff), f);
  fclose(f);
}

static void vm_blank(struct fixture *fx, struct vm *vm) {
  memset(vm, 0, sizeof *vm);
  vm->vfs = fx->vfs;
  fdtable_init(&vm->fds);
  vma_space_init(&vm->vmas);
}

static void vm_release(struct vm *vm) {
  vma_space_fini(&vm->vmas);
  fdtable_fini(&vm->fds);
}

static void insert(struct vm *vm, uint64_t start, uint64_t end, int prot, int flags,
                   enum vma_kind kind, struct file *f, uint64_t off) {
  struct vma m = {.start = start,
                  .end = end,
                  .prot = prot,
                  .flags = flags,
                  .kind = kind,
                  .file = f,
                  .file_off = off};
  assert_int_equal(vma_insert(&vm->vmas, &m), 0);
}

/* A program image named /bin/prog, a heap, a library's two segments, a
 * stack: what a running guest's list looks like. */
static void sample(struct fixture *fx, struct vm *vm) {
  vm_blank(fx, vm);
  vm->mm = (struct vm_mm){.brk_start = 0x600000,
                          .brk = 0x601234,
                          .brk_limit = 0x10000000,
                          .mmap_top = 0x7ff000000000ull,
                          .stack_top = 0x7ffffffde000ull,
                          .stack_bottom = 0x7ffffffde000ull - 64 * K,
                          .load_bias = 0x400000};
  insert(vm, 0x400000, 0x402000, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_IMAGE, NULL, 0);
  assert_int_equal(vma_name_range(&vm->vmas, 0x400000, 0x402000, "/bin/prog", 0), 0);
  insert(vm, 0x600000, 0x602000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, VMA_HEAP,
         NULL, 0);
  struct file *lib;
  assert_int_equal(vfs_openat(fx->vfs, &vm->fds, AT_FDCWD, "/lib.so", O_RDONLY, 0, &lib), 0);
  insert(vm, LIB_AT, LIB_AT + 2 * K, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_FILE, lib, 0);
  insert(vm, LIB_AT + 2 * K, LIB_AT + 3 * K, PROT_READ, MAP_PRIVATE, VMA_FILE, lib, 2 * K);
  file_unref(lib); /* the mappings hold their own */
  insert(vm, vm->mm.stack_bottom, vm->mm.stack_top, PROT_READ | PROT_WRITE,
         MAP_PRIVATE | MAP_ANONYMOUS, VMA_STACK, NULL, 0);
}

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  strcpy(fx->root, "/tmp/hearth-snapmm-XXXXXX");
  assert_non_null(mkdtemp(fx->root));
  snprintf(fx->lib, sizeof fx->lib, "%s/lib.so", fx->root);
  write_lib(fx->lib, 3 * K);
  struct vfs_config cfg = {.host_root = fx->root, .uid = 1000, .gid = 1000};
  assert_int_equal(vfs_create(&cfg, &fx->vfs), 0);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  vfs_destroy(fx->vfs);
  unlink(fx->lib);
  rmdir(fx->root);
  free(fx);
  return 0;
}

/* Saves src's section, loads it into dst (blank). */
static int roundtrip(struct fixture *fx) {
  struct snap_buf b = {0};
  assert_int_equal(snap_save_mm(&fx->src, &b), 0);
  vm_blank(fx, &fx->dst);
  struct snap_cursor c = {.p = b.p, .len = b.len};
  int rc = snap_load_mm(&fx->dst, &c);
  free(b.p);
  return rc;
}

static void mm_round_trip(void **state) {
  struct fixture *fx = *state;
  sample(fx, &fx->src);
  assert_int_equal(roundtrip(fx), 0);
  const struct vm *a = &fx->src, *b = &fx->dst;
  assert_memory_equal(&b->mm, &a->mm, sizeof a->mm);
  assert_int_equal(b->vmas.n, a->vmas.n);
  for (size_t i = 0; i < a->vmas.n; i++) {
    const struct vma *x = &a->vmas.v[i], *y = &b->vmas.v[i];
    assert_int_equal(y->start, x->start);
    assert_int_equal(y->end, x->end);
    assert_int_equal(y->prot, x->prot);
    assert_int_equal(y->flags, x->flags);
    assert_int_equal(y->kind, x->kind);
    assert_int_equal(y->file_off, x->file_off);
    assert_int_equal(!y->name, !x->name);
    if (x->name)
      assert_string_equal(y->name, x->name);
    assert_int_equal(!y->file, !x->file);
    if (x->file) {
      assert_true(y->file != x->file); /* reopened, not the snapshot's */
      assert_string_equal(y->file->ops->path(y->file), "/lib.so");
    }
  }
  /* Both segments of the library share one reopened description. */
  const struct vma *seg = vma_find(&b->vmas, LIB_AT), *seg2 = vma_find(&b->vmas, LIB_AT + 2 * K);
  assert_ptr_equal(seg->file, seg2->file);
  vm_release(&fx->src);
  vm_release(&fx->dst);
}

/* Loads saved bytes into dst (blank). */
static int load_saved(struct fixture *fx, const struct snap_buf *b) {
  vm_blank(fx, &fx->dst);
  struct snap_cursor c = {.p = b->p, .len = b->len};
  int rc = snap_load_mm(&fx->dst, &c);
  if (rc < 0)
    assert_int_equal(fx->dst.vmas.n, 0); /* nothing half-built stays */
  vm_release(&fx->dst);
  return rc;
}

static void mm_refuses_changed_or_missing_file(void **state) {
  struct fixture *fx = *state;
  sample(fx, &fx->src);
  struct snap_buf b = {0};
  assert_int_equal(snap_save_mm(&fx->src, &b), 0);
  vm_release(&fx->src);
  assert_int_equal(load_saved(fx, &b), 0);
  write_lib(fx->lib, 3 * K + 1); /* the file changed since the snapshot */
  assert_int_equal(load_saved(fx, &b), -ESTALE);
  unlink(fx->lib);
  assert_int_equal(load_saved(fx, &b), -ENOENT);
  write_lib(fx->lib, 3 * K);
  free(b.p);
}

/* A hand-written section: vm_mm zero except the stack, then the mappings. */
static void put_vma(struct snap_buf *b, uint64_t start, uint64_t end, uint32_t prot, uint32_t flags,
                    uint32_t kind) {
  snap_put_u64(b, start);
  snap_put_u64(b, end);
  snap_put_u32(b, prot);
  snap_put_u32(b, flags);
  snap_put_u32(b, kind);
  snap_put_u64(b, 0);
  snap_put_str(b, NULL);
}

static void put_head(struct snap_buf *b, uint32_t n) {
  for (int i = 0; i < 7; i++)
    snap_put_u64(b, 0);
  snap_put_u32(b, n);
}

static void put_lib_id(struct snap_buf *b, const char *path) {
  snap_put_str(b, path);
  snap_put_u32(b, O_RDONLY);
  snap_put_u8(b, 1);
  for (int i = 0; i < 4; i++)
    snap_put_u64(b, 0);
}

static int load_bytes(struct fixture *fx, struct snap_buf *b) {
  vm_blank(fx, &fx->dst);
  struct snap_cursor c = {.p = b->p, .len = b->len};
  int rc = snap_load_mm(&fx->dst, &c);
  if (rc < 0)
    assert_int_equal(fx->dst.vmas.n, 0);
  vm_release(&fx->dst);
  free(b->p);
  memset(b, 0, sizeof *b);
  return rc;
}

static void mm_refuses_impossible_mappings(void **state) {
  struct fixture *fx = *state;
  const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
  struct snap_buf b = {0};
  put_head(&b, 1);
  put_vma(&b, 0x400000, 0x401000, rw, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), 0); /* the well-formed baseline */

  put_head(&b, 2); /* overlapping */
  put_vma(&b, 0x400000, 0x402000, rw, anon, VMA_ANON);
  put_vma(&b, 0x401000, 0x403000, rw, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* not page-aligned */
  put_vma(&b, 0x400800, 0x401000, rw, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* beyond user space */
  put_vma(&b, LAYOUT_USER_TOP, LAYOUT_USER_TOP + K, rw, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* page 0 */
  put_vma(&b, 0, K, rw, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* an unknown protection bit */
  put_vma(&b, 0x400000, 0x401000, rw | 0x10, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* an unknown kind */
  put_vma(&b, 0x400000, 0x401000, rw, anon, 99);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* a writable shared file mapping, which sys_mmap refuses */
  put_vma(&b, 0x400000, 0x401000, rw, MAP_SHARED, VMA_FILE);
  put_lib_id(&b, "/lib.so");
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* a relative path */
  put_vma(&b, 0x400000, 0x401000, PROT_READ, MAP_PRIVATE, VMA_FILE);
  put_lib_id(&b, "lib.so");
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 1); /* a path leaving the root stays inside it: no such file there */
  put_vma(&b, 0x400000, 0x401000, PROT_READ, MAP_PRIVATE, VMA_FILE);
  put_lib_id(&b, "/../../etc/passwd");
  assert_true(load_bytes(fx, &b) < 0);

  put_head(&b, VMA_MAX_COUNT + 1);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  put_head(&b, 2); /* a count above what follows */
  put_vma(&b, 0x400000, 0x401000, rw, anon, VMA_ANON);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);

  for (int i = 0; i < 7; i++) /* brk above its limit */
    snap_put_u64(&b, i == 1 ? 0x2000 : 0);
  snap_put_u32(&b, 0);
  assert_int_equal(load_bytes(fx, &b), -EBADMSG);
}

static void mm_loads_only_into_an_empty_space(void **state) {
  struct fixture *fx = *state;
  sample(fx, &fx->src);
  struct snap_buf b = {0};
  assert_int_equal(snap_save_mm(&fx->src, &b), 0);
  struct snap_cursor c = {.p = b.p, .len = b.len};
  assert_int_equal(snap_load_mm(&fx->src, &c), -EBUSY);
  free(b.p);
  vm_release(&fx->src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mm_round_trip),
      cmocka_unit_test(mm_refuses_changed_or_missing_file),
      cmocka_unit_test(mm_refuses_impossible_mappings),
      cmocka_unit_test(mm_loads_only_into_an_empty_space),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
