/* snap_mm.c - the memory-map section (snap_parts.h): struct vm_mm and the
 * vma list. Page tables live in guest memory and come back with it; this
 * section only rebuilds what the VMM believes the guest may use. A file
 * mapping is saved as the identity of its file: the guest path it was
 * opened at, its access mode, and for a file of the host tree its size,
 * mtime and inode, so that a restore reopens the same file inside the root
 * and refuses (-ESTALE) when it changed. Files of /tmp, /code and /dev are
 * restored by the vfs section first and checked by size only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "mem/layout.h"
#include "mem/vma.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define VMA_FLAGS_KNOWN (MAP_TYPE | MAP_ANONYMOUS)

/* The identity of a mapped file: enough to find it again and to tell
 * whether it is still the same bytes. */
struct snap_file_id {
  char path[PATH_MAX];
  uint32_t accmode;
  uint8_t host; /* a regular file of the host tree: mtime and inode are checked too */
  uint64_t size, mtime_sec, mtime_nsec, ino;
};

static int file_identity(struct file *f, struct snap_file_id *id) {
  const char *path = f->ops->path ? f->ops->path(f) : NULL;
  struct stat st;
  if (!path || path[0] != '/' || strlen(path) >= sizeof id->path || !f->ops->fstat)
    return -ENOTSUP; /* nothing a restore could reopen */
  int rc = f->ops->fstat(f, &st);
  if (rc < 0)
    return rc;
  memset(id, 0, sizeof *id);
  strcpy(id->path, path);
  id->accmode = (uint32_t)(f->flags & O_ACCMODE);
  id->host = vfs_file_is_host_regular(f);
  id->size = (uint64_t)st.st_size;
  id->mtime_sec = (uint64_t)st.st_mtim.tv_sec;
  id->mtime_nsec = (uint64_t)st.st_mtim.tv_nsec;
  id->ino = (uint64_t)st.st_ino;
  return 0;
}

static void put_file_id(struct snap_buf *b, const struct snap_file_id *id) {
  snap_put_str(b, id->path);
  snap_put_u32(b, id->accmode);
  snap_put_u8(b, id->host);
  snap_put_u64(b, id->size);
  snap_put_u64(b, id->mtime_sec);
  snap_put_u64(b, id->mtime_nsec);
  snap_put_u64(b, id->ino);
}

static void put_mm(struct snap_buf *b, const struct vm_mm *mm) {
  snap_put_u64(b, mm->brk_start);
  snap_put_u64(b, mm->brk);
  snap_put_u64(b, mm->brk_limit);
  snap_put_u64(b, mm->mmap_top);
  snap_put_u64(b, mm->stack_top);
  snap_put_u64(b, mm->stack_bottom);
  snap_put_u64(b, mm->load_bias);
}

static int put_vma(struct snap_buf *b, const struct vma *m) {
  snap_put_u64(b, m->start);
  snap_put_u64(b, m->end);
  snap_put_u32(b, (uint32_t)m->prot);
  snap_put_u32(b, (uint32_t)m->flags);
  snap_put_u32(b, (uint32_t)m->kind);
  snap_put_u64(b, m->file_off);
  snap_put_str(b, m->name);
  if (m->kind != VMA_FILE)
    return 0;
  if (!m->file)
    return -ENOTSUP;
  struct snap_file_id id;
  int rc = file_identity(m->file, &id);
  if (rc == 0)
    put_file_id(b, &id);
  return rc;
}

int snap_save_mm(const struct vm *vm, struct snap_buf *b) {
  put_mm(b, &vm->mm);
  if (vm->vmas.n > VMA_MAX_COUNT)
    return -EOVERFLOW;
  snap_put_u32(b, (uint32_t)vm->vmas.n);
  for (size_t i = 0; i < vm->vmas.n; i++) {
    int rc = put_vma(b, &vm->vmas.v[i]);
    if (rc < 0)
      return rc;
  }
  return b->err;
}

static bool user_addr(uint64_t a) { return a <= LAYOUT_USER_TOP; }

static int mm_check(const struct vm_mm *mm) {
  if (!user_addr(mm->brk_limit) || mm->brk_start > mm->brk || mm->brk > mm->brk_limit)
    return -EBADMSG;
  if (!user_addr(mm->stack_top) || mm->stack_bottom > mm->stack_top)
    return -EBADMSG;
  if (!user_addr(mm->mmap_top) || !user_addr(mm->load_bias))
    return -EBADMSG;
  return 0;
}

/* A mapping a running guest could have: page-aligned, in user space, after
 * the previous one, with known bits only, and never a writable shared file
 * mapping (sys_mmap refuses those). */
static int vma_check(const struct vma *m, uint64_t prev_end) {
  if ((m->start | m->end) & ~GUEST_PAGE_MASK || m->start >= m->end || m->start < prev_end ||
      m->start < LAYOUT_MMAP_MIN || m->end > LAYOUT_USER_TOP)
    return -EBADMSG;
  if (m->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC) || m->flags & ~VMA_FLAGS_KNOWN)
    return -EBADMSG;
  if ((unsigned)m->kind > VMA_VVAR)
    return -EBADMSG;
  if (m->kind == VMA_FILE && (m->flags & MAP_TYPE) != MAP_PRIVATE && (m->prot & PROT_WRITE))
    return -EBADMSG;
  return 0;
}

