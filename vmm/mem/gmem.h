/* gmem.h - guest-physical memory and the page tables the VMM builds in it.
 *
 * Rule (PLATFORM.md): a present PTE never changes. Once a guest-virtual page
 * has a physical page, it keeps it for the VM's life: unmapping or
 * PROT_NONE only clears the software bits that the VMM's own accessors
 * check, and a page handed out again is zeroed by the VMM. Physical pages
 * are never freed, so the allocator is a bump pointer (data pages from the
 * bottom, page-table pages from the top); running out is -ENOMEM for the
 * guest. */
#ifndef HEARTH_VMM_GMEM_H
#define HEARTH_VMM_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access the VMM grants a guest-virtual page (software PTE bits; the
 * hardware bits of user pages are always present|write|user). */
#define GMEM_ACC_READ 1u  /* part of a live mapping with PROT_READ or more */
#define GMEM_ACC_WRITE 2u /* ... with PROT_WRITE */

struct gmem {
  uint8_t *host;        /* host mapping of all guest-physical memory */
  uint64_t size;        /* bytes of guest-physical memory */
  uint64_t next_free;   /* data pages: bump allocator upwards from here */
  uint64_t table_floor; /* page-table pages: allocated downwards below this,
                           so a mapping's data pages stay contiguous */
  uint64_t pages_populated;
};

/* Reserves `size` bytes (a multiple of 2 MiB, at least 4 MiB) of anonymous
 * host memory for the guest and builds an empty PML4. -EINVAL or -ENOMEM. */
int gmem_init(struct gmem *m, uint64_t size);
void gmem_fini(struct gmem *m);

/* A fresh zeroed physical page; -ENOMEM when guest memory is exhausted. */
int gmem_alloc_page(struct gmem *m, uint64_t *pa);

/* Pages still available to the allocator. */
uint64_t gmem_free_pages(const struct gmem *m);

/* Host address of guest-physical `pa`; the caller guarantees pa < size. */
static inline void *gmem_pa_host(const struct gmem *m, uint64_t pa) { return m->host + pa; }

/* Gives every page of [va, va+len) (page-aligned) a present user PTE and sets
 * its access bits. Pages that already had one keep their physical page and
 * are zeroed when `zero_reused` (memory handed out again). -ENOMEM when
 * physical pages or page-table pages run out (already-populated pages stay,
 * harmlessly, with their old access bits). */
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
 * page has a present PTE (whatever its access bits). */
bool gmem_translate(const struct gmem *m, uint64_t va, uint64_t *pa, unsigned *access);

/* Zeroes [pa, pa+len) of guest-physical memory, releasing host memory where
 * it can. Page-aligned. */
void gmem_zero(struct gmem *m, uint64_t pa, uint64_t len);

#endif
