/* Unit tests of load_program (vmm/loader/load.c and the files it drives)
 * against small fakes of the rest of the VMM: a vfs serving a few host
 * files (fake_vfs.c), an mm that records mappings in host buffers, and a
 * uaccess over them that hands out one iovec per page. Real static
 * programs are loaded and checked byte by byte (load_check.c); every way
 * to fail is tried. test_load_gmem.c does the same over the real vmm/mem. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "fake_vfs.h"
#include "load_check.h"
#include "loader/load.h"
#include "loader/sitecache.h"
#include "loader_test.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "mem/uaccess.h"
#include "vm.h"

/* ---- fake guest memory: one host buffer per mapping ---- */

struct region {
  uint64_t start, len;
  int prot;
  enum vma_kind kind;
  uint8_t *host;
};

#define MAX_REGIONS 32
static struct region regions[MAX_REGIONS];
static size_t nregions;
static uint64_t mapped_bytes, map_limit;

static void reset_memory(void) {
  for (size_t i = 0; i < nregions; i++)
    free(regions[i].host);
  nregions = 0;
  mapped_bytes = 0;
  map_limit = UINT64_MAX;
}

static struct region *region_at(uint64_t gva, size_t len) {
  for (size_t i = 0; i < nregions; i++) {
    struct region *r = &regions[i];
    if (gva >= r->start && len <= r->len && gva - r->start <= r->len - len)
      return r;
  }
  return NULL;
}

int mm_map_fixed(struct vm *vm, uint64_t addr, uint64_t len, int prot, int flags,
                 enum vma_kind kind) {
  assert_int_equal(addr % GUEST_PAGE_SIZE, 0);
  assert_int_equal(len % GUEST_PAGE_SIZE, 0);
  assert_true(addr >= LAYOUT_MMAP_MIN && addr + len <= LAYOUT_USER_TOP);
  for (size_t i = 0; i < nregions; i++) /* the loader never maps over itself */
    assert_true(addr + len <= regions[i].start || addr >= regions[i].start + regions[i].len);
  if (mapped_bytes + len > map_limit || nregions == MAX_REGIONS)
    return -ENOMEM;
  uint8_t *host = calloc(1, len);
  assert_non_null(host);
  regions[nregions++] = (struct region){addr, len, prot, kind, host};
  mapped_bytes += len;
  return 0;
}

static bool overlaps_a_region(uint64_t start, uint64_t len) {
  for (size_t i = 0; i < nregions; i++)
    if (start < regions[i].start + regions[i].len && regions[i].start < start + len)
      return true;
  return false;
}

/* Highest free page-aligned room below the mmap top, in 1 MiB steps. */
uint64_t mm_find_free(struct vm *vm, uint64_t len) {
  for (uint64_t at = (vm->mm.mmap_top - len) & ~((1ULL << 20) - 1); at >= LAYOUT_MMAP_MIN;
       at -= 1ULL << 20)
    if (!overlaps_a_region(at, len))
      return at;
  return 0;
}

int mm_protect(struct vm *vm, uint64_t addr, uint64_t len, int prot) {
  struct region *r = region_at(addr, len);
  assert_non_null(r);
  assert_true(r->start == addr && r->len == len); /* the loader protects whole segments */
  r->prot = prot;
  return 0;
}

/* Names for /proc/self/maps (tested with the real vma.c in
 * kernel_proc_maps): the loader names the file-backed part of a segment it
 * mapped, at a page-aligned file offset. */
int vma_name_range(struct vma_space *s, uint64_t start, uint64_t end, const char *name,
                   uint64_t off) {
  assert_true(start < end && end - start <= SIZE_MAX);
  assert_non_null(region_at(start, (size_t)(end - start)));
  assert_true(name[0] != '\0' && off % GUEST_PAGE_SIZE == 0);
  return 0;
}

static uint8_t *translate(uint64_t gva, size_t len, bool write) {
  struct region *r = region_at(gva, len);
  if (!r || !(r->prot & (write ? PROT_WRITE : PROT_READ)))
    return NULL;
  return r->host + (gva - r->start);
}

/* Never contiguous here, so the loader's copy path is the one tested; the
 * real-memory test (test_load_gmem.c) takes the in-place path. */
void *uaccess_ptr(const struct gmem *m, uint64_t gva, size_t len, bool write) {
  (void)m, (void)gva, (void)len, (void)write;
  return NULL;
}

