/* /proc/self/maps text from the mapping list: Linux's exact layout (lines
 * taken from a real Linux /proc/self/maps), names of files, images, heap
 * and stack, image naming through vma_name_range, and clean truncation of
 * the largest mapping list. */
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
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "kernel/file.h"
#include "kernel/proc_maps.h"
#include "mem/vma.h"
#include "vm.h"

/* A mapped file as the line shows it: its path, device and inode. */
struct fake_file {
  const char *path; /* NULL: the path op has no answer */
  dev_t dev;
  ino_t ino;
};

static int fake_fstat(struct file *f, struct stat *st) {
  const struct fake_file *ff = f->priv;
  memset(st, 0, sizeof *st);
  st->st_dev = ff->dev;
  st->st_ino = ff->ino;
  st->st_mode = S_IFREG | 0644;
  return 0;
}

static const char *fake_path(struct file *f) { return ((const struct fake_file *)f->priv)->path; }

static const struct file_ops fake_ops = {.fstat = fake_fstat, .path = fake_path};

/* Inserts a mapping; file mappings get a description over `ff`. */
static void map(struct vma_space *s, uint64_t start, uint64_t end, int prot, int flags,
                enum vma_kind kind, struct fake_file *ff, uint64_t off) {
  struct vma m = {.start = start, .end = end, .prot = prot, .flags = flags, .kind = kind};
  if (ff) {
    m.file = file_new(&fake_ops, O_RDONLY, ff);
    assert_non_null(m.file);
    m.file_off = off;
  }
  assert_int_equal(vma_remove(s, start, end), 0);
  assert_int_equal(vma_insert(s, &m), 0);
  if (m.file)
    file_unref(m.file); /* the list keeps its own reference */
}

static char out[64 * 1024];

static void lines_are_linux_lines(void **state) {
  struct vma_space s;
  vma_space_init(&s);
  struct fake_file libc = {"/usr/lib/x86_64-linux-gnu/libc.so.6", makedev(0xfe, 0), 332835};
  struct fake_file gconv = {"/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", makedev(0xfe, 0),
                            332280};
  map(&s, 0x55f5a2a8f000, 0x55f5a2ab0000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_HEAP, NULL, 0);
  map(&s, 0x7eff3cfe6000, 0x7eff3d0aa000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_ANON, NULL, 0);
  map(&s, 0x7eff3d131000, 0x7eff3d287000, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_FILE, &libc,
      0x26000);
  map(&s, 0x7eff3d2f0000, 0x7eff3d2f7000, PROT_READ, MAP_SHARED, VMA_FILE, &gconv, 0);
  map(&s, 0x7ffc1e5d2000, 0x7ffc1e5f3000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_STACK, NULL, 0);
  map(&s, 0x7ffc1e5f5000, 0x7ffc1e5f9000, PROT_READ, MAP_PRIVATE, VMA_VVAR, NULL, 0);
  map(&s, 0x7ffc1e5f9000, 0x7ffc1e5fb000, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_VDSO, NULL, 0);
  size_t n = proc_maps_format(&s, out, sizeof out);
  /* Copied from a Linux 6.x /proc/self/maps (the stack line made alike). */
  static const char want[] =
      "55f5a2a8f000-55f5a2ab0000 rw-p 00000000 00:00 0                          [heap]\n"
      "7eff3cfe6000-7eff3d0aa000 rw-p 00000000 00:00 0 \n"
      "7eff3d131000-7eff3d287000 r-xp 00026000 fe:00 332835                     "
      "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
      "7eff3d2f0000-7eff3d2f7000 r--s 00000000 fe:00 332280                     "
      "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\n"
      "7ffc1e5d2000-7ffc1e5f3000 rw-p 00000000 00:00 0                          [stack]\n"
      "7ffc1e5f5000-7ffc1e5f9000 r--p 00000000 00:00 0                          [vvar]\n"
      "7ffc1e5f9000-7ffc1e5fb000 r-xp 00000000 00:00 0                          [vdso]\n";
  assert_int_equal(n, strlen(want));
  out[n] = '\0';
  assert_string_equal(out, want);
  vma_space_fini(&s);
}

static void odd_mappings(void **state) {
  struct vma_space s;
  vma_space_init(&s);
  struct fake_file newline = {"/tmp/a\nb", makedev(0, 0xfffa1), 7};
  struct fake_file nameless = {NULL, makedev(0, 0xfffa1), 8};
  map(&s, 0x10000, 0x11000, PROT_NONE, MAP_PRIVATE, VMA_ANON, NULL, 0);
  map(&s, 0x20000, 0x21000, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, VMA_FILE, &newline,
      0x123456789000);
  map(&s, 0x30000, 0x31000, PROT_WRITE, MAP_SHARED, VMA_FILE, &nameless, 0);
  map(&s, 0x40000, 0x41000, PROT_READ, MAP_PRIVATE, VMA_IMAGE, NULL, 0); /* unnamed image */
  size_t n = proc_maps_format(&s, out, sizeof out);
  out[n] = '\0';
  assert_string_equal(out, "00010000-00011000 ---p 00000000 00:00 0 \n"
                           "00020000-00021000 rwxp 123456789000 00:fffa1 7                    "
                           "       /tmp/a\\012b\n"
                           "00030000-00031000 -w-s 00000000 00:fffa1 8 \n"
                           "00040000-00041000 r--p 00000000 00:00 0 \n");
  assert_int_equal(proc_maps_format(&s, out, 0), 0);
  vma_space_fini(&s);
}

/* The loader maps an image read-write, names its file-backed part, then
 * protects each segment: the names and offsets follow the splits. */
