/* sys_mm.c - the memory system calls: brk, mmap, munmap, mprotect, mremap,
 * madvise. Mappings are populated when created (there is no page-fault
 * handler in the guest yet), so memory a program maps counts against the
 * VM's memory at once; PROT_NONE reservations take none until mprotect. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "file.h"
#include "loader/sitecache.h"
#include "log.h"
#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "mem/uaccess.h"
#include "syscalls.h"
#include "vm.h"

#ifndef PROT_SEM
#define PROT_SEM 0x8 /* <linux/mman.h>; glibc does not define it */
#endif

#define PAGE_ALIGNED(x) (((x) & (GUEST_PAGE_SIZE - 1)) == 0)

/* len rounded up to pages; 0 when it overflows or leaves the user range. */
static uint64_t page_round(uint64_t len) {
  if (len > LAYOUT_USER_TOP)
    return 0;
  return (len + GUEST_PAGE_SIZE - 1) & GUEST_PAGE_MASK;
}

static bool user_range(uint64_t addr, uint64_t len) {
  return addr >= LAYOUT_MMAP_MIN && addr + len >= addr && addr + len <= LAYOUT_USER_TOP;
}

long sys_brk(struct vm *vm, const uint64_t *a) {
  struct vm_mm *mm = &vm->mm;
  uint64_t want = a[0];
  /* Linux answers every failure with the unchanged break, never -ENOMEM. */
  if (want < mm->brk_start || want > mm->brk_limit)
    return (long)mm->brk;
  uint64_t old_end = page_round(mm->brk), new_end = page_round(want);
  if (new_end > old_end) {
    if (vma_overlaps(&vm->vmas, old_end, new_end))
      return (long)mm->brk;
    if (mm_map_fixed(vm, old_end, new_end - old_end, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                     VMA_HEAP) < 0)
      return (long)mm->brk;
  } else if (new_end < old_end) {
    mm_unmap(vm, new_end, old_end - new_end);
  }
  mm->brk = want;
  return (long)mm->brk;
}

/* Copies [off, off+len) of `f` into the freshly mapped guest range. Bytes
 * past the end of the file stay zero. */
static int mmap_fill_from_file(struct vm *vm, struct file *f, uint64_t addr, uint64_t len,
                               uint64_t off) {
  uint64_t done = 0;
  while (done < len) {
    struct iovec iov[64];
    size_t covered;
    int n = uaccess_iov(&vm->mem, addr + done, len - done, false, iov, 64, &covered);
    if (n < 0)
      return n;
    ssize_t got = f->ops->pread(f, iov, n, (off_t)(off + done));
    if (got < 0)
      return (int)got;
    if (got == 0)
      break;
    done += (uint64_t)got;
  }
  return 0;
}

struct mmap_req {
  uint64_t addr, len, off;
  int prot, flags, fd;
};

