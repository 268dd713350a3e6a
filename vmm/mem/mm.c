/* mm.c - address-space operations on a VM: the vma list and the page tables
 * kept in step (mm.h). */
#include "mm.h"

#include <errno.h>
#include <sys/mman.h>

#include "gmem.h"
#include "layout.h"
#include "vm.h"

static unsigned prot_access(int prot) {
  if (prot & PROT_WRITE)
    return GMEM_ACC_READ | GMEM_ACC_WRITE;
  return (prot & (PROT_READ | PROT_EXEC)) ? GMEM_ACC_READ : 0;
}

int mm_map_fixed(struct vm *vm, uint64_t addr, uint64_t len, int prot, int flags,
                 enum vma_kind kind) {
  int rc = mm_unmap(vm, addr, len);
  if (rc < 0)
    return rc;
  if (prot_access(prot)) {
    rc = gmem_populate(&vm->mem, addr, len, prot_access(prot), true);
    if (rc < 0) {
      gmem_release(&vm->mem, addr, len);
      return rc;
    }
  }
  struct vma m = {.start = addr, .end = addr + len, .prot = prot, .flags = flags, .kind = kind};
  rc = vma_insert(&vm->vmas, &m);
  if (rc < 0)
    gmem_release(&vm->mem, addr, len);
  return rc;
}

uint64_t mm_find_free(struct vm *vm, uint64_t len) {
  return vma_find_free_topdown(&vm->vmas, len, LAYOUT_MMAP_MIN, vm->mm.mmap_top);
}

int mm_unmap(struct vm *vm, uint64_t addr, uint64_t len) {
  int rc = vma_remove(&vm->vmas, addr, addr + len);
  if (rc < 0)
    return rc;
  gmem_release(&vm->mem, addr, len);
  return 0;
}

int mm_discard(struct vm *vm, uint64_t addr, uint64_t len, int prot) {
  gmem_release(&vm->mem, addr, len);
  unsigned access = prot_access(prot);
  return access ? gmem_populate(&vm->mem, addr, len, access, false) : 0;
}

int mm_protect(struct vm *vm, uint64_t addr, uint64_t len, int prot) {
  int rc = vma_protect(&vm->vmas, addr, addr + len, prot);
  if (rc < 0)
    return rc;
  unsigned access = prot_access(prot);
  if (!access) {
    gmem_set_access(&vm->mem, addr, len, 0);
    return 0;
  }
  /* Pages of a PROT_NONE reservation get their physical pages now; pages
   * that have one keep their contents. */
  return gmem_populate(&vm->mem, addr, len, access, false);
}
