/* fdtable.c - the guest's descriptor table (see fdtable.h): a slot array
 * grown on demand up to the RLIMIT_NOFILE soft limit. */
#include "fdtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

void fdtable_init(struct fdtable *t) {
  memset(t, 0, sizeof *t);
  t->limit = FDTABLE_DEFAULT_MAX;
}

void fdtable_fini(struct fdtable *t) {
  for (int fd = 0; fd < t->cap; fd++)
    if (t->slots[fd].file)
      file_unref(t->slots[fd].file);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

/* Makes slots [0, fd] exist. */
static int grow(struct fdtable *t, int fd) {
  if (fd < t->cap)
    return 0;
  int cap = t->cap ? t->cap : 64;
  while (cap <= fd)
    cap *= 2;
  if (cap > FDTABLE_HARD_MAX)
    cap = FDTABLE_HARD_MAX;
  struct fd_slot *slots = realloc(t->slots, (size_t)cap * sizeof *slots);
  if (!slots)
    return -ENOMEM;
  memset(slots + t->cap, 0, (size_t)(cap - t->cap) * sizeof *slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

static int limit(const struct fdtable *t) {
  return t->limit < FDTABLE_HARD_MAX ? t->limit : FDTABLE_HARD_MAX;
}

int fdtable_install(struct fdtable *t, struct file *f, bool cloexec, int minfd) {
  if (minfd < 0)
    return -EINVAL;
  int fd = minfd;
  while (fd < t->cap && t->slots[fd].file)
    fd++;
  if (fd >= limit(t))
    return -EMFILE;
  int r = grow(t, fd);
  if (r < 0)
    return r;
  t->slots[fd] = (struct fd_slot){.file = f, .cloexec = cloexec};
  t->used++;
  return fd;
}

int fdtable_install_at(struct fdtable *t, int fd, struct file *f, bool cloexec) {
  if (fd < 0 || fd >= limit(t))
    return -EBADF;
  int r = grow(t, fd);
  if (r < 0)
    return r;
  struct file *old = t->slots[fd].file;
  t->slots[fd] = (struct fd_slot){.file = f, .cloexec = cloexec};
  if (old)
    file_unref(old); /* after the swap: releasing may look at the table */
  else
    t->used++;
  return fd;
}

struct file *fdtable_get(const struct fdtable *t, int fd) {
  return fd >= 0 && fd < t->cap ? t->slots[fd].file : NULL;
}

int fdtable_close(struct fdtable *t, int fd) {
  struct file *f = fdtable_get(t, fd);
  if (!f)
    return -EBADF;
  t->slots[fd] = (struct fd_slot){0};
  t->used--;
  file_unref(f);
  return 0;
}

void fdtable_close_on_exec(struct fdtable *t) {
  for (int fd = 0; fd < t->cap; fd++)
    if (t->slots[fd].file && t->slots[fd].cloexec)
      fdtable_close(t, fd);
}

int fdtable_get_cloexec(const struct fdtable *t, int fd) {
  return fdtable_get(t, fd) ? t->slots[fd].cloexec : -EBADF;
}

int fdtable_set_cloexec(struct fdtable *t, int fd, bool on) {
  if (!fdtable_get(t, fd))
    return -EBADF;
  t->slots[fd].cloexec = on;
  return 0;
}

int fdtable_count(const struct fdtable *t) { return t->used; }

int fdtable_end(const struct fdtable *t) {
  int end = t->cap;
  while (end > 0 && !t->slots[end - 1].file)
    end--;
  return end;
}
