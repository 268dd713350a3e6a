/* Unit tests of a VM's site cache (vmm/loader/sitecache.c) over real files
 * opened as fake descriptions that count their reads, and a scratch disk
 * store: a file is read and decoded once per VM; a second VM gets the list
 * from disk without reading the file at all (the index hit); a touched file
 * is hashed again; a file changed just now gets no index entry; a damaged
 * record is worked out again and rewritten; files of the guest's own /tmp
 * never reach the disk; rewriting takes exactly the sites inside the
 * mapped range. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "loader/digest.h"
#include "loader/sitecache.h"
#include "loader_test.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

static const char *const so_paths[] = {LOADER_TEST_SOS};

/* ---- stand-ins for the rest of the VMM ---- */

struct fake_open {
  int fd;
  bool host;         /* a file of the host tree (else: the guest's /tmp) */
  uint64_t fake_ino; /* non-zero: reported instead of the real st_ino */
  unsigned preads;
};

static ssize_t fake_pread(struct file *f, const struct iovec *iov, int cnt, off_t off) {
  struct fake_open *o = f->priv;
  o->preads++;
  ssize_t n = preadv(o->fd, iov, cnt, off);
  return n < 0 ? -errno : n;
}

static int fake_fstat(struct file *f, struct stat *st) {
  struct fake_open *o = f->priv;
  if (fstat(o->fd, st) < 0)
    return -errno;
  if (o->fake_ino)
    st->st_ino = o->fake_ino;
  return 0;
}

static const struct file_ops fake_ops = {.pread = fake_pread, .fstat = fake_fstat};

bool vfs_file_is_host_regular(const struct file *f) {
  return ((const struct fake_open *)f->priv)->host;
}

/* loadfile.c's other functions are not used here. */
int vfs_openat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags,
               mode_t mode, struct file **out) {
  return -ENOENT;
}
void file_unref(struct file *f) {}
int uaccess_iov(const struct gmem *m, uint64_t gva, size_t len, bool write, struct iovec *iov,
                int max, size_t *covered) {
  return -EFAULT;
}

/* Guest memory: one writable window at GUEST_BASE. */
#define GUEST_BASE 0x7f0000000000ULL
static uint8_t *guest;
static size_t guest_len;

static uint8_t *window(uint64_t gva, size_t len) {
  if (gva < GUEST_BASE || len > guest_len || gva - GUEST_BASE > guest_len - len)
    return NULL;
  return guest + (gva - GUEST_BASE);
}

int uaccess_copy_from(const struct gmem *m, void *dst, uint64_t gva, size_t len) {
  uint8_t *p = window(gva, len);
  if (!p)
    return -EFAULT;
  memcpy(dst, p, len);
  return 0;
}

int uaccess_copy_to(const struct gmem *m, uint64_t gva, const void *src, size_t len) {
  uint8_t *p = window(gva, len);
  if (!p)
    return -EFAULT;
  memcpy(p, src, len);
  return 0;
}

/* ---- fixture ---- */

struct fixture {
  char base[64];
  char store[96];
  char lib[96]; /* a copy of our test library */
  struct vm_config cfg;
  struct vm vm;
};

static int setup(void **state) {
  static struct fixture fx;
  memset(&fx, 0, sizeof fx);
  strcpy(fx.base, "/tmp/hearth-sitecache-XXXXXX");
  assert_non_null(mkdtemp(fx.base));
  snprintf(fx.store, sizeof fx.store, "%s/store", fx.base);
  snprintf(fx.lib, sizeof fx.lib, "%s/lib.so", fx.base);
  size_t len = 0;
  uint8_t *bytes = lt_read_file(so_paths[0], &len);
  assert_non_null(bytes);
  FILE *f = fopen(fx.lib, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bytes, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  free(bytes);
  fx.cfg.site_cache_dir = fx.store;
  fx.vm.cfg = &fx.cfg;
  *state = &fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  sitecache_destroy(fx->vm.sitecache);
  fx->vm.sitecache = NULL;
  free(guest);
  guest = NULL;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->base);
  return system(cmd) == 0 ? 0 : -1;
}

/* A new VM: a fresh memory cache, the same disk store. */
static void next_vm(struct fixture *fx) {
  sitecache_destroy(fx->vm.sitecache);
  memset(&fx->vm, 0, sizeof fx->vm);
  fx->vm.cfg = &fx->cfg;
}

struct opened {
  struct file file;
  struct fake_open o;
};

