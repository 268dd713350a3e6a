/* snap_memory.c - the MEMORY section: gmem's host-side state (paging mode,
 * allocator, the software bits of block pages), so a restored VM goes on
 * allocating exactly where the snapshot left off. Guest memory itself is in
 * the memory file (memfile.h), mapped before this section is loaded. Every
 * value is checked against the size and the invariants gmem.c keeps before
 * any of it is used: a wrong floor would hand out pages twice or outside
 * guest memory. */
#include <errno.h>
#include <string.h>

#include "mem/gmem.h"
#include "mem/layout.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define PAGE GUEST_PAGE_SIZE
#define BLOCK GMEM_BLOCK_SIZE

enum { MODE_4K = 0, MODE_2M = 1 };

/* The allocator as saved. */
struct mem_state {
  uint32_t mode;
  uint64_t size, next_free, table_floor, pages_populated;
  uint64_t block_floor, small_top, blocks_populated;
  uint64_t nbits; /* block_bits saved: the pages from block_floor up */
  const uint8_t *bits;
};

int snap_save_memory(const struct vm *vm, struct snap_buf *b) {
  const struct gmem *m = &vm->mem;
  uint64_t nbits = m->block_bits ? (m->size - m->block_floor) / PAGE : 0;
  snap_put_u32(b, m->block_bits ? MODE_2M : MODE_4K);
  snap_put_u64(b, m->size);
  snap_put_u64(b, m->next_free);
  snap_put_u64(b, m->table_floor);
  snap_put_u64(b, m->pages_populated);
  snap_put_u64(b, m->block_floor);
  snap_put_u64(b, m->small_top);
  snap_put_u64(b, m->blocks_populated);
  snap_put_u64(b, nbits);
  if (nbits)
    snap_put_bytes(b, m->block_bits + m->block_floor / PAGE, nbits);
  return b->err;
}

static bool aligned(uint64_t v, uint64_t to) { return v % to == 0; }

/* 4K mode: data pages up from the bottom, page tables down from the top. */
static bool valid_4k(const struct mem_state *s) {
  return s->next_free <= s->table_floor && s->table_floor <= s->size &&
         aligned(s->table_floor, PAGE) && s->block_floor == s->size && s->small_top == 0 &&
         s->blocks_populated == 0 && s->nbits == 0 &&
         s->pages_populated <= (s->next_free - LAYOUT_FIRST_FREE) / PAGE;
}

/* 2M mode: 4 KiB pages (tables too) below small_top, blocks from block_floor up. */
static bool valid_2m(const struct mem_state *s) {
  return s->table_floor == s->size && aligned(s->block_floor, BLOCK) &&
         aligned(s->small_top, BLOCK) && s->small_top >= BLOCK && s->next_free <= s->small_top &&
         s->small_top <= s->block_floor && s->block_floor <= s->size &&
         s->blocks_populated == (s->size - s->block_floor) / BLOCK &&
         s->nbits == (s->size - s->block_floor) / PAGE &&
         s->pages_populated <=
             (s->next_free - LAYOUT_FIRST_FREE) / PAGE + s->blocks_populated * (BLOCK / PAGE);
}

static bool bits_valid(const struct mem_state *s) {
  for (uint64_t i = 0; i < s->nbits; i++)
    if (s->bits[i] & ~GMEM_BLOCK_BITS_MASK)
      return false;
  return true;
}

/* Against the gmem already mapped from the memory file: same size and mode. */
static bool state_valid(const struct gmem *m, const struct mem_state *s) {
  uint32_t mode = m->block_bits ? MODE_2M : MODE_4K;
  if (s->mode != mode || s->size != m->size || !aligned(s->next_free, PAGE) ||
      s->next_free < LAYOUT_FIRST_FREE)
    return false;
  return (mode == MODE_2M ? valid_2m(s) : valid_4k(s)) && bits_valid(s);
}

static int read_state(struct snap_cursor *c, struct mem_state *s) {
  s->mode = snap_get_u32(c);
  s->size = snap_get_u64(c);
  s->next_free = snap_get_u64(c);
  s->table_floor = snap_get_u64(c);
  s->pages_populated = snap_get_u64(c);
  s->block_floor = snap_get_u64(c);
  s->small_top = snap_get_u64(c);
  s->blocks_populated = snap_get_u64(c);
  s->nbits = snap_get_u64(c);
  /* Bounded by the section before anything is allocated or compared. */
  s->bits = s->nbits <= c->len ? snap_get_bytes(c, (size_t)s->nbits) : NULL;
  if (!s->bits || snap_cursor_done(c) < 0)
    return -EBADMSG;
  return 0;
}

int snap_load_memory(struct vm *vm, struct snap_cursor *c) {
  struct mem_state s;
  if (read_state(c, &s) < 0 || !state_valid(&vm->mem, &s))
    return -EBADMSG;
  struct gmem t = vm->mem;
  t.next_free = s.next_free;
  t.table_floor = s.table_floor;
  t.pages_populated = s.pages_populated;
  t.block_floor = s.block_floor;
  t.small_top = s.small_top;
  t.blocks_populated = s.blocks_populated;
  if (gmem_check_tables(&t) < 0)
    return -EBADMSG;
  if (s.nbits)
    memcpy(t.block_bits + t.block_floor / PAGE, s.bits, s.nbits);
  vm->mem = t;
  return 0;
}
