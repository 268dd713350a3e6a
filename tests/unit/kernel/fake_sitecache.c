/* fake_sitecache.c - the recording sitecache of fake_sitecache.h. */
#include "fake_sitecache.h"

#include "loader/sitecache.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

struct fake_sitecache_call fake_sitecache_calls[FAKE_SITECACHE_MAX_CALLS];
size_t fake_sitecache_ncalls;

static bool writable(struct vm *vm, uint64_t addr, uint64_t len) {
  for (uint64_t at = addr; at < addr + len; at += GUEST_PAGE_SIZE)
    if (!uaccess_ptr(&vm->mem, at, 1, true))
      return false;
  return true;
}

size_t sitecache_rewrite(struct vm *vm, struct file *f, const char *name, uint64_t addr,
                         uint64_t len, uint64_t file_off) {
  (void)name;
  if (fake_sitecache_ncalls < FAKE_SITECACHE_MAX_CALLS)
    fake_sitecache_calls[fake_sitecache_ncalls] =
        (struct fake_sitecache_call){.file = f,
                                     .addr = addr,
                                     .len = len,
                                     .file_off = file_off,
                                     .writable = writable(vm, addr, len)};
  fake_sitecache_ncalls++;
  return 0;
}