static void open_file(struct opened *of, const char *path, bool host) {
  memset(of, 0, sizeof *of);
  of->o.fd = open(path, O_RDONLY);
  assert_true(of->o.fd >= 0);
  of->o.host = host;
  of->file = (struct file){.refs = 1, .ops = &fake_ops, .priv = &of->o};
}

static void close_file(struct opened *of) { close(of->o.fd); }

static size_t sites_of(struct fixture *fx, struct opened *of) {
  const struct file_sites *s = sitecache_file_sites(&fx->vm, &of->file, "lib.so");
  assert_non_null(s);
  return s->n;
}

static size_t store_files(const struct fixture *fx, const char *suffix) {
  char cmd[192];
  snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | grep -c -- '%s$'", fx->store, suffix);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  unsigned n = 0;
  assert_int_equal(fscanf(p, "%u", &n), 1);
  pclose(p);
  return n;
}

static void settle(void) {
  struct timespec t = {0, SITECACHE_SETTLE_NS + 100000000LL};
  nanosleep(&t, NULL);
}

/* ---- tests ---- */

static void one_vm_reads_a_file_once(void **state) {
  struct fixture *fx = *state;
  fx->cfg.site_cache_dir = NULL; /* memory only */
  struct opened a, b;
  open_file(&a, fx->lib, true);
  open_file(&b, fx->lib, true); /* another description of the same file */
  assert_int_equal(sites_of(fx, &a), 2);
  assert_true(a.o.preads > 0);
  unsigned before = a.o.preads;
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(sites_of(fx, &b), 2);
  assert_int_equal(a.o.preads, before);
  assert_int_equal(b.o.preads, 0);
  close_file(&a);
  close_file(&b);
}

static void the_next_vm_gets_it_from_disk_unread(void **state) {
  struct fixture *fx = *state;
  settle(); /* the copy is no longer "changed just now" */
  struct opened a;
  open_file(&a, fx->lib, true);
  assert_int_equal(sites_of(fx, &a), 2);
  assert_true(a.o.preads > 0);
  assert_int_equal(store_files(fx, ".sites"), 1);
  assert_int_equal(store_files(fx, ".idx"), 1);
  next_vm(fx);
  a.o.preads = 0;
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(a.o.preads, 0); /* index hit: neither read nor hashed */
  close_file(&a);
}

static void a_touched_file_is_hashed_again(void **state) {
  struct fixture *fx = *state;
  settle();
  struct opened a;
  open_file(&a, fx->lib, true);
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(utimensat(AT_FDCWD, fx->lib, NULL, 0), 0); /* touch */
  next_vm(fx);
  a.o.preads = 0;
  assert_int_equal(sites_of(fx, &a), 2);
  assert_true(a.o.preads > 0); /* the index entry was stale */
  settle();
  next_vm(fx);
  assert_int_equal(sites_of(fx, &a), 2); /* indexed now */
  next_vm(fx);
  a.o.preads = 0;
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(a.o.preads, 0);
  assert_int_equal(store_files(fx, ".sites"), 1); /* same content, same record */
  close_file(&a);
}

static void a_file_changed_just_now_gets_no_index(void **state) {
  struct fixture *fx = *state;
  struct opened a;
  open_file(&a, fx->lib, true);
  assert_int_equal(utimensat(AT_FDCWD, fx->lib, NULL, 0), 0);
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(store_files(fx, ".sites"), 1);
  assert_int_equal(store_files(fx, ".idx"), 0);
  close_file(&a);
}

static void a_damaged_record_is_worked_out_again(void **state) {
  struct fixture *fx = *state;
  settle();
  struct opened a;
  open_file(&a, fx->lib, true);
  assert_int_equal(sites_of(fx, &a), 2);
  size_t len = 0;
  uint8_t *bytes = lt_read_file(fx->lib, &len), sha[DIGEST_SHA256_LEN];
  char hex[DIGEST_SHA256_HEX], rec[256];
  assert_non_null(bytes);
  digest_sha256(bytes, len, sha);
  free(bytes);
  digest_hex(sha, hex);
  snprintf(rec, sizeof rec, "%s/%s.sites", fx->store, hex);
  struct stat good;
  assert_int_equal(stat(rec, &good), 0);
  assert_int_equal(truncate(rec, 10), 0);
  next_vm(fx);
  assert_int_equal(sites_of(fx, &a), 2); /* found again, not taken from the stub */
  struct stat again;
  assert_int_equal(stat(rec, &again), 0);
  assert_int_equal(again.st_size, good.st_size); /* and rewritten whole */
  close_file(&a);
}