int uaccess_copy_from(const struct gmem *m, void *dst, uint64_t gva, size_t len) {
  uint8_t *p = translate(gva, len, false);
  if (!p)
    return -EFAULT;
  memcpy(dst, p, len);
  return 0;
}

int uaccess_copy_to(const struct gmem *m, uint64_t gva, const void *src, size_t len) {
  uint8_t *p = translate(gva, len, true);
  if (!p)
    return -EFAULT;
  memcpy(p, src, len);
  return 0;
}

/* One iovec per page, like guest memory whose pages are not adjacent. */
int uaccess_iov(const struct gmem *m, uint64_t gva, size_t len, bool write, struct iovec *iov,
                int max, size_t *covered) {
  int n = 0;
  *covered = 0;
  while (len > 0 && n < max) {
    size_t chunk = GUEST_PAGE_SIZE - (gva % GUEST_PAGE_SIZE);
    chunk = chunk < len ? chunk : len;
    uint8_t *p = translate(gva, chunk, write);
    if (!p)
      break;
    iov[n++] = (struct iovec){p, chunk};
    *covered += chunk;
    gva += chunk;
    len -= chunk;
  }
  return n ? n : -EFAULT;
}

/* ---- the VM under test ---- */

static struct vm test_vm;
static struct vm_config test_cfg;
static char *test_argv[] = {NULL, "first", "second", NULL};
static char *test_env[] = {"HOME=/", "LANG=C.UTF-8", NULL};

static struct vm *fresh_vm(const char *prog, bool no_rewrite) {
  reset_memory();
  sitecache_destroy(test_vm.sitecache); /* the previous VM's site lists */
  memset(&test_vm, 0, sizeof test_vm);
  test_argv[0] = (char *)prog;
  test_cfg = (struct vm_config){
      .mem_bytes = 128ULL << 20, .argv = test_argv, .env = test_env, .no_rewrite = no_rewrite};
  test_vm.cfg = &test_cfg;
  test_vm.mem.size = 128ULL << 20;
  fake_vfs_exe[0] = '\0';
  return &test_vm;
}

static bool fake_mapping(struct vm *vm, uint64_t addr, int *prot, enum vma_kind *kind) {
  struct region *r = region_at(addr, 1);
  if (r) {
    *prot = r->prot;
    *kind = r->kind;
  }
  return r != NULL;
}

static int setup(void **state) {
  fake_vfs_setup();
  return 0;
}

static int teardown(void **state) {
  reset_memory();
  sitecache_destroy(test_vm.sitecache);
  test_vm.sitecache = NULL;
  fake_vfs_teardown();
  return 0;
}

/* Loads `path` (host file `host`), checks it all; returns the bias. */
static uint64_t load_and_check(const char *path, const char *host, bool no_rewrite) {
  struct vm *vm = fresh_vm(path, no_rewrite);
  struct load_result lr;
  assert_int_equal(load_program(vm, &lr), 0);
  uint64_t rewritten = load_check_program(vm, &lr, host, fake_mapping);
  if (no_rewrite)
    assert_int_equal(rewritten, 0);
  else
    assert_true(rewritten > 10);
  assert_string_equal(fake_vfs_exe, path);
  return vm->mm.load_bias;
}

static void loads_a_static_program(void **state) {
  assert_int_equal(load_and_check("/bin/hello", loader_test_progs[0], false), 0);
}

static void loads_a_static_program_without_rewriting(void **state) {
  load_and_check("/bin/hello", loader_test_progs[0], true);
}

static void loads_a_static_pie_at_a_random_bias(void **state) {
  uint64_t a = load_and_check("/bin/pie", loader_test_progs[1], false);
  uint64_t b = load_and_check("/bin/pie", loader_test_progs[1], false);
  assert_true(a >= LAYOUT_PIE_BASE && a < LAYOUT_PIE_BASE + (1ULL << 30) + GUEST_PAGE_SIZE);
  assert_int_not_equal(a, b); /* 2^18 choices: equal once in 262144 runs */
}

