/* gmem.c - guest-physical memory, its page allocator, and the 4-level page
 * tables the VMM builds for the guest, with 4 KiB or 2 MiB user pages (see
 * gmem.h for the rules). */
#include "gmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "layout.h"

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_USER 0x4ULL
#define PTE_PS 0x80ULL          /* in a PD entry: it maps a 2 MiB block */
#define PTE_SW_READ (1ULL << 9) /* software bits: ignored by the MMU */
#define PTE_SW_WRITE (1ULL << 10)
#define PTE_SW_CLEAN (1ULL << 11) /* zeroed since its last mapping ended */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define PDE_BLOCK_ADDR_MASK 0x000fffffffe00000ULL
#define PTE_SW_MASK (PTE_SW_READ | PTE_SW_WRITE | PTE_SW_CLEAN)
/* Pages of blocks keep their software bits in block_bits, shifted down by
 * SW_SHIFT, plus SW_SEEN: the page was populated once (for pages_populated). */
#define SW_SHIFT 9
#define SW_SEEN (1ULL << 12)

#define GMEM_MIN_SIZE (4ULL << 20)
#define GMEM_MAX_SIZE (64ULL << 30)
#define GMEM_SIZE_ALIGN (2ULL << 20)
#define PAGES_PER_BLOCK (GMEM_BLOCK_SIZE / GUEST_PAGE_SIZE)

/* A leaf entry: a 4 KiB PTE (level 0) or a block's PD entry (level 1). */
struct leaf {
  uint64_t *slot;
  int level;
};

/* Anonymous host memory for the guest, 2 MiB-aligned so that a block can be
 * one host huge page. Private and unreserved: untouched guest memory costs
 * the host nothing, and MADV_DONTNEED gives pages back as zeroes. */
static uint8_t *map_guest_memory(uint64_t size) {
  uint64_t len = size + GMEM_BLOCK_SIZE;
  uint8_t *p =
      mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  uint8_t *start = (uint8_t *)(((uintptr_t)p + GMEM_BLOCK_SIZE - 1) & ~(GMEM_BLOCK_SIZE - 1));
  if (start > p)
    munmap(p, (size_t)(start - p));
  if (start + size < p + len)
    munmap(start + size, (size_t)(p + len - (start + size)));
  return start;
}

/* 2M mode: blocks may be host huge pages (best effort: THP may be off);
 * the first 2 MiB holds only system pages and page tables, so 4 KiB host
 * pages there spare each VM a whole huge page. */
static int gmem_init_blocks(struct gmem *m) {
  m->block_bits = calloc(m->size / GUEST_PAGE_SIZE, 1);
  if (!m->block_bits)
    return -ENOMEM;
  madvise(m->host, m->size, MADV_HUGEPAGE);
  madvise(m->host, GMEM_BLOCK_SIZE, MADV_NOHUGEPAGE);
  m->small_top = GMEM_BLOCK_SIZE;
  return 0;
}

static bool gmem_args_valid(uint64_t size, enum gmem_pages pages) {
  return size >= GMEM_MIN_SIZE && size <= GMEM_MAX_SIZE && size % GMEM_SIZE_ALIGN == 0 &&
         (pages == GMEM_PAGES_4K || pages == GMEM_PAGES_2M);
}

/* Reserves host memory and sets the allocator of an empty gmem. */
static int gmem_start(struct gmem *m, uint64_t size, enum gmem_pages pages) {
  memset(m, 0, sizeof *m);
  if (!gmem_args_valid(size, pages))
    return -EINVAL;
  m->host = map_guest_memory(size);
  if (!m->host)
    return -ENOMEM;
  m->size = size;
  m->next_free = LAYOUT_FIRST_FREE;
  m->table_floor = size;
  m->block_floor = size;
  return 0;
}

int gmem_init_paged(struct gmem *m, uint64_t size, enum gmem_pages pages) {
  int rc = gmem_start(m, size, pages);
  if (rc == 0 && pages == GMEM_PAGES_2M)
    rc = gmem_init_blocks(m);
  if (rc < 0)
    gmem_fini(m);
  return rc;
}