static long mmap_validate(const struct mmap_req *r) {
  int type = r->flags & MAP_TYPE;
  if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
    return -EINVAL;
  if (r->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
    return -EINVAL;
  if (r->len == 0 || !PAGE_ALIGNED(r->off))
    return -EINVAL;
  if (r->flags & MAP_HUGETLB)
    return -ENOMEM; /* no huge pages are reserved, as on a default Linux */
  return 0;
}

/* Chooses where the mapping goes; 0 when nowhere. */
static uint64_t mmap_place(struct vm *vm, const struct mmap_req *r, uint64_t len) {
  if (r->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
    return r->addr;
  if (r->flags & MAP_32BIT)
    return vma_find_free_topdown(&vm->vmas, len, 0x40000000ULL, 0x80000000ULL);
  uint64_t hint = r->addr & GUEST_PAGE_MASK;
  if (hint && user_range(hint, len) && !vma_overlaps(&vm->vmas, hint, hint + len))
    return hint;
  return mm_find_free(vm, len);
}

static long mmap_file_check(struct vm *vm, const struct mmap_req *r, struct file **out) {
  struct file *f = fdtable_get(&vm->fds, r->fd);
  if (!f)
    return -EBADF;
  if (!f->ops->pread)
    return -ENODEV;
  if (!file_readable(f))
    return -EACCES;
  /* A writable shared mapping would have to write back to the file; the
   * image is read-only and /tmp files are not mappable that way. */
  if ((r->flags & MAP_TYPE) != MAP_PRIVATE && (r->prot & PROT_WRITE)) {
    VLOG_LIMITED(VLOG_WARN, "mmap: writable MAP_SHARED file mappings are not supported");
    return file_writable(f) ? -ENODEV : -EACCES;
  }
  *out = f;
  return 0;
}

long sys_mmap(struct vm *vm, const uint64_t *a) {
  struct mmap_req r = {a[0], a[1], a[5], (int)a[2], (int)a[3], (int)a[4]};
  long rc = mmap_validate(&r);
  if (rc < 0)
    return rc;
  uint64_t len = page_round(r.len);
  if (len == 0)
    return -ENOMEM;
  struct file *f = NULL;
  if (!(r.flags & MAP_ANONYMOUS) && (rc = mmap_file_check(vm, &r, &f)) < 0)
    return rc;
  if ((r.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && !PAGE_ALIGNED(r.addr))
    return -EINVAL;
  uint64_t addr = mmap_place(vm, &r, len);
  if (!addr || !user_range(addr, len))
    return (r.flags & MAP_FIXED) && addr < LAYOUT_MMAP_MIN ? -EPERM : -ENOMEM;
  if ((r.flags & MAP_FIXED_NOREPLACE) && !(r.flags & MAP_FIXED) &&
      vma_overlaps(&vm->vmas, addr, addr + len))
    return -EEXIST;
  int fill_prot = f ? r.prot | PROT_READ | PROT_WRITE : r.prot;
  rc = mm_map_fixed(vm, addr, len, fill_prot, r.flags & MAP_TYPE, f ? VMA_FILE : VMA_ANON);
  if (rc < 0)
    return rc;
  if (f) {
    /* An executable mapping gets its `syscall` sites rewritten while it is
     * still writable, before its own protection applies. */
    rc = mmap_fill_from_file(vm, f, addr, len, r.off);
    if (rc >= 0 && (r.prot & PROT_EXEC))
      sitecache_rewrite(vm, f, NULL, addr, len, r.off);
    if (rc < 0 || (rc = mm_protect(vm, addr, len, r.prot)) < 0) {
      mm_unmap(vm, addr, len);
      return rc;
    }
    struct vma *m = (struct vma *)vma_find(&vm->vmas, addr);
    m->file = file_ref(f);
    m->file_off = r.off;
  }
  return (long)addr;
}

long sys_munmap(struct vm *vm, const uint64_t *a) {
  uint64_t addr = a[0], len = page_round(a[1]);
  if (!PAGE_ALIGNED(addr) || a[1] == 0 || len == 0 || !user_range(addr, len))
    return -EINVAL;
  return mm_unmap(vm, addr, len);
}

/* The file mappings of [addr, addr+len) about to gain PROT_EXEC get their
 * `syscall` sites rewritten first, through a writable view: sys_mprotect
 * then gives the whole range its final protection. */
static void mprotect_rewrite(struct vm *vm, uint64_t addr, uint64_t len) {
  for (uint64_t at = addr; at < addr + len;) {
    const struct vma *m = vma_find(&vm->vmas, at);
    if (!m)
      return;
    /* Copy what we need: mm_protect may split (and move) the vma array. */
    uint64_t end = m->end < addr + len ? m->end : addr + len;
    struct file *f = m->file;
    uint64_t off = m->file_off + (at - m->start);
    if (f && !(m->prot & PROT_EXEC) &&
        mm_protect(vm, at, end - at, m->prot | PROT_READ | PROT_WRITE) == 0)
      sitecache_rewrite(vm, f, NULL, at, end - at, off);
    at = end;
  }
}

long sys_mprotect(struct vm *vm, const uint64_t *a) {
  uint64_t addr = a[0], len = page_round(a[1]);
  int prot = (int)a[2];
  if (!PAGE_ALIGNED(addr) || (a[1] && len == 0))
    return -EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP))
    return -EINVAL;
  if (len == 0)
    return 0;
  if (!user_range(addr, len))
    return -ENOMEM;
  prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
  if ((prot & PROT_EXEC) && !vm->cfg->no_rewrite && vma_covered(&vm->vmas, addr, addr + len))
    mprotect_rewrite(vm, addr, len);
  return mm_protect(vm, addr, len, prot);
}

/* Copies n bytes of guest memory between two mapped ranges, page by page. */
static int mm_copy(struct vm *vm, uint64_t dst, uint64_t src, uint64_t n) {
  uint8_t *buf = malloc(GUEST_PAGE_SIZE);
  if (!buf)
    return -ENOMEM;
  int rc = 0;
  for (uint64_t off = 0; off < n && rc == 0; off += GUEST_PAGE_SIZE) {
    uint64_t chunk = n - off < GUEST_PAGE_SIZE ? n - off : GUEST_PAGE_SIZE;
    rc = uaccess_copy_from(&vm->mem, buf, src + off, chunk);
    if (rc == 0)
      rc = uaccess_copy_to(&vm->mem, dst + off, buf, chunk);
  }
  free(buf);
  return rc;
}

static long mremap_move(struct vm *vm, const struct vma *old, uint64_t addr, uint64_t old_len,
                        uint64_t new_len, uint64_t dst) {
  struct vma saved = *old;
  int rc = mm_map_fixed(vm, dst, new_len, PROT_READ | PROT_WRITE, saved.flags, saved.kind);
  if (rc < 0)
    return rc;
  uint64_t keep = old_len < new_len ? old_len : new_len;
  if ((saved.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) &&
      (rc = mm_copy(vm, dst, addr, keep)) < 0) {
    mm_unmap(vm, dst, new_len);
    return rc;
  }
  mm_protect(vm, dst, new_len, saved.prot);
  mm_unmap(vm, addr, old_len);
  return (long)dst;
}

long sys_mremap(struct vm *vm, const uint64_t *a) {
  uint64_t addr = a[0], old_len = page_round(a[1]), new_len = page_round(a[2]);
  int flags = (int)a[3];
  if (!PAGE_ALIGNED(addr) || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)))
    return -EINVAL; /* MREMAP_DONTUNMAP is refused as for non-anonymous maps */
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
    return -EINVAL;
  if (new_len == 0 || old_len == 0)
    return -EINVAL; /* old_size 0 duplicates shared mappings only */
  const struct vma *m = vma_find(&vm->vmas, addr);
  if (!m || m->end < addr + old_len)
    return -EFAULT;
  if (m->kind == VMA_FILE)
    return -EINVAL; /* would need the file's later pages: not supported */
  if (flags & MREMAP_FIXED) {
    uint64_t dst = a[4];
    if (!PAGE_ALIGNED(dst) || !user_range(dst, new_len) ||
        (dst < addr + old_len && addr < dst + new_len))
      return -EINVAL;
    return mremap_move(vm, m, addr, old_len, new_len, dst);
  }
  if (new_len <= old_len) {
    if (new_len < old_len)
      mm_unmap(vm, addr + new_len, old_len - new_len);
    return (long)addr;
  }
  uint64_t grow_at = addr + old_len, grow = new_len - old_len;
  if (m->end == grow_at && user_range(grow_at, grow) &&
      !vma_overlaps(&vm->vmas, grow_at, grow_at + grow) &&
      mm_map_fixed(vm, grow_at, grow, m->prot, m->flags, m->kind) == 0)
    return (long)addr;
  if (!(flags & MREMAP_MAYMOVE))
    return -ENOMEM;
  uint64_t dst = mm_find_free(vm, new_len);
  if (!dst)
    return -ENOMEM;
  return mremap_move(vm, m, addr, old_len, new_len, dst);
}

