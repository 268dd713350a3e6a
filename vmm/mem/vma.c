/* vma.c - the guest's mappings as a sorted array (vma.h). Mappings are few
 * (tens for a static program, hundreds for python), so binary search plus
 * memmove is simpler and faster than a tree. */
#include "vma.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/file.h"

void vma_space_init(struct vma_space *s) { memset(s, 0, sizeof *s); }

void vma_space_fini(struct vma_space *s) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].file)
      file_unref(s->v[i].file);
  for (size_t i = 0; i < VMA_NAMES_MAX; i++)
    free(s->names[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* Index of the first mapping whose end is above addr (n when none). */
static size_t vma_lower_bound(const struct vma_space *s, uint64_t addr) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->v[mid].end <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

const struct vma *vma_find(const struct vma_space *s, uint64_t addr) {
  size_t i = vma_lower_bound(s, addr);
  return i < s->n && s->v[i].start <= addr ? &s->v[i] : NULL;
}

bool vma_overlaps(const struct vma_space *s, uint64_t start, uint64_t end) {
  size_t i = vma_lower_bound(s, start);
  return i < s->n && s->v[i].start < end;
}

bool vma_covered(const struct vma_space *s, uint64_t start, uint64_t end) {
  size_t i = vma_lower_bound(s, start);
  uint64_t at = start;
  for (; i < s->n && at < end; i++) {
    if (s->v[i].start > at)
      return false;
    at = s->v[i].end;
  }
  return at >= end;
}

uint64_t vma_find_free_topdown(const struct vma_space *s, uint64_t len, uint64_t bottom,
                               uint64_t top) {
  if (len == 0 || top < bottom || top - bottom < len)
    return 0;
  uint64_t gap_end = top;
  size_t i = vma_lower_bound(s, top);
  /* Walk mappings downwards from the first one at or above `top`. */
  while (true) {
    uint64_t gap_start = i > 0 ? s->v[i - 1].end : bottom;
    if (gap_start < bottom)
      gap_start = bottom;
    if (i < s->n && s->v[i].start < gap_end)
      gap_end = s->v[i].start;
    if (gap_end >= gap_start && gap_end - gap_start >= len)
      return gap_end - len;
    if (i == 0 || s->v[i - 1].end <= bottom)
      return 0;
    i--;
    gap_end = s->v[i].start;
  }
}

static int vma_reserve(struct vma_space *s, size_t extra) {
  if (s->n + extra > VMA_MAX_COUNT)
    return -ENOMEM;
  if (s->n + extra <= s->cap)
    return 0;
  size_t cap = s->cap ? s->cap * 2 : 32;
  while (cap < s->n + extra)
    cap *= 2;
  struct vma *v = realloc(s->v, cap * sizeof *v);
  if (!v)
    return -ENOMEM;
  s->v = v;
  s->cap = cap;
  return 0;
}

/* Splits mapping i at addr (strictly inside it) into [start, addr) at i and
 * [addr, end) at i+1. */
static int vma_split(struct vma_space *s, size_t i, uint64_t addr) {
  int rc = vma_reserve(s, 1);
  if (rc < 0)
    return rc;
  memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
  s->n++;
  s->v[i].end = addr;
  s->v[i + 1].file_off += addr - s->v[i + 1].start;
  s->v[i + 1].start = addr;
  if (s->v[i + 1].file)
    file_ref(s->v[i + 1].file);
  return 0;
}

/* Makes addr a mapping boundary: splits the mapping strictly containing it. */
static int vma_split_at(struct vma_space *s, uint64_t addr) {
  size_t i = vma_lower_bound(s, addr);
  return i < s->n && s->v[i].start < addr ? vma_split(s, i, addr) : 0;
}

int vma_remove(struct vma_space *s, uint64_t start, uint64_t end) {
  /* Both splits before anything is dropped: a split that fails (the count
   * cap) must leave every mapping whole, its file reference included. */
  int rc = vma_split_at(s, start);
  if (rc == 0)
    rc = vma_split_at(s, end);
  if (rc < 0)
    return rc;
  size_t first = vma_lower_bound(s, start), i = first;
  for (; i < s->n && s->v[i].start < end; i++)
    if (s->v[i].file)
      file_unref(s->v[i].file);
  if (i > first && s->n > i)
    memmove(&s->v[first], &s->v[i], (s->n - i) * sizeof *s->v);
  s->n -= i - first;
  return 0;
}

static bool vma_mergeable(const struct vma *a, const struct vma *b) {
  return a->end == b->start && a->prot == b->prot && a->flags == b->flags && a->kind == b->kind &&
         a->kind != VMA_FILE && !a->file && !b->file && !a->name && !b->name;
}

int vma_insert(struct vma_space *s, const struct vma *m) {
  size_t i = vma_lower_bound(s, m->start);
  if (i > 0 && vma_mergeable(&s->v[i - 1], m)) {
    s->v[i - 1].end = m->end;
    if (i < s->n && vma_mergeable(&s->v[i - 1], &s->v[i])) {
      s->v[i - 1].end = s->v[i].end;
      memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
      s->n--;
    }
    return 0;
  }
  if (i < s->n && vma_mergeable(m, &s->v[i])) {
    s->v[i].start = m->start;
    return 0;
  }
  int rc = vma_reserve(s, 1);
  if (rc < 0)
    return rc;
  memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
  s->v[i] = *m;
  if (m->file)
    file_ref(m->file);
  s->n++;
  return 0;
}

int vma_protect(struct vma_space *s, uint64_t start, uint64_t end, int prot) {
  if (!vma_covered(s, start, end))
    return -ENOMEM;
  int rc = vma_split_at(s, start);
  if (rc == 0)
    rc = vma_split_at(s, end);
  if (rc < 0)
    return rc;
  for (size_t i = vma_lower_bound(s, start); i < s->n && s->v[i].start < end; i++)
    s->v[i].prot = prot;
  return 0;
}

/* The space's copy of `name` (one per distinct name), or NULL. */
static const char *vma_name_copy(struct vma_space *s, const char *name) {
  size_t i = 0;
  for (; i < VMA_NAMES_MAX && s->names[i]; i++)
    if (!strcmp(s->names[i], name))
      return s->names[i];
  return i < VMA_NAMES_MAX ? (s->names[i] = strdup(name)) : NULL;
}

int vma_name_range(struct vma_space *s, uint64_t start, uint64_t end, const char *name,
                   uint64_t off) {
  const char *copy = vma_covered(s, start, end) ? vma_name_copy(s, name) : NULL;
  if (!copy)
    return -ENOMEM;
  int rc = vma_split_at(s, start);
  if (rc == 0)
    rc = vma_split_at(s, end);
  if (rc < 0)
    return rc;
  for (size_t i = vma_lower_bound(s, start); i < s->n && s->v[i].start < end; i++) {
    s->v[i].name = copy;
    s->v[i].file_off = off + (s->v[i].start - start);
  }
  return 0;
}
