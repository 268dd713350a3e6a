/* load.c - starts a program in a fresh VM (see load.h): finds it, places
 * its image (at a random bias when it is position-independent), then lays
 * out the rest of the address space as Linux does on x86-64, each part
 * randomised:
 *
 *   stack_top     LAYOUT_STACK_TOP minus up to STACK_RANDOM_SPAN
 *   stack         mapped whole up front (no page-fault handler: PLATFORM.md)
 *   mmap_top      stack bottom minus LAYOUT_STACK_GAP; mmaps grow down
 *   ...
 *   brk_limit     brk_start + guest memory size, at most mmap_top
 *   brk_start     end of the image plus up to BRK_RANDOM_SPAN
 *   image         ET_EXEC at its own addresses; ET_DYN at LAYOUT_PIE_BASE
 *                 plus up to PIE_RANDOM_SPAN
 *   interpreter   (PT_INTERP) in the mmap area, like the first mmap
 *
 * brk_limit plays RLIMIT_DATA's part: no heap can outgrow guest memory,
 * and the brk call itself refuses to grow into a mapping. */
#include "loader/load.h"

#include <elf.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "loader/elfmap.h"
#include "loader/hwcap.h"
#include "loader/loadfile.h"
#include "loader/stack.h"
#include "log.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "mem/uaccess.h"
#include "vdso/vdso.h"
#include "vm.h"

#define PIE_RANDOM_SPAN (1ULL << 30)   /* 1 GiB of PIE base randomisation */
#define BRK_RANDOM_SPAN (32ULL << 20)  /* as Linux's arch_randomize_brk */
#define STACK_RANDOM_SPAN (1ULL << 30) /* 1 GiB below LAYOUT_STACK_TOP */
#define STACK_MAX (8ULL << 20)         /* Linux's default RLIMIT_STACK */
#define MAX_BIAS_ALIGN (1ULL << 30)    /* p_align honoured up to 1 GiB */

static uint64_t page_up(uint64_t v) { return (v + GUEST_PAGE_SIZE - 1) & GUEST_PAGE_MASK; }