static void refuses_what_it_cannot_run(void **state) {
  struct load_result lr;
  assert_int_equal(load_program(fresh_vm("/bin/missing", false), &lr), -ENOENT);
  assert_int_equal(load_program(fresh_vm("/bin/noexec", false), &lr), -EACCES);
  assert_int_equal(load_program(fresh_vm("/etc", false), &lr), -EACCES);
  assert_int_equal(load_program(fresh_vm("/bin/garbage", false), &lr), -ENOEXEC);
  assert_int_equal(load_program(fresh_vm("/bin/nointerp", false), &lr), -ENOENT);
  assert_int_equal(load_program(fresh_vm("", false), &lr), -ENOENT);
  assert_string_equal(fake_vfs_exe, "");
}

/* The auxv value for `type` on the initial stack at sp, or 0. */
static uint64_t auxv_value(uint64_t sp, uint64_t type) {
  uint64_t argc = 0, word = 0;
  assert_int_equal(uaccess_copy_from(NULL, &argc, sp, 8), 0);
  uint64_t at = sp + 8 * (argc + 2); /* argc, argv..., NULL */
  do {                               /* envp..., NULL */
    assert_int_equal(uaccess_copy_from(NULL, &word, at, 8), 0);
    at += 8;
  } while (word);
  for (;; at += 16) {
    uint64_t pair[2];
    assert_int_equal(uaccess_copy_from(NULL, pair, at, 16), 0);
    if (pair[0] == AT_NULL)
      return 0;
    if (pair[0] == type)
      return pair[1];
  }
}

/* A dynamically linked program (this test itself) with its interpreter
 * (the host's ld.so): the VM starts in the interpreter, placed below the
 * mmap top, and auxv tells it where it is and where the program is. */
static void loads_a_dynamic_program_and_its_interpreter(void **state) {
  struct vm *vm = fresh_vm("/bin/dynamic", false);
  struct load_result lr;
  assert_int_equal(load_program(vm, &lr), 0);
  uint64_t base = auxv_value(lr.sp, AT_BASE), entry = auxv_value(lr.sp, AT_ENTRY);
  assert_true(base >= LAYOUT_MMAP_MIN && base < vm->mm.mmap_top);
  assert_true(lr.entry > base && lr.entry < vm->mm.mmap_top);
  struct region *interp = region_at(lr.entry, 1);
  assert_non_null(interp);
  assert_int_equal(interp->kind, VMA_IMAGE);
  assert_true(interp->prot & PROT_EXEC);
  assert_int_not_equal(entry, lr.entry); /* AT_ENTRY is the program's own */
  assert_non_null(region_at(entry, 1));
  assert_true(vm->stats.sites_rewritten > 0); /* ld.so makes system calls */
}

static void reports_what_does_not_fit(void **state) {
  struct load_result lr;
  struct vm *vm = fresh_vm("/bin/hello", false);
  map_limit = 64 << 10; /* not even the stack */
  assert_int_equal(load_program(vm, &lr), -ENOMEM);
  vm = fresh_vm("/bin/hello", false);
  map_limit = (8 << 20) + (16 << 10); /* the stack, not the program */
  assert_int_equal(load_program(vm, &lr), -ENOMEM);
  /* Environment over a quarter of the 8 MiB stack, each string short enough. */
  static char big[100000];
  memset(big, 'x', sizeof big - 1);
  static char *env[26];
  for (int i = 0; i < 25; i++)
    env[i] = big;
  vm = fresh_vm("/bin/hello", false);
  test_cfg.env = env;
  assert_int_equal(load_program(vm, &lr), -E2BIG);
  env[21] = NULL; /* 2.1 MB: still too much */
  vm = fresh_vm("/bin/hello", false);
  test_cfg.env = env;
  assert_int_equal(load_program(vm, &lr), -E2BIG);
  env[20] = NULL; /* 2.0 MB < 2 MiB: fits */
  vm = fresh_vm("/bin/hello", false);
  test_cfg.env = env;
  assert_int_equal(load_program(vm, &lr), 0);
  load_check_program(vm, &lr, loader_test_progs[0], fake_mapping);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(loads_a_static_program, setup, teardown),
      cmocka_unit_test_setup_teardown(loads_a_static_program_without_rewriting, setup, teardown),
      cmocka_unit_test_setup_teardown(loads_a_static_pie_at_a_random_bias, setup, teardown),
      cmocka_unit_test_setup_teardown(loads_a_dynamic_program_and_its_interpreter, setup, teardown),
      cmocka_unit_test_setup_teardown(refuses_what_it_cannot_run, setup, teardown),
      cmocka_unit_test_setup_teardown(reports_what_does_not_fit, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
