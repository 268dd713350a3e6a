/* mmapops.c - memory-management calls under hearth-vmm, meant to run with
 * --mem 64: anonymous memory handed back zeroed after munmap (more in total
 * than the guest has), mremap growth keeping contents, mprotect round
 * trips, MAP_FIXED over part of a mapping, MADV_DONTNEED, a private mapping
 * of /data.bin (the test writes it with data_byte()), whole and at an
 * offset, brk growth, EINVAL for malformed requests, and mmap / brk
 * requests larger than guest memory failing without ending the VM.
 * Prints "mmapops: OK" and exits 0, or names the first failed check. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1ul << 20)
#define PAGE 4096ul
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("mmapops: FAIL: " __VA_ARGS__);                                                       \
      printf(" (errno %d %s)\n", errno, strerror(errno));                                          \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* The bytes of /data.bin, as the test writes them. */
static unsigned char data_byte(size_t i) { return (unsigned char)(i * 7 + i / PAGE + 1); }

static void fill(unsigned char *p, size_t len, unsigned char seed) {
  for (size_t i = 0; i < len; i++)
    p[i] = (unsigned char)(seed + i * 13 + i / PAGE);
}

/* Index of the first byte of p[from..to) that fill(p, _, seed) did not put
 * there, or `to`; seed -1 means zeroes. */
static size_t first_wrong(const unsigned char *p, size_t from, size_t to, int seed) {
  for (size_t i = from; i < to; i++) {
    unsigned char want = seed < 0 ? 0 : (unsigned char)(seed + i * 13 + i / PAGE);
    if (p[i] != want)
      return i;
  }
  return to;
}

/* 8 rounds of 16 MiB is twice the guest's memory: munmap must free it. */
static int check_anon_reused_zeroed(void) {
  for (int round = 0; round < 8; round++) {
    unsigned char *p = mmap(NULL, 16 * MIB, RW, ANON, -1, 0);
    CHECK(p != MAP_FAILED, "round %d: mmap 16 MiB", round);
    size_t bad = first_wrong(p, 0, 16 * MIB, -1);
    CHECK(bad == 16 * MIB, "round %d: fresh mapping has %#x at offset %zu", round, p[bad], bad);
    fill(p, 16 * MIB, (unsigned char)round);
    CHECK(munmap(p, 16 * MIB) == 0, "round %d: munmap", round);
  }
  return 0;
}

static int check_mremap_standalone(void) {
  unsigned char *p = mmap(NULL, MIB, RW, ANON, -1, 0);
  CHECK(p != MAP_FAILED, "mmap 1 MiB");
  fill(p, MIB, 3);
  unsigned char *q = mremap(p, MIB, 8 * MIB, MREMAP_MAYMOVE);
  CHECK(q != MAP_FAILED, "mremap 1 -> 8 MiB");
  CHECK(first_wrong(q, 0, MIB, 3) == MIB, "mremap lost the first MiB's contents");
  CHECK(first_wrong(q + MIB, 0, 7 * MIB, -1) == 7 * MIB, "mremap's new 7 MiB are not zero");
  fill(q + MIB, 7 * MIB, 4);
  CHECK(munmap(q, 8 * MIB) == 0, "munmap after mremap");
  return 0;
}

/* Growing the first half of a 2 MiB mapping cannot happen in place: the
 * second half is in the way, so it moves, and the second half stays. */
static int check_mremap_must_move(void) {
  unsigned char *r = mmap(NULL, 2 * MIB, RW, ANON, -1, 0);
  CHECK(r != MAP_FAILED, "mmap 2 MiB");
  fill(r, MIB, 5);
  fill(r + MIB, MIB, 6);
  unsigned char *q = mremap(r, MIB, 4 * MIB, MREMAP_MAYMOVE);
  CHECK(q != MAP_FAILED, "mremap of the first half 1 -> 4 MiB");
  CHECK(q != r, "mremap grew in place over the mapped second half");
  CHECK(first_wrong(q, 0, MIB, 5) == MIB, "moved mapping lost its contents");
  CHECK(first_wrong(q + MIB, 0, 3 * MIB, -1) == 3 * MIB, "moved mapping's growth is not zero");
  CHECK(first_wrong(r + MIB, 0, MIB, 6) == MIB, "the second half changed");
  CHECK(munmap(q, 4 * MIB) == 0 && munmap(r + MIB, MIB) == 0, "munmap after the move");
  return 0;
}

