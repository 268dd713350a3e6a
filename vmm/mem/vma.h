/* vma.h - the guest's virtual address space as a sorted list of mappings
 * (what /proc/self/maps would show), separate from the page tables: the
 * list says what the program may use, the page tables (gmem.h) what the
 * hardware can reach. Bounded like Linux's vm.max_map_count. */
#ifndef HEARTH_VMM_VMA_H
#define HEARTH_VMM_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file;

#define VMA_MAX_COUNT 65530

/* VMA_VDSO and VMA_VVAR: the vDSO image and its data page (vdso/vdso.h). */
enum vma_kind { VMA_ANON, VMA_FILE, VMA_STACK, VMA_HEAP, VMA_IMAGE, VMA_VDSO, VMA_VVAR };

struct vma {
  uint64_t start, end; /* page-aligned, start < end */
  int prot;            /* PROT_* */
  int flags;           /* MAP_PRIVATE / MAP_SHARED ... */
  enum vma_kind kind;
  struct file *file; /* VMA_FILE: the mapped file (a reference), else NULL */
  uint64_t file_off; /* file offset of `start` */
  const char *name;  /* VMA_IMAGE: the image's guest path (the space's copy), else NULL */
};

#define VMA_NAMES_MAX 16 /* distinct image names per space */

struct vma_space {
  struct vma *v; /* sorted by start, non-overlapping */
  size_t n, cap;
  char *names[VMA_NAMES_MAX]; /* what vma_name_range copied, kept until fini */
};

void vma_space_init(struct vma_space *s);
void vma_space_fini(struct vma_space *s);

/* The mapping containing addr, or NULL. */
const struct vma *vma_find(const struct vma_space *s, uint64_t addr);
/* True when any mapping intersects [start, end). */
bool vma_overlaps(const struct vma_space *s, uint64_t start, uint64_t end);
/* True when [start, end) is entirely covered by mappings. */
bool vma_covered(const struct vma_space *s, uint64_t start, uint64_t end);

/* Highest free gap of `len` bytes ending at or below `top` and starting at
 * or above `bottom`; 0 when none. */
uint64_t vma_find_free_topdown(const struct vma_space *s, uint64_t len, uint64_t bottom,
                               uint64_t top);

/* Removes [start, end) from whatever mappings cover it, splitting them.
 * -ENOMEM when a split would pass VMA_MAX_COUNT. */
int vma_remove(struct vma_space *s, uint64_t start, uint64_t end);
/* Inserts a mapping over a range the caller has emptied (vma_remove); takes
 * its own reference on m->file. */
int vma_insert(struct vma_space *s, const struct vma *m);
/* Sets prot on [start, end), which must be covered; splits as needed. */
int vma_protect(struct vma_space *s, uint64_t start, uint64_t end, int prot);
/* Names the mappings of [start, end), which must be covered (splitting as
 * needed), as the image file `name` (a guest path, copied) with file offset
 * `off` at start: what /proc/self/maps shows for the images the loader
 * maps. Named mappings are never merged. -ENOMEM (also past VMA_NAMES_MAX
 * distinct names, or when the range is not covered). */
int vma_name_range(struct vma_space *s, uint64_t start, uint64_t end, const char *name,
                   uint64_t off);

#endif