static int fill_random(void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      vlog(VLOG_ERROR, "loader: getrandom failed");
      return -EIO;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* A random page-aligned offset in [0, span). */
static int random_pages(uint64_t span, uint64_t *out) {
  uint64_t r;
  int err = fill_random(&r, sizeof r);
  if (!err)
    *out = (r % (span / GUEST_PAGE_SIZE)) * GUEST_PAGE_SIZE;
  return err;
}

/* The stack: its size, its randomised top, and the mmap area below it. */
static int place_stack(struct vm *vm) {
  uint64_t size = vm->mem.size / 8 < STACK_MAX ? vm->mem.size / 8 : STACK_MAX;
  uint64_t offset;
  int err = random_pages(STACK_RANDOM_SPAN, &offset);
  if (err)
    return err;
  size = page_up(size);
  vm->mm.stack_top = LAYOUT_STACK_TOP - offset;
  vm->mm.stack_bottom = vm->mm.stack_top - size;
  vm->mm.mmap_top = vm->mm.stack_bottom - LAYOUT_STACK_GAP;
  err = mm_map_fixed(vm, vm->mm.stack_bottom, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, VMA_STACK);
  if (err)
    vlog(VLOG_ERROR, "loader: cannot map a %llu KiB stack: guest memory exhausted",
         (unsigned long long)(size >> 10));
  return err;
}

/* The bias for an image: 0 for ET_EXEC, a random aligned base for ET_DYN. */
static int choose_bias(const struct elf_info *info, uint64_t *bias) {
  if (info->type == ET_EXEC) {
    *bias = 0;
    return 0;
  }
  uint64_t offset;
  int err = random_pages(PIE_RANDOM_SPAN, &offset);
  if (err)
    return err;
  uint64_t align = info->max_align <= MAX_BIAS_ALIGN ? info->max_align : GUEST_PAGE_SIZE;
  uint64_t base = (LAYOUT_PIE_BASE + offset + align - 1) & ~(align - 1);
  *bias = base - info->lo;
  return 0;
}

/* The biased image must lie between the lowest mappable page and the mmap
 * area below the stack. */
static int check_fits(const struct load_file *lf, const struct elf_info *info, uint64_t bias,
                      const struct vm *vm) {
  uint64_t start = info->lo + bias, end = info->hi + bias;
  if (start < LAYOUT_MMAP_MIN || end < start || end > vm->mm.mmap_top) {
    vlog(VLOG_ERROR,
         "%s: not a usable ELF executable: segments at %#llx-%#llx collide "
         "with the stack area",
         lf->path, (unsigned long long)start, (unsigned long long)end);
    return -ENOEXEC;
  }
  return 0;
}

/* Room for an image of `span` bytes aligned to `align`, below the mmap top
 * (where Linux puts the interpreter too); 0 when none. */
static uint64_t find_room(struct vm *vm, uint64_t span, uint64_t align) {
  uint64_t padded = span + align - GUEST_PAGE_SIZE;
  if (padded < span)
    return 0;
  uint64_t at = mm_find_free(vm, padded);
  return at ? (at + align - 1) & ~(align - 1) : 0;
}

/* The program interpreter (PT_INTERP, e.g. ld-linux-x86-64.so.2), opened
 * inside the guest's root and placed in the mmap area. It must be a
 * position-independent ELF with no interpreter of its own. */
static int place_interp(struct vm *vm, const struct load_file *exe_lf,
                        const struct elf_info *exe_info, struct elf_placed *out) {
  char path[ELF_INTERP_MAX];
  int err = elfmap_read_interp(exe_lf, exe_info, path);
  struct load_file lf;
  if (err || (err = load_file_open(vm, path, &lf)))
    return err;
  struct elf_info info;
  err = elfmap_read_headers(&lf, &info);
  if (!err && (info.type != ET_DYN || info.interp.present)) {
    vlog(VLOG_ERROR, "%s: interpreter %s is not a position-independent loader", exe_lf->path, path);
    err = -ENOEXEC;
  }
  uint64_t align = info.max_align <= MAX_BIAS_ALIGN ? info.max_align : GUEST_PAGE_SIZE;
  uint64_t base = err ? 0 : find_room(vm, info.hi - info.lo, align);
  if (!err && !base) {
    vlog(VLOG_ERROR, "%s: no room for interpreter %s", exe_lf->path, path);
    err = -ENOMEM;
  }
  if (!err)
    err = elfmap_load(vm, &lf, &info, base - info.lo, out);
  load_file_close(&lf);
  return err;
}

static int place_program(struct vm *vm, const struct load_file *lf, struct elf_placed *exe,
                         struct elf_info *info) {
  int err = elfmap_read_headers(lf, info);
  uint64_t bias = 0;
  if (!err)
    err = choose_bias(info, &bias);
  if (!err)
    err = check_fits(lf, info, bias, vm);
  if (!err)
    err = elfmap_load(vm, lf, info, bias, exe);
  return err;
}

static int place_brk(struct vm *vm, const struct elf_placed *exe) {
  uint64_t offset;
  int err = random_pages(BRK_RANDOM_SPAN, &offset);
  if (err)
    return err;
  uint64_t start = exe->end + offset;
  if (start > vm->mm.mmap_top)
    start = exe->end; /* an image right under the mmap area: no random gap */
  uint64_t limit = start + vm->mem.size;
  vm->mm.brk_start = vm->mm.brk = start;
  vm->mm.brk_limit = limit < vm->mm.mmap_top ? limit : vm->mm.mmap_top;
  return 0;
}

struct load_args {
  const char *path;
  char *const *argv, *const *env;
};

static int write_stack(struct vm *vm, const struct elf_info *info, const struct elf_placed *exe,
                       uint64_t interp_base, const struct load_args *la, uint64_t *sp) {
  struct stack_auxv aux = {
      .phdr = exe->phdr,
      .phent = ELF_PHENT_SIZE,
      .phnum = info->phnum,
      .entry = exe->entry,
      .base = interp_base, /* 0 without an interpreter */
      .uid = PROC_GUEST_UID,
      .euid = PROC_GUEST_UID,
      .gid = PROC_GUEST_GID,
      .egid = PROC_GUEST_GID,
      .hwcap = hwcap_at_hwcap(),
      .minsigstksz = hwcap_min_sigstksz(),
      .sysinfo_ehdr = vm->vdso.base, /* 0 without a vDSO */
  };
  struct stack_image img;
  uint64_t size = vm->mm.stack_top - vm->mm.stack_bottom;
  int err = stack_build(vm->mm.stack_top, la->argv, la->env, la->path, vm->proc.random, &aux,
                        (size_t)(size / 4), &img);
  if (err == -E2BIG)
    vlog(VLOG_ERROR, "%s: arguments and environment too large for the stack", la->path);
  if (err)
    return err;
  err = uaccess_copy_to(&vm->mem, img.sp, img.bytes, img.len);
  if (err)
    vlog(VLOG_ERROR, "loader: the initial stack does not fit at %#llx", (unsigned long long)img.sp);
  *sp = img.sp;
  stack_image_free(&img);
  return err;
}

/* /proc/self/exe names the program's canonical guest path (absolute, its
 * symlinks resolved), as after an execve, not the path as given: a program
 * started as "./app" or "bin/app" finds itself from any directory. */
static int set_exe(struct vm *vm, const struct load_file *lf) {
  struct file *f = lf->file;
  const char *canonical = f->ops->path ? f->ops->path(f) : NULL;
  int err = vfs_set_exe(vm->vfs, canonical ? canonical : lf->path);
  if (err)
    vlog(VLOG_ERROR, "%s: cannot record /proc/self/exe (%d)", lf->path, err);
  return err;
}

int load_program(struct vm *vm, struct load_result *out) {
  const char *path = vm->cfg->argv ? vm->cfg->argv[0] : NULL;
  if (!path || !*path) {
    vlog(VLOG_ERROR, "loader: no program given");
    return -ENOENT;
  }
  return load_program_args(vm, path, vm->cfg->argv, vm->cfg->env, out);
}

int load_program_args(struct vm *vm, const char *path, char *const *argv, char *const *env,
                      struct load_result *out) {
  struct load_args la = {.path = path, .argv = argv, .env = env};
  struct load_file lf;
  int err = load_file_open(vm, path, &lf);
  if (err)
    return err;
  struct elf_info info;
  struct elf_placed exe, interp = {0};
  err = fill_random(vm->proc.random, sizeof vm->proc.random);
  if (!err)
    err = place_stack(vm);
  if (!err)
    err = place_program(vm, &lf, &exe, &info);
  if (!err && info.interp.present)
    err = place_interp(vm, &lf, &info, &interp);
  if (!err)
    err = set_exe(vm, &lf);
  load_file_close(&lf);
  if (!err) {
    vm->mm.load_bias = exe.bias;
    err = place_brk(vm, &exe);
  }
  if (!err)
    err = vdso_map(vm);
  if (!err)
    err = write_stack(vm, &info, &exe, interp.start, &la, &out->sp);
  if (!err)
    out->entry = info.interp.present ? interp.entry : exe.entry;
  return err;
}