/* MADV_DONTNEED: private anonymous pages read back as zeroes, whatever
 * their protection; private file pages as the file's contents again. The
 * mappings themselves do not change. */
static long madvise_dontneed(struct vm *vm, uint64_t addr, uint64_t len) {
  for (uint64_t at = addr; at < addr + len;) {
    const struct vma *m = vma_find(&vm->vmas, at);
    if (!m)
      return -ENOMEM;
    uint64_t end = m->end < addr + len ? m->end : addr + len;
    struct file *f = m->file;
    uint64_t off = m->file_off + (at - m->start);
    int prot = m->prot;
    /* A file's pages are refilled through a readable view of them. */
    mm_discard(vm, at, end - at, f ? prot | PROT_READ : prot);
    if (f) {
      mmap_fill_from_file(vm, f, at, end - at, off);
      if (prot == PROT_NONE)
        gmem_set_access(&vm->mem, at, end - at, 0);
    }
    at = end;
  }
  return 0;
}

long sys_madvise(struct vm *vm, const uint64_t *a) {
  uint64_t addr = a[0], len = page_round(a[1]);
  int advice = (int)a[2];
  if (!PAGE_ALIGNED(addr) || (a[1] && len == 0) || addr + len < addr)
    return -EINVAL;
  switch (advice) {
  case MADV_DONTNEED:
  case MADV_FREE: /* freeing at once is one of the behaviours Linux allows */
    if (!vma_covered(&vm->vmas, addr, addr + len))
      return -ENOMEM;
    return madvise_dontneed(vm, addr, len);
  case MADV_NORMAL:
  case MADV_RANDOM:
  case MADV_SEQUENTIAL:
  case MADV_WILLNEED:
  case MADV_DONTFORK:
  case MADV_DOFORK:
  case MADV_HUGEPAGE:
  case MADV_NOHUGEPAGE:
  case MADV_DONTDUMP:
  case MADV_DODUMP:
  case MADV_COLD:
  case MADV_PAGEOUT:
    /* Hints: they change no contents, and honouring them is optional. */
    return vma_covered(&vm->vmas, addr, addr + len) ? 0 : -ENOMEM;
  default:
    return -EINVAL;
  }
}
