/* mapexec.c - maps a copy of its own code from its executable file, the way
 * ld.so maps a library's text, and calls the copy of a function that makes
 * a system call with `syscall`. Prints the two bytes at the copy's syscall
 * site (e6 90 once the VMM rewrote it, 0f 05 when not) and checks what the
 * call returns.
 *   mapexec mmap N      mmap the pages PROT_READ|PROT_EXEC, call N times
 *   mapexec mprotect N  mmap them PROT_READ, show the site, mprotect
 *                       PROT_READ|PROT_EXEC, call N times */
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

long mx_getpid(void);
extern const char mx_getpid_site[];

/* getpid(2) with a `syscall` at the global label mx_getpid_site; the CFI
 * directives give it an FDE, so the site finder decodes it. */
__asm__(".pushsection .text.mx_getpid, \"ax\", @progbits\n"
        ".globl mx_getpid\n"
        ".type mx_getpid, @function\n"
        "mx_getpid:\n"
        "  .cfi_startproc\n"
        "  movl $39, %eax\n" /* __NR_getpid */
        ".globl mx_getpid_site\n"
        "mx_getpid_site:\n"
        "  syscall\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size mx_getpid, .-mx_getpid\n"
        ".popsection\n");

struct where {
  uintptr_t addr; /* run-time address of mx_getpid */
  long off;       /* its file offset, -1 until found */
};

/* The first object dl_iterate_phdr reports is the program itself. */
static int find_offset(struct dl_phdr_info *info, size_t size, void *arg) {
  struct where *w = arg;
  (void)size;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t vaddr = w->addr - info->dlpi_addr;
    if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr < ph->p_filesz)
      w->off = (long)(ph->p_offset + (vaddr - ph->p_vaddr));
  }
  return 1;
}

static void show_site(const char *when, const unsigned char *site) {
  printf("%s: %02x %02x\n", when, site[0], site[1]);
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "mmap") && strcmp(argv[1], "mprotect"))) {
    fprintf(stderr, "usage: mapexec mmap|mprotect N\n");
    return 2;
  }
  int calls = atoi(argv[2]);
  bool later = strcmp(argv[1], "mprotect") == 0;
  struct where w = {(uintptr_t)mx_getpid, -1};
  dl_iterate_phdr(find_offset, &w);
  int fd = open(argv[0], O_RDONLY);
  if (w.off < 0 || fd < 0) {
    perror("mapexec: finding my own code");
    return 1;
  }
  long page = sysconf(_SC_PAGESIZE), map_off = w.off & ~(page - 1);
  int prot = later ? PROT_READ : PROT_READ | PROT_EXEC;
  unsigned char *map = mmap(NULL, 2 * page, prot, MAP_PRIVATE, fd, map_off);
  if (map == MAP_FAILED) {
    perror("mapexec: mmap");
    return 1;
  }
  close(fd);
  unsigned char *copy = map + (w.off - map_off);
  const unsigned char *site = copy + (mx_getpid_site - (const char *)mx_getpid);
  if (later) {
    show_site("before mprotect", site);
    if (mprotect(map, 2 * page, PROT_READ | PROT_EXEC) != 0) {
      perror("mapexec: mprotect");
      return 1;
    }
  }
  show_site("mapped site", site);
  long (*fn)(void) = (long (*)(void))(void *)copy;
  long want = getpid(), bad = 0;
  for (int i = 0; i < calls; i++)
    bad += fn() != want;
  printf("%d calls of the mapped copy, %ld wrong\n", calls, bad);
  return bad ? 1 : 0;
}