static void guest_tmp_files_stay_in_memory(void **state) {
  struct fixture *fx = *state;
  settle();
  struct opened a;
  open_file(&a, fx->lib, false);
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(store_files(fx, ".sites"), 0);
  assert_int_equal(store_files(fx, ".idx"), 0);
  close_file(&a);
}

static void files_without_sites(void **state) {
  struct fixture *fx = *state;
  char script[128];
  snprintf(script, sizeof script, "%s/script", fx->base);
  FILE *f = fopen(script, "w");
  assert_non_null(f);
  fputs("#!/bin/sh\nexit 0\n", f);
  fclose(f);
  struct opened a;
  open_file(&a, script, true);
  assert_int_equal(sites_of(fx, &a), 0);
  assert_int_equal(store_files(fx, ".sites"), 0); /* not an ELF: nothing hashed or kept */
  close_file(&a);
  open_file(&a, fx->base, true); /* a directory */
  assert_null(sitecache_file_sites(&fx->vm, &a.file, "dir"));
  close_file(&a);
}

/* The oldest list makes room for a new one past SITECACHE_MAX_FILES. */
static void memory_is_bounded(void **state) {
  struct fixture *fx = *state;
  fx->cfg.site_cache_dir = NULL;
  struct opened a;
  open_file(&a, fx->lib, true);
  for (uint64_t ino = 1; ino <= SITECACHE_MAX_FILES + 1; ino++) {
    a.o.fake_ino = ino;
    assert_int_equal(sites_of(fx, &a), 2);
  }
  unsigned before = a.o.preads;
  a.o.fake_ino = SITECACHE_MAX_FILES + 1; /* the newest is still there */
  assert_int_equal(sites_of(fx, &a), 2);
  assert_int_equal(a.o.preads, before);
  a.o.fake_ino = 1; /* the oldest was dropped */
  assert_int_equal(sites_of(fx, &a), 2);
  assert_true(a.o.preads > before);
  close_file(&a);
}

static void rewrites_the_sites_inside_a_mapping(void **state) {
  struct fixture *fx = *state;
  fx->cfg.site_cache_dir = NULL;
  struct opened a;
  open_file(&a, fx->lib, true);
  guest = lt_read_file(fx->lib, &guest_len); /* the whole file mapped at GUEST_BASE */
  assert_non_null(guest);
  const struct file_sites *s = sitecache_file_sites(&fx->vm, &a.file, NULL);
  assert_non_null(s);
  assert_int_equal(s->n, 2);
  uint64_t first = s->v[0], second = s->v[1];
  /* A window ending inside the second site, starting past the first page
   * boundary below the first: only the first, at its place in the window. */
  uint64_t off = first & ~(GUEST_PAGE_SIZE - 1);
  assert_int_equal(
      sitecache_rewrite(&fx->vm, &a.file, NULL, GUEST_BASE + off, second + 1 - off, off), 1);
  assert_int_equal(guest[first], 0xe6);
  assert_int_equal(guest[first + 1], PORT_SYSCALL);
  assert_int_equal(guest[second], 0x0f);
  /* The whole file: the second now, the first is rewritten already. */
  assert_int_equal(sitecache_rewrite(&fx->vm, &a.file, NULL, GUEST_BASE, guest_len, 0), 1);
  assert_int_equal(guest[second], 0xe6);
  assert_int_equal(fx->vm.stats.sites_rewritten, 2);
  /* A window past both sites, and --no-rewrite: nothing. */
  assert_int_equal(sitecache_rewrite(&fx->vm, &a.file, NULL, GUEST_BASE, 4, second + 2), 0);
  fx->cfg.no_rewrite = true;
  guest[second] = 0x0f;
  guest[second + 1] = 0x05;
  assert_int_equal(sitecache_rewrite(&fx->vm, &a.file, NULL, GUEST_BASE, guest_len, 0), 0);
  assert_int_equal(guest[second], 0x0f);
  close_file(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(one_vm_reads_a_file_once, setup, teardown),
      cmocka_unit_test_setup_teardown(the_next_vm_gets_it_from_disk_unread, setup, teardown),
      cmocka_unit_test_setup_teardown(a_touched_file_is_hashed_again, setup, teardown),
      cmocka_unit_test_setup_teardown(a_file_changed_just_now_gets_no_index, setup, teardown),
      cmocka_unit_test_setup_teardown(a_damaged_record_is_worked_out_again, setup, teardown),
      cmocka_unit_test_setup_teardown(guest_tmp_files_stay_in_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(files_without_sites, setup, teardown),
      cmocka_unit_test_setup_teardown(memory_is_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(rewrites_the_sites_inside_a_mapping, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
