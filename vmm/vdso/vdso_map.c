/* vdso_map.c - puts the vDSO into a guest (vdso.h): the vvar page, then
 * the image right above it, in the mmap area below the stack as Linux
 * places it. Both are mapped once and only their contents change later
 * (PLATFORM.md: a present PTE never changes). */
#include <errno.h>
#include <sys/mman.h>

#include "log.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "mem/uaccess.h"
#include "vdso/image.h"
#include "vdso/vdso.h"
#include "vm.h"

#define VDSO_MAP_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS)

static uint64_t page_up(uint64_t v) { return (v + GUEST_PAGE_SIZE - 1) & GUEST_PAGE_MASK; }

/* The image, copied in while writable, then read-and-execute like Linux's. */
static int vdso_map_image(struct vm *vm, uint64_t at) {
  uint64_t len = page_up(vdso_image_size);
  int err = mm_map_fixed(vm, at, len, PROT_READ | PROT_WRITE, VDSO_MAP_FLAGS, VMA_VDSO);
  if (!err)
    err = uaccess_copy_to(&vm->mem, at, vdso_image_bytes, vdso_image_size);
  if (!err)
    err = mm_protect(vm, at, len, PROT_READ | PROT_EXEC);
  return err;
}

/* The data page, read-only to the guest (vdso_start finds the VMM's view
 * of it). A fresh page reads as VVAR_MODE_SYSCALL. */
static int vdso_map_vvar(struct vm *vm, uint64_t at) {
  return mm_map_fixed(vm, at, GUEST_PAGE_SIZE, PROT_READ, VDSO_MAP_FLAGS, VMA_VVAR);
}

int vdso_map(struct vm *vm) {
  vm->vdso.base = vm->vdso.vvar_gva = 0;
  if (vm->cfg->no_vdso)
    return 0;
  uint64_t len = GUEST_PAGE_SIZE + page_up(vdso_image_size);
  uint64_t at = mm_find_free(vm, len);
  int err = at ? vdso_map_vvar(vm, at) : -ENOMEM;
  if (!err)
    err = vdso_map_image(vm, at + GUEST_PAGE_SIZE);
  if (err) {
    vlog(VLOG_ERROR, "loader: cannot map the vDSO: guest memory or address space exhausted");
    return err == -EFAULT ? -ENOMEM : err;
  }
  vm->vdso.vvar_gva = at;
  vm->vdso.base = at + GUEST_PAGE_SIZE;
  return 0;
}