static int check_mprotect_keeps(void) {
  unsigned char *p = mmap(NULL, 4 * PAGE, RW, ANON, -1, 0);
  CHECK(p != MAP_FAILED, "mmap 4 pages");
  fill(p, 4 * PAGE, 7);
  CHECK(mprotect(p, 4 * PAGE, PROT_READ) == 0, "mprotect PROT_READ");
  CHECK(first_wrong(p, 0, 4 * PAGE, 7) == 4 * PAGE, "contents changed by PROT_READ");
  CHECK(mprotect(p, 4 * PAGE, RW) == 0, "mprotect back to RW");
  CHECK(first_wrong(p, 0, 4 * PAGE, 7) == 4 * PAGE, "contents changed by RW");
  fill(p, 4 * PAGE, 8);
  CHECK(first_wrong(p, 0, 4 * PAGE, 8) == 4 * PAGE, "write after mprotect RW");
  return munmap(p, 4 * PAGE) == 0 ? 0 : 1;
}

static int check_map_fixed_part(void) {
  unsigned char *p = mmap(NULL, 4 * PAGE, RW, ANON, -1, 0);
  CHECK(p != MAP_FAILED, "mmap 4 pages");
  fill(p, 4 * PAGE, 9);
  unsigned char *mid = mmap(p + PAGE, 2 * PAGE, RW, ANON | MAP_FIXED, -1, 0);
  CHECK(mid == p + PAGE, "MAP_FIXED at %p gave %p", (void *)(p + PAGE), (void *)mid);
  CHECK(first_wrong(mid, 0, 2 * PAGE, -1) == 2 * PAGE, "MAP_FIXED pages are not zero");
  CHECK(first_wrong(p, 0, PAGE, 9) == PAGE, "page before the MAP_FIXED range changed");
  CHECK(first_wrong(p, 3 * PAGE, 4 * PAGE, 9) == 4 * PAGE,
        "page after the MAP_FIXED range changed");
  return munmap(p, 4 * PAGE) == 0 ? 0 : 1;
}

static int check_madv_dontneed(void) {
  unsigned char *p = mmap(NULL, 4 * PAGE, RW, ANON, -1, 0);
  CHECK(p != MAP_FAILED, "mmap 4 pages");
  fill(p, 4 * PAGE, 10);
  CHECK(madvise(p + PAGE, 2 * PAGE, MADV_DONTNEED) == 0, "madvise DONTNEED");
  CHECK(first_wrong(p + PAGE, 0, 2 * PAGE, -1) == 2 * PAGE, "MADV_DONTNEED pages are not zero");
  CHECK(first_wrong(p, 0, PAGE, 10) == PAGE && first_wrong(p, 3 * PAGE, 4 * PAGE, 10) == 4 * PAGE,
        "pages around the MADV_DONTNEED range changed");
  return munmap(p, 4 * PAGE) == 0 ? 0 : 1;
}

/* As a dynamic loader maps a segment: pages 1-2 of the file, MAP_FIXED
 * over the middle of an anonymous reservation. */
static int check_file_at_offset(int fd, const unsigned char *by_read) {
  unsigned char *res = mmap(NULL, 4 * PAGE, PROT_NONE, ANON, -1, 0);
  CHECK(res != MAP_FAILED, "reserve 4 pages");
  unsigned char *seg = mmap(res + PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, PAGE);
  CHECK(seg == res + PAGE, "MAP_FIXED file mapping at %p gave %p", (void *)(res + PAGE),
        (void *)seg);
  CHECK(memcmp(seg, by_read + PAGE, 2 * PAGE) == 0, "file mapped at offset 4096 differs");
  return munmap(res, 4 * PAGE) == 0 ? 0 : 1;
}

/* A private file mapping shows the file, zeroes past its end, and keeps
 * the guest's writes to itself. */
static int check_file_mapping(void) {
  static unsigned char by_read[64 * 1024];
  int fd = open("/data.bin", O_RDONLY);
  struct stat st;
  CHECK(fd >= 0 && fstat(fd, &st) == 0, "open /data.bin");
  size_t size = (size_t)st.st_size, span = (size + PAGE - 1) / PAGE * PAGE;
  CHECK(size > 2 * PAGE && size % PAGE != 0 && size <= sizeof by_read, "size %zu", size);
  CHECK(read(fd, by_read, size) == (ssize_t)size, "read /data.bin");
  for (size_t i = 0; i < size; i++)
    CHECK(by_read[i] == data_byte(i), "read: byte %zu of /data.bin", i);
  unsigned char *m = mmap(NULL, size, RW, MAP_PRIVATE, fd, 0);
  CHECK(m != MAP_FAILED, "mmap /data.bin MAP_PRIVATE");
  CHECK(memcmp(m, by_read, size) == 0, "mapping differs from read()");
  CHECK(first_wrong(m + size, 0, span - size, -1) == span - size, "bytes past EOF are not zero");
  m[0] ^= 0xff;
  unsigned char first;
  CHECK(pread(fd, &first, 1, 0) == 1 && first == data_byte(0), "a private write reached the file");
  CHECK(munmap(m, size) == 0, "munmap /data.bin");
  return check_file_at_offset(fd, by_read) || close(fd) != 0;
}

