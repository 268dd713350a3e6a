/* proc_maps.c - /proc/self/maps from the guest's mapping list (see
 * proc_maps.h), line for line as Linux's show_map_vma lays it out, so that
 * programs parsing it (glibc's pthread_getattr_np looks for the stack
 * there) read what they expect. */
#include "proc_maps.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kernel/file.h"
#include "mem/vma.h"
#include "vm.h"

/* Linux pads the fixed part of a line to this width before a name. */
#define MAPS_NAME_COLUMN 72

/* Where a mapping's bytes come from, as the line shows it. */
struct maps_source {
  uint64_t off;
  unsigned dev_major, dev_minor;
  uint64_t ino;
  const char *name; /* NULL: none */
};

static struct maps_source file_source(const struct vma *m) {
  struct maps_source src = {.off = m->file_off};
  struct stat st;
  struct file *f = m->file;
  if (f->ops->fstat && f->ops->fstat(f, &st) == 0) {
    src.dev_major = major(st.st_dev);
    src.dev_minor = minor(st.st_dev);
    src.ino = st.st_ino;
  }
  src.name = f->ops->path ? f->ops->path(f) : NULL;
  return src;
}

/* Linux's names for the mappings that are no file's. */
static const char *special_name(enum vma_kind kind) {
  switch (kind) {
  case VMA_HEAP:
    return "[heap]";
  case VMA_STACK:
    return "[stack]";
  case VMA_VDSO:
    return "[vdso]";
  case VMA_VVAR:
    return "[vvar]";
  default:
    return NULL;
  }
}

static struct maps_source vma_source(const struct vma *m) {
  if (m->file)
    return file_source(m);
  if (m->kind == VMA_IMAGE && m->name)
    return (struct maps_source){.off = m->file_off, .name = m->name};
  return (struct maps_source){.name = special_name(m->kind)};
}

/* The output: bytes go in while they fit; `full` once one did not. */
struct maps_out {
  char *buf;
  size_t len, used;
  bool full;
};

static void put(struct maps_out *o, const char *s, size_t n) {
  if (o->full || n > o->len - o->used) {
    o->full = true;
    return;
  }
  memcpy(o->buf + o->used, s, n);
  o->used += n;
}

static void put_spaces(struct maps_out *o, size_t n) {
  static const char spaces[] = "                                                                ";
  for (size_t k; n > 0; n -= k) {
    k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
    put(o, spaces, k);
  }
}

/* A path as Linux's seq_path prints it here: newlines as "\012". */
static void put_name(struct maps_out *o, const char *name) {
  while (*name) {
    size_t plain = strcspn(name, "\n");
    put(o, name, plain);
    name += plain;
    if (*name == '\n') {
      put(o, "\\012", 4);
      name++;
    }
  }
}

/* One line; false (and nothing written) when it does not fit whole. */
static bool put_line(struct maps_out *o, const struct vma *m) {
  size_t line_start = o->used;
  struct maps_source src = vma_source(m);
  char head[160];
  int n = snprintf(head, sizeof head,
                   "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                   m->start, m->end, (m->prot & PROT_READ) ? 'r' : '-',
                   (m->prot & PROT_WRITE) ? 'w' : '-', (m->prot & PROT_EXEC) ? 'x' : '-',
                   (m->flags & MAP_TYPE) == MAP_PRIVATE ? 'p' : 's', src.off, src.dev_major,
                   src.dev_minor, src.ino);
  put(o, head, (size_t)n);
  if (src.name) {
    put_spaces(o, (size_t)n < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - (size_t)n : 0);
    put(o, " ", 1);
    put_name(o, src.name);
  }
  put(o, "\n", 1);
  if (o->full)
    o->used = line_start;
  return !o->full;
}

size_t proc_maps_format(const struct vma_space *s, char *buf, size_t len) {
  struct maps_out o = {.buf = buf, .len = len};
  for (size_t i = 0; i < s->n && put_line(&o, &s->v[i]); i++)
    ;
  return o.used;
}

ssize_t proc_maps_generate(void *vm, char *buf, size_t len) {
  const struct vm *v = vm;
  return (ssize_t)proc_maps_format(&v->vmas, buf, len);
}