/* The file is mapped over the 2 MiB-aligned reservation, so guest-physical
 * blocks stay aligned in the host. MAP_NORESERVE as for anonymous memory:
 * only the pages a VM writes become its own. */
int gmem_init_from_file(struct gmem *m, int fd, uint64_t size, enum gmem_pages pages) {
  int rc = gmem_start(m, size, pages);
  if (rc == 0 && mmap(m->host, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0) == MAP_FAILED)
    rc = -errno;
  m->file_backed = rc == 0;
  if (rc == 0 && pages == GMEM_PAGES_2M) {
    m->block_bits = calloc(size / GUEST_PAGE_SIZE, 1);
    m->small_top = GMEM_BLOCK_SIZE;
    rc = m->block_bits ? 0 : -ENOMEM;
  }
  if (rc < 0)
    gmem_fini(m);
  return rc;
}

int gmem_init(struct gmem *m, uint64_t size) { return gmem_init_paged(m, size, GMEM_PAGES_4K); }

void gmem_fini(struct gmem *m) {
  if (m->host)
    munmap(m->host, m->size);
  free(m->block_bits);
  m->block_bits = NULL;
  m->host = NULL;
}

static bool gmem_has_blocks(const struct gmem *m) { return m->block_bits != NULL; }

/* 2M mode: 4 KiB pages reach a new 2 MiB of host memory; keep it out of
 * THP, since these pages are zeroed one by one. */
static void gmem_grow_small(struct gmem *m) {
  if (!gmem_has_blocks(m) || m->next_free < m->small_top)
    return;
  madvise(m->host + m->small_top, GMEM_BLOCK_SIZE, MADV_NOHUGEPAGE);
  m->small_top += GMEM_BLOCK_SIZE;
}

int gmem_alloc_page(struct gmem *m, uint64_t *pa) {
  uint64_t limit = gmem_has_blocks(m) ? m->block_floor : m->table_floor;
  if (m->next_free + GUEST_PAGE_SIZE > limit)
    return -ENOMEM;
  gmem_grow_small(m);
  *pa = m->next_free;
  m->next_free += GUEST_PAGE_SIZE;
  return 0;
}

/* In 2M mode page tables are 4 KiB pages like any other (the top of memory
 * belongs to blocks). */
static int gmem_alloc_table(struct gmem *m, uint64_t *pa) {
  if (gmem_has_blocks(m))
    return gmem_alloc_page(m, pa);
  if (m->table_floor - GUEST_PAGE_SIZE < m->next_free)
    return -ENOMEM;
  m->table_floor -= GUEST_PAGE_SIZE;
  *pa = m->table_floor;
  return 0;
}

/* A whole free 2 MiB physical block, never used before (so it reads as
 * zeroes); -ENOMEM when the 4 KiB pages below leave none. */
static int gmem_alloc_block(struct gmem *m, uint64_t *pa) {
  if (m->block_floor < m->small_top + GMEM_BLOCK_SIZE)
    return -ENOMEM;
  m->block_floor -= GMEM_BLOCK_SIZE;
  *pa = m->block_floor;
  return 0;
}

uint64_t gmem_free_pages(const struct gmem *m) {
  uint64_t limit = gmem_has_blocks(m) ? m->block_floor : m->table_floor;
  return (limit - m->next_free) / GUEST_PAGE_SIZE;
}

static uint64_t *gmem_table(const struct gmem *m, uint64_t pa) {
  return (uint64_t *)gmem_pa_host(m, pa & PTE_ADDR_MASK);
}

