/* rewrite.c - applies syscall sites to guest memory (see rewrite.h). Each
 * site is checked again right before it is changed, so a wrong site list
 * can only ever fail to rewrite, never corrupt other bytes. */
#include "loader/rewrite.h"

#include "log.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

static bool rewrite_one(struct vm *vm, uint64_t gva) {
  static const uint8_t out_insn[2] = {REWRITE_OUT_IMM8, PORT_SYSCALL};
  uint8_t now[2];
  if (uaccess_copy_from(&vm->mem, now, gva, sizeof now) != 0) {
    vlog(VLOG_DEBUG, "loader: syscall site %#llx is not mapped", (unsigned long long)gva);
    return false;
  }
  if (now[0] != REWRITE_SYSCALL_0 || now[1] != REWRITE_SYSCALL_1) {
    vlog(VLOG_DEBUG, "loader: site %#llx reads %02x %02x, not syscall; left alone",
         (unsigned long long)gva, now[0], now[1]);
    return false;
  }
  if (uaccess_copy_to(&vm->mem, gva, out_insn, sizeof out_insn) != 0) {
    vlog(VLOG_DEBUG, "loader: syscall site %#llx is not writable", (unsigned long long)gva);
    return false;
  }
  return true;
}

size_t rewrite_sites(struct vm *vm, const uint64_t *sites, size_t n, uint64_t bias) {
  if (vm->cfg->no_rewrite)
    return 0;
  size_t done = 0;
  for (size_t i = 0; i < n; i++)
    done += rewrite_one(vm, sites[i] + bias);
  vm->stats.sites_rewritten += done;
  return done;
}

/* The first of offs[0, n) (sorted) at or after `at`. */
static size_t first_at_or_after(const uint64_t *offs, size_t n, uint64_t at) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (offs[mid] < at)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

size_t rewrite_file_range(struct vm *vm, const uint64_t *offs, size_t n, uint64_t file_off,
                          uint64_t len, uint64_t addr) {
  if (vm->cfg->no_rewrite || len < 2)
    return 0;
  size_t done = 0;
  /* offs[i] >= file_off from here on, so the difference cannot wrap. */
  for (size_t i = first_at_or_after(offs, n, file_off); i < n && offs[i] - file_off <= len - 2; i++)
    done += rewrite_one(vm, addr + (offs[i] - file_off));
  vm->stats.sites_rewritten += done;
  return done;
}
