/* gmem.h - guest-physical memory and the page tables the VMM builds in it.
 *
 * Rule (PLATFORM.md): a present PTE never changes. Once a guest-virtual page
 * has a physical page, it keeps it for the VM's life: unmapping or
 * PROT_NONE only clears the software bits that the VMM's own accessors
 * check, and a page handed out again is zeroed by the VMM. Physical pages
 * are never freed, so the allocator is a bump pointer (data pages from the
 * bottom, page-table pages from the top); running out is -ENOMEM for the
 * guest.
 *
 * With GMEM_PAGES_2M, each 2 MiB-aligned guest-virtual block at or above
 * 2 MiB gets a whole 2 MiB physical block (a PD entry with PS=1) when it is
 * first populated, and keeps it forever, so a program that touches much
 * memory takes one guest and one host fault per block instead of one per
 * 4 KiB page; host memory is 2 MiB-aligned and MADV_HUGEPAGE so KVM can back
 * a block with one host huge page. The per-4 KiB software bits of block
 * pages live in a host-side table, one byte per guest-physical 4 KiB page.
 * Blocks come from the top of guest-physical memory downwards; 4 KiB data
 * pages and page tables share the bottom (the first 2 MiB, MADV_NOHUGEPAGE,
 * holds the system pages). When no free block remains, a guest-virtual
 * block gets an ordinary page table and 4 KiB pages from what is left. */
#ifndef HEARTH_VMM_GMEM_H
#define HEARTH_VMM_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access the VMM grants a guest-virtual page (software PTE bits; the
 * hardware bits of user pages are always present|write|user). */
#define GMEM_ACC_READ 1u  /* part of a live mapping with PROT_READ or more */
#define GMEM_ACC_WRITE 2u /* ... with PROT_WRITE */

/* How user memory is paged (--guest-pages). */
enum gmem_pages { GMEM_PAGES_4K, GMEM_PAGES_2M };

#define GMEM_BLOCK_SIZE (2ULL << 20) /* a 2 MiB guest page */

struct gmem {
  uint8_t *host;            /* host mapping of all guest-physical memory */
  uint64_t size;            /* bytes of guest-physical memory */
  uint64_t next_free;       /* data pages: bump allocator upwards from here */
  uint64_t table_floor;     /* 4K mode: page tables allocated downwards below this,
                               so a mapping's data pages stay contiguous */
  uint64_t pages_populated; /* 4 KiB pages given a physical page (in blocks too) */
  /* GMEM_PAGES_2M only (block_floor == size and block_bits NULL otherwise) */
  uint64_t block_floor; /* 2 MiB blocks: allocated downwards below this */
  uint64_t small_top;   /* host memory below is MADV_NOHUGEPAGE (4 KiB pages) */
  uint64_t blocks_populated;
  uint8_t *block_bits; /* software bits per guest-physical 4 KiB page */
  /* host is a private mapping of a snapshot's memory file (gmem_init_from_file) */
  bool file_backed;
};

/* Values a byte of block_bits may hold (the software bits of a block page);
 * a restore refuses any other. */
#define GMEM_BLOCK_BITS_MASK 0x0fu

/* Reserves `size` bytes (a multiple of 2 MiB, at least 4 MiB) of anonymous
 * host memory for the guest and builds an empty PML4. -EINVAL or -ENOMEM. */
int gmem_init(struct gmem *m, uint64_t size);
/* gmem_init with a paging mode; GMEM_PAGES_4K is what gmem_init does. */
int gmem_init_paged(struct gmem *m, uint64_t size, enum gmem_pages pages);
/* Guest memory from a snapshot's memory file (snapshot/memfile.h): `size`
 * bytes of fd (its size, checked by the caller) mapped MAP_PRIVATE over the
 * guest-physical range, so VMs restored from one file share the pages none
 * of them wrote through the page cache, and mapping costs the same whatever
 * the size. The allocator starts as gmem_init_paged leaves it (2M mode: a
 * zeroed block_bits table, no THP advice, which file pages do not take);
 * snap_load_memory then sets it to where the snapshot left off. fd may be
 * closed afterwards. -EINVAL, -ENOMEM or mmap's -errno. */
int gmem_init_from_file(struct gmem *m, int fd, uint64_t size, enum gmem_pages pages);
void gmem_fini(struct gmem *m);

/* Checks the page tables a restored gmem found in guest memory against its
 * allocator: every table and every page a present entry names lies in
 * memory the allocator handed out (a block: at or above block_floor, 2 MiB
 * aligned), so no walk can leave the host mapping. Costs one read per
 * entry of each table page, not per page of memory. The allocator's fields
 * must already be consistent (snap_load_memory checks them). 0 or -EBADMSG. */
int gmem_check_tables(const struct gmem *m);

/* A fresh zeroed physical page; -ENOMEM when guest memory is exhausted. */
int gmem_alloc_page(struct gmem *m, uint64_t *pa);

/* 4 KiB pages still available to the allocator: those not yet handed out as
 * a page, a page table or part of a block (pages of a block already given
 * to the guest are not free, even when the guest never touched them). */
uint64_t gmem_free_pages(const struct gmem *m);

/* Host address of guest-physical `pa`; the caller guarantees pa < size. */
static inline void *gmem_pa_host(const struct gmem *m, uint64_t pa) { return m->host + pa; }

/* Gives every page of [va, va+len) (page-aligned) a present user PTE (in
 * 2M mode: a whole block for each new block reached, or a 4 KiB PTE in the
 * first 2 MiB and when blocks run out) and sets its access bits. Pages that
 * already had one keep their physical page and are zeroed when
 * `zero_reused` (memory handed out again). -ENOMEM when physical pages or page-table pages run out
 * (already-populated pages stay, harmlessly, with their old access bits). */
int gmem_populate(struct gmem *m, uint64_t va, uint64_t len, unsigned access, bool zero_reused);

/* Changes the access bits of the present pages in [va, va+len); pages with no
 * PTE are skipped (nothing to revoke, nothing granted). */
void gmem_set_access(struct gmem *m, uint64_t va, uint64_t len, unsigned access);

/* The range's mapping ended (munmap, MADV_DONTNEED): its present pages lose
 * all access and their contents are zeroed now, giving host memory back;
 * a later gmem_populate need not zero them again. */
void gmem_release(struct gmem *m, uint64_t va, uint64_t len);

/* Maps a VMM system page (identity). `user` and `write` set the hardware
 * bits. Used only while building the VM. */
int gmem_map_system_page(struct gmem *m, uint64_t va, bool user, bool write);

/* Translates `va`: true with the physical address and access bits when the
 * page has a present PTE or lies in a block (whatever its access bits: a
 * block page never populated has none). */
bool gmem_translate(const struct gmem *m, uint64_t va, uint64_t *pa, unsigned *access);

/* True when the 4 KiB page at guest-physical pa (< size) reads as zeroes. */
bool gmem_page_is_zero(const struct gmem *m, uint64_t pa);

/* Zeroes [pa, pa+len) of guest-physical memory, releasing host memory where
 * it can (in 2M mode: whole blocks released, parts of a block memset, since
 * releasing part of a host huge page splits it). Page-aligned. */
void gmem_zero(struct gmem *m, uint64_t pa, uint64_t len);

#endif
