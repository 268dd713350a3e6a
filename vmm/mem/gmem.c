/* gmem.c - guest-physical memory, its page allocator, and the 4-level page
 * tables the VMM builds for the guest (see gmem.h for the rules). */
#include "gmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "layout.h"

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_USER 0x4ULL
#define PTE_SW_READ (1ULL << 9) /* software bits: ignored by the MMU */
#define PTE_SW_WRITE (1ULL << 10)
#define PTE_SW_CLEAN (1ULL << 11) /* zeroed since its last mapping ended */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define PTE_SW_MASK (PTE_SW_READ | PTE_SW_WRITE | PTE_SW_CLEAN)

#define GMEM_MIN_SIZE (4ULL << 20)
#define GMEM_MAX_SIZE (64ULL << 30)
#define GMEM_SIZE_ALIGN (2ULL << 20)

int gmem_init(struct gmem *m, uint64_t size) {
  memset(m, 0, sizeof *m);
  if (size < GMEM_MIN_SIZE || size > GMEM_MAX_SIZE || size % GMEM_SIZE_ALIGN)
    return -EINVAL;
  /* Private anonymous and unreserved: untouched guest memory costs the host
   * nothing, and MADV_DONTNEED gives pages back as zeroes. */
  void *p =
      mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return -ENOMEM;
  m->host = p;
  m->size = size;
  m->next_free = LAYOUT_FIRST_FREE;
  m->table_floor = size;
  return 0;
}

void gmem_fini(struct gmem *m) {
  if (m->host)
    munmap(m->host, m->size);
  m->host = NULL;
}

int gmem_alloc_page(struct gmem *m, uint64_t *pa) {
  if (m->next_free + GUEST_PAGE_SIZE > m->table_floor)
    return -ENOMEM;
  *pa = m->next_free;
  m->next_free += GUEST_PAGE_SIZE;
  return 0;
}

static int gmem_alloc_table(struct gmem *m, uint64_t *pa) {
  if (m->table_floor - GUEST_PAGE_SIZE < m->next_free)
    return -ENOMEM;
  m->table_floor -= GUEST_PAGE_SIZE;
  *pa = m->table_floor;
  return 0;
}

uint64_t gmem_free_pages(const struct gmem *m) {
  return (m->table_floor - m->next_free) / GUEST_PAGE_SIZE;
}

static uint64_t *gmem_table(const struct gmem *m, uint64_t pa) {
  return (uint64_t *)gmem_pa_host(m, pa & PTE_ADDR_MASK);
}

static unsigned pt_index(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

/* The leaf PTE slot for va, creating intermediate tables when `create`.
 * NULL when a table is missing (and not created) or allocation failed. */
static uint64_t *gmem_leaf_slot(struct gmem *m, uint64_t va, bool create) {
  uint64_t table = LAYOUT_PML4_PAGE;
  for (int level = 3; level > 0; level--) {
    uint64_t *entry = &gmem_table(m, table)[pt_index(va, level)];
    if (!(*entry & PTE_PRESENT)) {
      uint64_t pa;
      if (!create || gmem_alloc_table(m, &pa) < 0)
        return NULL;
      *entry = pa | PTE_PRESENT | PTE_WRITE | PTE_USER;
    }
    table = *entry & PTE_ADDR_MASK;
  }
  return &gmem_table(m, table)[pt_index(va, 0)];
}

/* For walks over ranges (no tables created): the leaf PTE slot for va, or
 * NULL when a table on the way is missing. *span is how far the walk may
 * step from va: to the next page, or past everything the missing table
 * would have mapped, so a huge, mostly empty range costs a few steps. */
static uint64_t *gmem_walk_slot(const struct gmem *m, uint64_t va, uint64_t *span) {
  uint64_t table = LAYOUT_PML4_PAGE;
  for (int level = 3; level > 0; level--) {
    uint64_t entry = gmem_table(m, table)[pt_index(va, level)];
    if (!(entry & PTE_PRESENT)) {
      uint64_t covered = 1ULL << (12 + 9 * level);
      *span = covered - (va & (covered - 1));
      return NULL;
    }
    table = entry & PTE_ADDR_MASK;
  }
  *span = GUEST_PAGE_SIZE - (va & (GUEST_PAGE_SIZE - 1));
  return &gmem_table(m, table)[pt_index(va, 0)];
}

static uint64_t access_bits(unsigned access) {
  return ((access & GMEM_ACC_READ) ? PTE_SW_READ : 0) |
         ((access & GMEM_ACC_WRITE) ? PTE_SW_WRITE | PTE_SW_READ : 0);
}

static int gmem_populate_page(struct gmem *m, uint64_t va, unsigned access, bool zero_reused) {
  uint64_t *pte = gmem_leaf_slot(m, va, true);
  if (!pte)
    return -ENOMEM;
  if (*pte & PTE_PRESENT) {
    if (zero_reused && !(*pte & PTE_SW_CLEAN))
      gmem_zero(m, *pte & PTE_ADDR_MASK, GUEST_PAGE_SIZE);
    *pte = (*pte & ~PTE_SW_MASK) | access_bits(access);
    return 0;
  }
  uint64_t pa;
  if (gmem_alloc_page(m, &pa) < 0)
    return -ENOMEM;
  *pte = pa | PTE_PRESENT | PTE_WRITE | PTE_USER | access_bits(access);
  m->pages_populated++;
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
    uint64_t *pte = gmem_walk_slot(m, va + off, &span);
    if (pte && (*pte & PTE_PRESENT))
      *pte = (*pte & ~(PTE_SW_READ | PTE_SW_WRITE)) | access_bits(access);
  }
}

void gmem_release(struct gmem *m, uint64_t va, uint64_t len) {
  uint64_t run_pa = 0, run_len = 0, span;
  for (uint64_t off = 0; off < len; off += span) {
    uint64_t *pte = gmem_walk_slot(m, va + off, &span);
    if (!pte || !(*pte & PTE_PRESENT) || (*pte & PTE_SW_CLEAN))
      continue;
    uint64_t pa = *pte & PTE_ADDR_MASK;
    *pte = (*pte & ~PTE_SW_MASK) | PTE_SW_CLEAN;
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
  uint64_t *pte = gmem_leaf_slot(m, va, true);
  if (!pte)
    return -ENOMEM;
  *pte = va | PTE_PRESENT | (write ? PTE_WRITE : 0) | (user ? PTE_USER : 0);
  return 0;
}

bool gmem_translate(const struct gmem *m, uint64_t va, uint64_t *pa, unsigned *access) {
  if (va >= LAYOUT_USER_TOP)
    return false;
  uint64_t *pte = gmem_leaf_slot((struct gmem *)m, va, false);
  if (!pte || !(*pte & PTE_PRESENT) || !(*pte & PTE_USER))
    return false;
  *pa = (*pte & PTE_ADDR_MASK) | (va & (GUEST_PAGE_SIZE - 1));
  *access =
      ((*pte & PTE_SW_READ) ? GMEM_ACC_READ : 0) | ((*pte & PTE_SW_WRITE) ? GMEM_ACC_WRITE : 0);
  return true;
}

void gmem_zero(struct gmem *m, uint64_t pa, uint64_t len) {
  /* Private anonymous memory reads back as zeroes after MADV_DONTNEED, and
   * the host gets the memory back; KVM's MMU notifier drops its mapping. */
  if (madvise(m->host + pa, len, MADV_DONTNEED) != 0)
    memset(m->host + pa, 0, len);
}