static unsigned pt_index(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

/* Gives an empty PD entry a whole block, in 2M mode, for a va at or above
 * 2 MiB (the first 2 MiB holds system pages mapped with 4 KiB PTEs). False
 * leaves the entry empty: a page table and 4 KiB pages are used instead. */
static bool gmem_give_block(struct gmem *m, uint64_t va, uint64_t *pde) {
  uint64_t pa;
  if (!gmem_has_blocks(m) || va < GMEM_BLOCK_SIZE || gmem_alloc_block(m, &pa) < 0)
    return false;
  memset(m->block_bits + pa / GUEST_PAGE_SIZE, PTE_SW_CLEAN >> SW_SHIFT, PAGES_PER_BLOCK);
  *pde = pa | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_PS;
  m->blocks_populated++;
  return true;
}

/* The leaf slot for va (it may be empty), creating a block or intermediate
 * tables when `create`. {NULL} when a table is missing (and not created) or
 * allocation failed. */
static struct leaf gmem_leaf_slot(struct gmem *m, uint64_t va, bool create) {
  uint64_t table = LAYOUT_PML4_PAGE;
  for (int level = 3; level > 0; level--) {
    uint64_t *entry = &gmem_table(m, table)[pt_index(va, level)];
    if (level == 1 && create && !(*entry & PTE_PRESENT))
      gmem_give_block(m, va, entry);
    if (level == 1 && (*entry & PTE_PS))
      return (struct leaf){entry, 1};
    if (!(*entry & PTE_PRESENT)) {
      uint64_t pa;
      if (!create || gmem_alloc_table(m, &pa) < 0)
        return (struct leaf){NULL, 0};
      *entry = pa | PTE_PRESENT | PTE_WRITE | PTE_USER;
    }
    table = *entry & PTE_ADDR_MASK;
  }
  return (struct leaf){&gmem_table(m, table)[pt_index(va, 0)], 0};
}

/* For walks over ranges (no tables created): the leaf for va, or {NULL}
 * when a table on the way is missing. *span is how far the walk may step
 * from va: to the next 4 KiB page, or past everything the missing table
 * would have mapped, so a huge, mostly empty range costs a few steps. */
static struct leaf gmem_walk_slot(const struct gmem *m, uint64_t va, uint64_t *span) {
  uint64_t table = LAYOUT_PML4_PAGE;
  *span = GUEST_PAGE_SIZE - (va & (GUEST_PAGE_SIZE - 1));
  for (int level = 3; level > 0; level--) {
    uint64_t *entry = &gmem_table(m, table)[pt_index(va, level)];
    if (!(*entry & PTE_PRESENT)) {
      uint64_t covered = 1ULL << (12 + 9 * level);
      *span = covered - (va & (covered - 1));
      return (struct leaf){NULL, 0};
    }
    if (level == 1 && (*entry & PTE_PS))
      return (struct leaf){entry, 1};
    table = *entry & PTE_ADDR_MASK;
  }
  return (struct leaf){&gmem_table(m, table)[pt_index(va, 0)], 0};
}

static bool leaf_present(struct leaf l) { return l.slot && (*l.slot & PTE_PRESENT); }

/* Physical address of the 4 KiB page holding va under a present leaf. */
static uint64_t leaf_pa(struct leaf l, uint64_t va) {
  if (l.level == 1)
    return (*l.slot & PDE_BLOCK_ADDR_MASK) | (va & (GMEM_BLOCK_SIZE - 1) & GUEST_PAGE_MASK);
  return *l.slot & PTE_ADDR_MASK;
}

/* Software bits (PTE_SW_*, and SW_SEEN in a block) of va's page. */
static uint64_t leaf_sw(const struct gmem *m, struct leaf l, uint64_t va) {
  if (l.level == 1)
    return (uint64_t)m->block_bits[leaf_pa(l, va) / GUEST_PAGE_SIZE] << SW_SHIFT;
  return *l.slot & PTE_SW_MASK;
}

static void leaf_set_sw(struct gmem *m, struct leaf l, uint64_t va, uint64_t sw) {
  if (l.level == 1)
    m->block_bits[leaf_pa(l, va) / GUEST_PAGE_SIZE] = (uint8_t)(sw >> SW_SHIFT);
  else
    *l.slot = (*l.slot & ~PTE_SW_MASK) | (sw & PTE_SW_MASK);
}

static uint64_t access_bits(unsigned access) {
  return ((access & GMEM_ACC_READ) ? PTE_SW_READ : 0) |
         ((access & GMEM_ACC_WRITE) ? PTE_SW_WRITE | PTE_SW_READ : 0);
}

/* Gives an empty 4 KiB leaf a fresh physical page (which reads as zeroes). */
static int gmem_fill_pte(struct gmem *m, uint64_t *pte) {
  uint64_t pa;
  if (gmem_alloc_page(m, &pa) < 0)
    return -ENOMEM;
  *pte = pa | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_SW_CLEAN;
  m->pages_populated++;
  return 0;
}

static int gmem_populate_page(struct gmem *m, uint64_t va, unsigned access, bool zero_reused) {
  struct leaf l = gmem_leaf_slot(m, va, true);
  if (!l.slot || (!(*l.slot & PTE_PRESENT) && gmem_fill_pte(m, l.slot) < 0))
    return -ENOMEM;
  uint64_t sw = leaf_sw(m, l, va);
  if (zero_reused && !(sw & PTE_SW_CLEAN))
    gmem_zero(m, leaf_pa(l, va), GUEST_PAGE_SIZE);
  if (l.level == 1 && !(sw & SW_SEEN))
    m->pages_populated++;
  leaf_set_sw(m, l, va, access_bits(access) | (l.level == 1 ? SW_SEEN : 0));
  return 0;
}

int gmem_populate(struct gmem *m, uint64_t va, uint64_t len, unsigned access, bool zero_reused) {
  for (uint64_t off = 0; off < len; off += GUEST_PAGE_SIZE) {
    int rc = gmem_populate_page(m, va + off, access, zero_reused);
    if (rc < 0)
      return rc;
  }
  return 0;
}

void gmem_set_access(struct gmem *m, uint64_t va, uint64_t len, unsigned access) {
  uint64_t span;
  for (uint64_t off = 0; off < len; off += span) {
    struct leaf l = gmem_walk_slot(m, va + off, &span);
    if (!leaf_present(l))
      continue;
    uint64_t sw = leaf_sw(m, l, va + off);
    leaf_set_sw(m, l, va + off, (sw & ~(PTE_SW_READ | PTE_SW_WRITE)) | access_bits(access));
  }
}

void gmem_release(struct gmem *m, uint64_t va, uint64_t len) {
  uint64_t run_pa = 0, run_len = 0, span;
  for (uint64_t off = 0; off < len; off += span) {
    struct leaf l = gmem_walk_slot(m, va + off, &span);
    if (!leaf_present(l))
      continue;
    uint64_t sw = leaf_sw(m, l, va + off);
    if (sw & PTE_SW_CLEAN)
      continue;
    uint64_t pa = leaf_pa(l, va + off);
    leaf_set_sw(m, l, va + off, (sw & SW_SEEN) | PTE_SW_CLEAN);
    if (run_len && run_pa + run_len == pa) {
      run_len += GUEST_PAGE_SIZE;
      continue;
    }
    if (run_len)
      gmem_zero(m, run_pa, run_len);
    run_pa = pa;
    run_len = GUEST_PAGE_SIZE;
  }
  if (run_len)
    gmem_zero(m, run_pa, run_len);
}

int gmem_map_system_page(struct gmem *m, uint64_t va, bool user, bool write) {
  struct leaf l = gmem_leaf_slot(m, va, true);
  if (!l.slot || l.level != 0)
    return -ENOMEM;
  *l.slot = va | PTE_PRESENT | (write ? PTE_WRITE : 0) | (user ? PTE_USER : 0);
  return 0;
}

bool gmem_translate(const struct gmem *m, uint64_t va, uint64_t *pa, unsigned *access) {
  if (va >= LAYOUT_USER_TOP)
    return false;
  struct leaf l = gmem_leaf_slot((struct gmem *)m, va, false);
  if (!leaf_present(l) || !(*l.slot & PTE_USER))
    return false;
  *pa = leaf_pa(l, va) | (va & (GUEST_PAGE_SIZE - 1));
  uint64_t sw = leaf_sw(m, l, va);
  *access = ((sw & PTE_SW_READ) ? GMEM_ACC_READ : 0) | ((sw & PTE_SW_WRITE) ? GMEM_ACC_WRITE : 0);
  return true;
}

bool gmem_page_is_zero(const struct gmem *m, uint64_t pa) {
  const uint64_t *w = (const uint64_t *)gmem_pa_host(m, pa);
  uint64_t any = 0;
  for (size_t i = 0; i < GUEST_PAGE_SIZE / sizeof *w; i++)
    any |= w[i];
  return any == 0;
}

/* A private file mapping reads back as the file after MADV_DONTNEED, not as
 * zeroes. Pages the snapshot held as zeroes (most of them) come back right,
 * sharing the page cache again; the others are cleared by hand, which
 * gives this VM its own copy of them. */
static void gmem_zero_file_backed(struct gmem *m, uint64_t pa, uint64_t len) {
  madvise(m->host + pa, len, MADV_DONTNEED);
  for (uint64_t off = 0; off < len; off += GUEST_PAGE_SIZE)
    if (!gmem_page_is_zero(m, pa + off))
      memset(m->host + pa + off, 0, GUEST_PAGE_SIZE);
}

/* Zeroes [pa, pa+len), which lies within one 2 MiB of guest-physical memory. */
static void gmem_zero_piece(struct gmem *m, uint64_t pa, uint64_t len) {
  if (m->file_backed) {
    gmem_zero_file_backed(m, pa, len);
    return;
  }
  /* Part of a block: memset, since MADV_DONTNEED on part of a host huge page
   * splits it (KVM then maps it with 4 KiB pages) and gives little back. */
  bool part_of_block = pa >= m->block_floor && len < GMEM_BLOCK_SIZE;
  /* Private anonymous memory reads back as zeroes after MADV_DONTNEED, and
   * the host gets the memory back; KVM's MMU notifier drops its mapping. */
  if (part_of_block || madvise(m->host + pa, len, MADV_DONTNEED) != 0)
    memset(m->host + pa, 0, len);
}

void gmem_zero(struct gmem *m, uint64_t pa, uint64_t len) {
  if (!gmem_has_blocks(m)) {
    gmem_zero_piece(m, pa, len);
    return;
  }
  while (len) {
    uint64_t piece_end = (pa | (GMEM_BLOCK_SIZE - 1)) + 1;
    uint64_t n = piece_end - pa < len ? piece_end - pa : len;
    gmem_zero_piece(m, pa, n);
    pa += n;
    len -= n;
  }
}

/* ---- checking the tables of a restored gmem ---- */

struct table_check {
  const struct gmem *m;
  uint64_t tables_left; /* each table page is named once: bounds the walk */
};

static bool pa_within(uint64_t pa, uint64_t lo, uint64_t hi) { return pa >= lo && pa < hi; }

/* Page tables come from the top in 4K mode, from the data pages in 2M mode. */
static bool table_pa_valid(const struct gmem *m, uint64_t pa) {
  if (gmem_has_blocks(m))
    return pa_within(pa, LAYOUT_FIRST_FREE, m->next_free);
  return pa_within(pa, m->table_floor, m->size);
}

static int check_table(struct table_check *c, uint64_t table, int level);

/* A present entry of a table at `level` (0: a page table). */
static int check_entry(struct table_check *c, uint64_t e, int level) {
  const struct gmem *m = c->m;
  uint64_t pa = e & PTE_ADDR_MASK;
  if (level == 0)
    return pa < m->next_free ? 0 : -EBADMSG;
  if (level == 1 && (e & PTE_PS)) {
    bool ok =
        gmem_has_blocks(m) && pa % GMEM_BLOCK_SIZE == 0 && pa_within(pa, m->block_floor, m->size);
    return ok ? 0 : -EBADMSG;
  }
  if ((e & PTE_PS) || !table_pa_valid(m, pa) || c->tables_left == 0)
    return -EBADMSG;
  c->tables_left--;
  return check_table(c, pa, level - 1);
}

static int check_table(struct table_check *c, uint64_t table, int level) {
  const uint64_t *t = gmem_table(c->m, table);
  for (unsigned i = 0; i < 512; i++) {
    int rc = (t[i] & PTE_PRESENT) ? check_entry(c, t[i], level) : 0;
    if (rc < 0)
      return rc;
  }
  return 0;
}

int gmem_check_tables(const struct gmem *m) {
  uint64_t tables =
      gmem_has_blocks(m) ? m->next_free - LAYOUT_FIRST_FREE : m->size - m->table_floor;
  struct table_check c = {m, tables / GUEST_PAGE_SIZE};
  return check_table(&c, LAYOUT_PML4_PAGE, 3);
}