static uintptr_t brk_to(uintptr_t addr) { return (uintptr_t)syscall(SYS_brk, addr); }

/* Raw brk: musl's sbrk() only answers sbrk(0). Nothing here may malloc. */
static int check_brk(void) {
  uintptr_t base = brk_to(0);
  CHECK(base != 0, "brk(0)");
  CHECK(brk_to(base + MIB) == base + MIB, "brk could not grow by 1 MiB");
  fill((unsigned char *)base, MIB, 11);
  CHECK(brk_to(base) == base, "brk could not shrink back");
  CHECK(brk_to(base + MIB) == base + MIB, "brk could not grow again");
  CHECK(first_wrong((unsigned char *)base, 0, MIB, -1) == MIB, "regrown break is not zero");
  CHECK(brk_to(base) == base, "brk could not shrink back");
  uintptr_t got = brk_to(base + 1024 * MIB);
  CHECK(got == base, "brk(+1 GiB) with 64 MiB returned %#lx, want the old break %#lx",
        (unsigned long)got, (unsigned long)base);
  return 0;
}

static int check_bad_requests(void) {
  errno = 0;
  CHECK(mmap(NULL, 0, RW, ANON, -1, 0) == MAP_FAILED && errno == EINVAL, "mmap of 0 bytes");
  unsigned char *p = mmap(NULL, 2 * PAGE, RW, ANON, -1, 0);
  CHECK(p != MAP_FAILED, "mmap 2 pages");
  errno = 0;
  CHECK(munmap(p + 1, PAGE) != 0 && errno == EINVAL, "munmap of an unaligned address");
  errno = 0;
  CHECK(mmap(p + 1, PAGE, RW, ANON | MAP_FIXED, -1, 0) == MAP_FAILED && errno == EINVAL,
        "MAP_FIXED at an unaligned address");
  return munmap(p, 2 * PAGE) == 0 ? 0 : 1;
}

static int check_too_big(void) {
  errno = 0;
  void *p = mmap(NULL, 1024 * MIB, RW, ANON, -1, 0);
  CHECK(p == MAP_FAILED && errno == ENOMEM, "mmap 1 GiB with 64 MiB of memory gave %p", p);
  unsigned char *q = mmap(NULL, MIB, RW, ANON, -1, 0);
  CHECK(q != MAP_FAILED, "mmap 1 MiB after the refused 1 GiB");
  fill(q, MIB, 12);
  return munmap(q, MIB) == 0 ? 0 : 1;
}

/* Page tables grow while the guest runs: a mapping in a region no earlier
 * mapping shared a page-table page with (here a fresh 512 GiB slot, so new
 * PDPT, page directory and page table pages too) must be usable at once,
 * and a mapping made again at the same address must read back zeroed
 * (the VMM never changes a present entry: it reuses and zeroes the page). */
static int check_fresh_page_tables(void) {
  unsigned char *want = (unsigned char *)0x100000000000ULL; /* 16 TiB */
  unsigned char *p = mmap(want, 3 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK(p == want, "mmap in a fresh page-table region gave %p", (void *)p);
  fill(p, 3 * PAGE, 21);
  CHECK(first_wrong(p, 0, 3 * PAGE, 21) == 3 * PAGE, "fresh region reads back");
  CHECK(munmap(p, 3 * PAGE) == 0, "munmap the fresh region");
  p = mmap(want, 3 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK(p == want, "mmap again at the same address gave %p", (void *)p);
  CHECK(first_wrong(p, 0, 3 * PAGE, -1) == 3 * PAGE, "the same pages mapped again are zero");
  return munmap(p, 3 * PAGE) == 0 ? 0 : 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (check_fresh_page_tables())
    return 1;
  if (check_anon_reused_zeroed() || check_mremap_standalone() || check_mremap_must_move() ||
      check_mprotect_keeps() || check_map_fixed_part() || check_madv_dontneed() ||
      check_file_mapping() || check_brk() || check_bad_requests() || check_too_big())
    return 1;
  puts("mmapops: OK");
  return 0;
}