static int get_file_id(struct snap_cursor *c, struct snap_file_id *id) {
  memset(id, 0, sizeof *id);
  int rc = snap_get_str(c, id->path, sizeof id->path);
  id->accmode = snap_get_u32(c);
  id->host = snap_get_u8(c);
  id->size = snap_get_u64(c);
  id->mtime_sec = snap_get_u64(c);
  id->mtime_nsec = snap_get_u64(c);
  id->ino = snap_get_u64(c);
  if (c->err || rc != 1 || id->path[0] != '/' || id->host > 1)
    return -EBADMSG;
  if (id->accmode != O_RDONLY && id->accmode != O_RDWR) /* a mapping needs read access */
    return -EBADMSG;
  return 0;
}

/* The file a mapping names, reopened inside the guest's root; -ESTALE when
 * it is no longer the file the snapshot mapped. */
static int reopen_file(struct vm *vm, const struct snap_file_id *id, struct file **out) {
  struct file *f = NULL;
  int rc = vfs_openat(vm->vfs, &vm->fds, AT_FDCWD, id->path, (int)id->accmode, 0, &f);
  if (rc < 0)
    return rc;
  struct snap_file_id now;
  if ((rc = file_identity(f, &now)) < 0) {
    file_unref(f);
    return rc;
  }
  bool same = now.host == id->host && now.size == id->size;
  if (same && id->host)
    same = now.ino == id->ino && now.mtime_sec == id->mtime_sec && now.mtime_nsec == id->mtime_nsec;
  if (!same) {
    file_unref(f);
    return -ESTALE;
  }
  *out = f;
  return 0;
}

/* Consecutive mappings of one file (a library's segments) share one
 * reopened description, as they shared one before. */
struct reopen_cache {
  struct snap_file_id id;
  struct file *f;
};

static int cached_reopen(struct vm *vm, struct reopen_cache *rc, const struct snap_file_id *id,
                         struct file **out) {
  if (rc->f && strcmp(rc->id.path, id->path) == 0 && rc->id.accmode == id->accmode &&
      rc->id.size == id->size && rc->id.ino == id->ino && rc->id.host == id->host) {
    *out = rc->f;
    return 0;
  }
  struct file *f;
  int err = reopen_file(vm, id, &f);
  if (err < 0)
    return err;
  if (rc->f)
    file_unref(rc->f);
  rc->f = f;
  rc->id = *id;
  *out = f;
  return 0;
}

static int load_vma(struct vm *vm, struct snap_cursor *c, struct reopen_cache *cache,
                    uint64_t *prev_end) {
  struct vma m = {0};
  char name[PATH_MAX];
  m.start = snap_get_u64(c);
  m.end = snap_get_u64(c);
  m.prot = (int)snap_get_u32(c);
  m.flags = (int)snap_get_u32(c);
  m.kind = (enum vma_kind)snap_get_u32(c);
  m.file_off = snap_get_u64(c);
  int named = snap_get_str(c, name, sizeof name);
  if (c->err || named < 0 || vma_check(&m, *prev_end) < 0)
    return -EBADMSG;
  if (m.kind == VMA_FILE) {
    struct snap_file_id id;
    int rc = get_file_id(c, &id);
    if (rc == 0)
      rc = cached_reopen(vm, cache, &id, &m.file);
    if (rc < 0)
      return rc;
  }
  int rc = vma_insert(&vm->vmas, &m); /* takes its own reference on m.file */
  /* Naming fails past VMA_NAMES_MAX distinct names: more than the loader
   * ever gives, so the section is malformed. */
  if (rc == 0 && named == 1 && vma_name_range(&vm->vmas, m.start, m.end, name, m.file_off) < 0)
    rc = -EBADMSG;
  *prev_end = m.end;
  return rc;
}

int snap_load_mm(struct vm *vm, struct snap_cursor *c) {
  if (vm->vmas.n != 0)
    return -EBUSY; /* loads only into a VM with no mappings yet */
  struct vm_mm mm;
  mm.brk_start = snap_get_u64(c);
  mm.brk = snap_get_u64(c);
  mm.brk_limit = snap_get_u64(c);
  mm.mmap_top = snap_get_u64(c);
  mm.stack_top = snap_get_u64(c);
  mm.stack_bottom = snap_get_u64(c);
  mm.load_bias = snap_get_u64(c);
  uint32_t n = snap_get_u32(c);
  if (c->err || n > VMA_MAX_COUNT || mm_check(&mm) < 0)
    return -EBADMSG;
  struct reopen_cache cache = {.f = NULL};
  uint64_t prev_end = 0;
  int rc = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++)
    rc = load_vma(vm, c, &cache, &prev_end);
  if (cache.f)
    file_unref(cache.f);
  if (rc == 0)
    rc = snap_cursor_done(c);
  if (rc < 0) {
    vma_space_fini(&vm->vmas); /* drops the references taken so far */
    vma_space_init(&vm->vmas);
    return rc;
  }
  vm->mm = mm;
  return 0;
}