static void images_are_named_with_their_offsets(void **state) {
  struct vma_space s;
  vma_space_init(&s);
  const uint64_t base = 0x555555554000;
  map(&s, base, base + 0x6000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_IMAGE, NULL, 0);
  char name[] = "/usr/bin/prog";
  assert_int_equal(vma_name_range(&s, base, base + 0x5000, name, 0), 0);
  name[0] = 'X'; /* the space keeps its own copy */
  assert_int_equal(vma_protect(&s, base + 0x1000, base + 0x3000, PROT_READ | PROT_EXEC), 0);
  assert_int_equal(vma_protect(&s, base, base + 0x1000, PROT_READ), 0);
  /* An unnamed neighbour of the same kind is not merged into the image. */
  map(&s, base + 0x6000, base + 0x7000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_IMAGE, NULL, 0);
  size_t n = proc_maps_format(&s, out, sizeof out);
  out[n] = '\0';
  assert_string_equal(out, "555555554000-555555555000 r--p 00000000 00:00 0                      "
                           "    /usr/bin/prog\n"
                           "555555555000-555555557000 r-xp 00001000 00:00 0                      "
                           "    /usr/bin/prog\n"
                           "555555557000-555555559000 rw-p 00003000 00:00 0                      "
                           "    /usr/bin/prog\n"
                           "555555559000-55555555b000 rw-p 00000000 00:00 0 \n");
  /* A second image with the same name shares the copy; past the cap of
   * distinct names, or over a hole, naming fails. */
  map(&s, 0x10000, 0x11000, PROT_READ, MAP_PRIVATE, VMA_IMAGE, NULL, 0);
  assert_int_equal(vma_name_range(&s, 0x10000, 0x11000, "/usr/bin/prog", 0), 0);
  assert_ptr_equal(vma_find(&s, 0x10000)->name, vma_find(&s, base)->name);
  assert_int_equal(vma_name_range(&s, 0x10000, 0x12000, "/lib/ld.so", 0), -ENOMEM);
  char other[32];
  for (int i = 1; i < VMA_NAMES_MAX; i++) {
    snprintf(other, sizeof other, "/lib/%d.so", i);
    assert_int_equal(vma_name_range(&s, 0x10000, 0x11000, other, 0), 0);
  }
  assert_int_equal(vma_name_range(&s, 0x10000, 0x11000, "/lib/one-too-many.so", 0), -ENOMEM);
  assert_string_equal(vma_find(&s, 0x10000)->name, other);
  vma_space_fini(&s);
}

/* Every line well-formed: "start-end perms off dev ino " and '\n'. */
static size_t count_lines(const char *text, size_t n) {
  size_t lines = 0;
  for (const char *p = text; p < text + n; lines++) {
    const char *nl = memchr(p, '\n', (size_t)(text + n - p));
    assert_non_null(nl);
    unsigned long long a, b;
    char perms[5];
    assert_int_equal(sscanf(p, "%llx-%llx %4s", &a, &b, perms), 3);
    assert_true(a < b);
    p = nl + 1;
  }
  return lines;
}

/* The most mappings a guest can have: the text is cut after a whole line,
 * leaving no room for the next. */
static void the_largest_list_is_cut_cleanly(void **state) {
  struct vma_space s;
  vma_space_init(&s);
  for (uint64_t i = 0; i < VMA_MAX_COUNT; i++) {
    int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE; /* no merging */
    struct vma m = {.start = 0x10000 + i * 0x1000,
                    .end = 0x11000 + i * 0x1000,
                    .prot = prot,
                    .flags = MAP_PRIVATE,
                    .kind = VMA_ANON};
    assert_int_equal(vma_insert(&s, &m), 0);
  }
  assert_int_equal(s.n, VMA_MAX_COUNT);
  const size_t bound = 64 * 1024;
  size_t n = proc_maps_format(&s, out, bound);
  assert_true(n <= bound && n > bound - 64);
  assert_int_equal(out[n - 1], '\n');
  size_t lines = count_lines(out, n);
  /* All lines here are alike: "00010000-00011000 rw-p 00000000 00:00 0 \n". */
  assert_int_equal(n, lines * 41);
  assert_int_equal(lines, bound / 41);
  /* A buffer one byte short of a line holds the lines before it only. */
  assert_int_equal(proc_maps_format(&s, out, 41 * 3 - 1), 41 * 2);
  /* With room for all, every mapping is there. */
  char *all = malloc(41 * VMA_MAX_COUNT);
  assert_non_null(all);
  n = proc_maps_format(&s, all, 41 * VMA_MAX_COUNT);
  assert_int_equal(n, 41 * VMA_MAX_COUNT);
  assert_int_equal(count_lines(all, n), VMA_MAX_COUNT);
  free(all);
  vma_space_fini(&s);
}

/* The vfs's generator reads the VM's own list. */
static void generator_reads_the_vm(void **state) {
  struct vm *vm = calloc(1, sizeof *vm);
  assert_non_null(vm);
  vma_space_init(&vm->vmas);
  map(&vm->vmas, 0x7ffffffde000, 0x7ffffffff000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_STACK,
      NULL, 0);
  char buf[128];
  ssize_t n = proc_maps_generate(vm, buf, sizeof buf);
  assert_int_equal(n, 81);
  assert_memory_equal(buf + 73, "[stack]\n", 8);
  vma_space_fini(&vm->vmas);
  free(vm);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lines_are_linux_lines),
      cmocka_unit_test(odd_mappings),
      cmocka_unit_test(images_are_named_with_their_offsets),
      cmocka_unit_test(the_largest_list_is_cut_cleanly),
      cmocka_unit_test(generator_reads_the_vm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
