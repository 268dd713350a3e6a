/* fake_sitecache.h - a stand-in for vmm/loader/sitecache.c in the guest
 * kernel's unit tests: sitecache_rewrite records each call, and whether
 * the range it was given was writable guest memory at that moment (the
 * real one rewrites through the checked accessors, which need that). */
#ifndef HEARTH_TEST_FAKE_SITECACHE_H
#define HEARTH_TEST_FAKE_SITECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file;

#define FAKE_SITECACHE_MAX_CALLS 16

struct fake_sitecache_call {
  struct file *file;
  uint64_t addr, len, file_off;
  bool writable; /* every page of [addr, addr+len) was writable */
};

extern struct fake_sitecache_call fake_sitecache_calls[FAKE_SITECACHE_MAX_CALLS];
extern size_t fake_sitecache_ncalls;

#endif
