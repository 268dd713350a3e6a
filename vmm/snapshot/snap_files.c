/* snap_files.c - the files section (SNAP_SEC_FILES): the descriptor table
 * and every open description behind it, as plain values.
 *
 * Descriptions are saved once each and descriptors refer to them by index,
 * so descriptors that shared a description (dup, fork-less inheritance)
 * share one again after a restore: offset and status flags included. A
 * description is of one kind:
 *   PATH   a place in the namespace (image files and directories, /tmp and
 *          /code nodes, /dev, /proc and /sys, O_PATH), by canonical guest
 *          path, reopened there on restore; an image file also carries the
 *          host file's identity (dev, ino, size, mtime) and is refused if
 *          that changed;
 *   PIPE   an end of a pipe; pipes (buffered bytes and all) are saved once
 *          each, before the descriptions;
 *   STDIO  hearth-vmm's own fd 0, 1 or 2: the restoring process's own;
 *   EPOLL  an epoll instance; its interest items follow the descriptions,
 *          by epoll, fd and target description;
 *   VSOCK  a vsock socket (net/vsock_snap.h: connections come back reset).
 * Anything else (framed stdio's streams, an unlinked /tmp file still open)
 * makes the save fail with -EBUSY or -EOPNOTSUPP and a reason
 * (snap_files.h), never a silent drop.
 *
 * Layout: u32 fd limit;
 *   u32 npipes, npipes x (u64 ino, u32 cap, u32 len, ts created,
 *                         u8 reader, u8 writer, len bytes);
 *   u32 ndesc, ndesc x (u8 kind, u32 flags, u64 pos, kind's fields);
 *   u32 nfds, nfds x (u32 fd, u8 cloexec, u32 desc);
 *   u32 nitems, nitems x (u32 epoll desc, u32 fd, u32 target desc,
 *                         u32 events, u64 data). */
#include "snapshot/snap_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/epoll.h"
#include "fs/vfs.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "net/vsock.h"
#include "net/vsock_snap.h"
#include "snapshot/snap_parts.h"
#include "snapshot/snap_ts.h"
#include "vm.h"

enum snap_file_kind { SK_PATH = 1, SK_PIPE, SK_STDIO, SK_EPOLL, SK_VSOCK };

/* Descriptors, descriptions and pipes: each at most one per descriptor. */
#define SNAP_FD_MAX FDTABLE_HARD_MAX

static _Thread_local char reason[160];

const char *snap_files_reason(void) { return reason; }

__attribute__((format(printf, 2, 3))) static int refuse(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return err;
}

/* --- saving --- */

/* The distinct descriptions of the table, and the distinct pipes. */
struct desc_set {
  struct file **desc;
  int ndesc;
  const void **pipe;
  int npipe;
};

static int index_of(const void *const *v, int n, const void *p) {
  for (int i = 0; i < n; i++)
    if (v[i] == p)
      return i;
  return -1;
}

static int collect(const struct fdtable *t, struct desc_set *s) {
  int end = fdtable_end(t);
  s->desc = calloc((size_t)end + 1, sizeof *s->desc);
  s->pipe = calloc((size_t)end + 1, sizeof *s->pipe);
  if (!s->desc || !s->pipe)
    return -ENOMEM;
  for (int fd = 0; fd < end; fd++) {
    struct file *f = fdtable_get(t, fd);
    if (!f || index_of((const void *const *)s->desc, s->ndesc, f) >= 0)
      continue;
    s->desc[s->ndesc++] = f;
    if (vfs_file_is_pipe(f) && index_of(s->pipe, s->npipe, vfs_pipe_id(f)) < 0)
      s->pipe[s->npipe++] = vfs_pipe_id(f);
  }
  return 0;
}

static int save_pipes(struct snap_buf *b, const struct desc_set *s) {
  unsigned char *data = malloc(VFS_PIPE_CAP_MAX);
  if (!data)
    return -ENOMEM;
  snap_put_u32(b, (uint32_t)s->npipe);
  for (int i = 0; i < s->npipe; i++) {
    struct file *end = NULL;
    for (int d = 0; d < s->ndesc && !end; d++)
      if (vfs_file_is_pipe(s->desc[d]) && vfs_pipe_id(s->desc[d]) == s->pipe[i])
        end = s->desc[d];
    struct vfs_pipe_state st;
    vfs_pipe_save(end, &st, data);
    snap_put_u64(b, st.ino);
    snap_put_u32(b, st.cap);
    snap_put_u32(b, st.len);
    snap_put_ts(b, st.created);
    snap_put_u8(b, st.reader);
    snap_put_u8(b, st.writer);
    snap_put_bytes(b, data, st.len);
  }
  free(data);
  return b->err;
}

/* A place in the namespace, and an image file's host identity. */
static int save_path(struct snap_buf *b, struct file *f, int fd) {
  int err;
  char *path = vfs_file_guest_path(f, &err);
  if (!path)
    return err == -ENOENT ? refuse(-EOPNOTSUPP, "fd %d: an unlinked file is still open", fd)
                          : refuse(err, "fd %d: no path for the open file", fd);
  snap_put_str(b, path);
  free(path);
  bool host = vfs_file_is_host_regular(f);
  snap_put_u8(b, host);
  if (!host)
    return 0;
  struct stat st;
  int r = f->ops->fstat(f, &st);
  if (r < 0)
    return refuse(r, "fd %d: cannot stat the image file", fd);
  snap_put_u64(b, st.st_dev);
  snap_put_u64(b, st.st_ino);
  snap_put_u64(b, (uint64_t)st.st_size);
  snap_put_ts(b, st.st_mtim);
  return 0;
}

static void save_vsock(struct snap_buf *b, struct file *f) {
  struct vsock_saved_sock s;
  vsock_snap_sock(f, &s);
  snap_put_u8(b, s.kind);
  snap_put_u8(b, s.bound);
  snap_put_u32(b, s.local.cid);
  snap_put_u32(b, s.local.port);
  snap_put_u32(b, s.peer.cid);
  snap_put_u32(b, s.peer.port);
  snap_put_u32(b, s.backlog);
  snap_put_u64(b, s.ino);
  snap_put_ts(b, s.created);
}

static int kind_of(struct file *f) {
  if (vfs_file_is_pipe(f))
    return SK_PIPE;
  if (vfs_host_stdio_fd(f) >= 0)
    return SK_STDIO;
  if (file_is_epoll(f))
    return SK_EPOLL;
  if (file_is_vsock(f))
    return SK_VSOCK;
  return f->ops->vnode && f->ops->vnode(f) ? SK_PATH : 0;
}

/* The first descriptor naming f, for reasons. */
static int fd_of(const struct fdtable *t, struct file *f) {
  for (int fd = 0; fd < fdtable_end(t); fd++)
    if (fdtable_get(t, fd) == f)
      return fd;
  return -1;
}

static int save_desc(struct snap_buf *b, const struct fdtable *t, const struct desc_set *s,
                     struct file *f) {
  int kind = kind_of(f), fd = fd_of(t, f);
  if (!kind)
    return refuse(-EOPNOTSUPP, "fd %d (%s): this kind of file cannot be saved yet", fd,
                  f->ops->path && f->ops->path(f) ? f->ops->path(f) : "?");
  snap_put_u8(b, (uint8_t)kind);
  snap_put_u32(b, (uint32_t)f->flags);
  snap_put_u64(b, (uint64_t)f->pos);
  switch (kind) {
  case SK_PATH:
    return save_path(b, f, fd);
  case SK_PIPE:
    snap_put_u32(b, (uint32_t)index_of(s->pipe, s->npipe, vfs_pipe_id(f)));
    return 0;
  case SK_STDIO:
    if (vfs_host_stdio_fd(f) > 2)
      return refuse(-EOPNOTSUPP, "fd %d: wraps host fd %d, not stdio", fd, vfs_host_stdio_fd(f));
    snap_put_u32(b, (uint32_t)vfs_host_stdio_fd(f));
    return 0;
  case SK_VSOCK:
    save_vsock(b, f);
    return 0;
  }
  return 0; /* SK_EPOLL: its items come after every description */
}

static int save_items(struct snap_buf *b, const struct fdtable *t, const struct desc_set *s) {
  uint32_t n = 0;
  for (int d = 0; d < s->ndesc; d++)
    n += file_is_epoll(s->desc[d]) ? (uint32_t)epoll_item_count(s->desc[d]) : 0;
  snap_put_u32(b, n);
  for (int d = 0; d < s->ndesc; d++) {
    if (!file_is_epoll(s->desc[d]))
      continue;
    for (size_t i = 0; i < epoll_item_count(s->desc[d]); i++) {
      struct epoll_item_state it;
      epoll_item_get(s->desc[d], i, &it);
      int target = index_of((const void *const *)s->desc, s->ndesc, it.file);
      if (target < 0)
        return refuse(-EOPNOTSUPP,
                      "epoll fd %d watches fd %d, whose file is no longer in the "
                      "table",
                      fd_of(t, s->desc[d]), it.fd);
      snap_put_u32(b, (uint32_t)d);
      snap_put_u32(b, (uint32_t)it.fd);
      snap_put_u32(b, (uint32_t)target);
      snap_put_u32(b, it.events);
      snap_put_u64(b, it.data);
    }
  }
  return b->err;
}

static void save_fds(struct snap_buf *b, const struct fdtable *t, const struct desc_set *s) {
  snap_put_u32(b, (uint32_t)fdtable_count(t));
  for (int fd = 0; fd < fdtable_end(t); fd++) {
    struct file *f = fdtable_get(t, fd);
    if (!f)
      continue;
    snap_put_u32(b, (uint32_t)fd);
    snap_put_u8(b, fdtable_get_cloexec(t, fd) == 1);
    snap_put_u32(b, (uint32_t)index_of((const void *const *)s->desc, s->ndesc, f));
  }
}

static int save_all(struct snap_buf *b, const struct fdtable *t, const struct desc_set *s) {
  snap_put_u32(b, (uint32_t)t->limit);
  int r = save_pipes(b, s);
  snap_put_u32(b, (uint32_t)s->ndesc);
  for (int d = 0; d < s->ndesc && r == 0; d++)
    r = save_desc(b, t, s, s->desc[d]);
  if (r < 0)
    return r;
  save_fds(b, t, s);
  r = save_items(b, t, s);
  return r < 0 ? r : b->err;
}

int snap_save_files(const struct vm *vm, struct snap_buf *b) {
  reason[0] = '\0';
  if (vm->frame)
    return refuse(-EBUSY, "framed stdio in progress: snapshot between invocations");
  struct desc_set s = {0};
  int r = collect(&vm->fds, &s);
  if (r == 0)
    r = save_all(b, &vm->fds, &s);
  free(s.desc);
  free(s.pipe);
  return r;
}

/* --- loading --- */

/* What loading builds before the table takes it: each description with
 * one reference (the table's installs take their own), and each pipe's
 * two ends until a description claims them. */
struct load_set {
  struct file **desc;
  bool *used; /* named by a descriptor */
  uint32_t ndesc;
  struct file *(*ends)[2];
  uint32_t npipe;
};

static void load_set_free(struct load_set *s) {
  for (uint32_t i = 0; s->desc && i < s->ndesc; i++)
    file_unref(s->desc[i]);
  for (uint32_t i = 0; s->ends && i < s->npipe; i++) {
    file_unref(s->ends[i][0]);
    file_unref(s->ends[i][1]);
  }
  free(s->desc);
  free(s->used);
  free(s->ends);
}

static uint32_t get_count(struct snap_cursor *c, uint32_t max) {
  uint32_t n = snap_get_u32(c);
  if (n > max && !c->err)
    c->err = -EBADMSG;
  return c->err ? 0 : n;
}

static int load_pipe(struct vm *vm, struct snap_cursor *c, struct file *ends[2]) {
  struct vfs_pipe_state st = {.ino = snap_get_u64(c)};
  st.cap = snap_get_u32(c);
  st.len = snap_get_u32(c);
  st.created = snap_get_ts(c);
  uint8_t reader = snap_get_u8(c), writer = snap_get_u8(c);
  st.reader = reader == 1;
  st.writer = writer == 1;
  if (c->err || reader > 1 || writer > 1 || st.len > st.cap)
    return c->err ? c->err : refuse(-EBADMSG, "a pipe holds more than its capacity");
  const uint8_t *data = snap_get_bytes(c, st.len);
  if (!data)
    return c->err;
  int r = vfs_pipe_restore(vm->vfs, &st, data, 0, 0, &ends[0], &ends[1]);
  return r == -EINVAL ? refuse(-EBADMSG, "a pipe of capacity %u", st.cap) : r;
}

static int load_pipes(struct vm *vm, struct snap_cursor *c, struct load_set *s) {
  uint32_t n = get_count(c, SNAP_FD_MAX);
  if (c->err)
    return refuse(c->err, "pipe count past the descriptor table's limit");
  s->ends = calloc(n ? n : 1, sizeof *s->ends);
  if (!s->ends)
    return -ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    int r = load_pipe(vm, c, s->ends[i]);
    if (r < 0)
      return r;
    s->npipe++;
  }
  return 0;
}

/* Reopens a saved place; an image file must be the very file it was. */
static int load_path(struct vm *vm, struct snap_cursor *c, int flags, struct file **out) {
  char path[PATH_MAX];
  int s = snap_get_str(c, path, sizeof path);
  uint8_t host = snap_get_u8(c);
  struct stat want = {0};
  if (host == 1) {
    want.st_dev = snap_get_u64(c);
    want.st_ino = snap_get_u64(c);
    want.st_size = (off_t)snap_get_u64(c);
    want.st_mtim = snap_get_ts(c);
  }
  if (c->err || s != 1 || host > 1)
    return refuse(c->err ? c->err : -EBADMSG, "a malformed path description");
  int r = vfs_reopen(vm->vfs, path, flags, out);
  if (r < 0)
    return refuse(r, "%s: cannot be opened again: %s", path, strerror(-r));
  struct stat got;
  if (host &&
      ((*out)->ops->fstat(*out, &got) < 0 || !vfs_file_is_host_regular(*out) ||
       got.st_dev != want.st_dev || got.st_ino != want.st_ino || got.st_size != want.st_size ||
       got.st_mtim.tv_sec != want.st_mtim.tv_sec || got.st_mtim.tv_nsec != want.st_mtim.tv_nsec))
    return refuse(-ESTALE, "%s: the image file changed since the snapshot", path);
  return 0;
}

/* A pipe end's description: the end the pipe was rebuilt with. */
static int load_pipe_end(struct snap_cursor *c, struct load_set *s, int flags, struct file **out) {
  uint32_t i = snap_get_u32(c);
  int end = (flags & O_ACCMODE) == O_RDONLY ? 0 : 1;
  if (c->err || i >= s->npipe || !s->ends[i][end] || ((flags & O_ACCMODE) > O_WRONLY))
    return refuse(c->err ? c->err : -EBADMSG, "a pipe end that is not in the snapshot");
  *out = s->ends[i][end];
  s->ends[i][end] = NULL;
  return 0;
}

static int load_vsock(struct vm *vm, struct snap_cursor *c, int flags, struct file **out) {
  /* One field per statement: initialisers are evaluated in no set order. */
  struct vsock_saved_sock s = {.kind = snap_get_u8(c)};
  uint8_t bound = snap_get_u8(c);
  s.bound = bound == 1;
  s.local.cid = snap_get_u32(c);
  s.local.port = snap_get_u32(c);
  s.peer.cid = snap_get_u32(c);
  s.peer.port = snap_get_u32(c);
  s.backlog = snap_get_u32(c);
  s.ino = snap_get_u64(c);
  s.created = snap_get_ts(c);
  if (c->err || bound > 1)
    return refuse(c->err ? c->err : -EBADMSG, "a malformed vsock socket");
  if (!vm->vsock)
    return refuse(-EOPNOTSUPP, "a vsock socket, and this VM has no vsock");
  int r = vsock_snap_sock_restore(vm->vsock, &s, flags, out);
  if (r == -EINVAL)
    return refuse(-EBADMSG, "a malformed vsock socket");
  return r < 0 ? refuse(r, "vsock port %u: %s", s.local.port, strerror(-r)) : 0;
}

/* Where a description's position goes: its lseek (host directories keep
 * theirs in the host fd), else the description itself. */
static int set_pos(struct file *f, uint64_t pos) {
  if (pos > INT64_MAX)
    return -EBADMSG;
  if (pos == 0 || !f->ops->lseek) {
    f->pos = (off_t)pos;
    return 0;
  }
  off_t r = f->ops->lseek(f, (off_t)pos, SEEK_SET);
  return r < 0 ? (int)r : 0;
}

static int load_desc(struct vm *vm, struct snap_cursor *c, struct load_set *s, struct file **out) {
  uint8_t kind = snap_get_u8(c);
  int flags = (int)snap_get_u32(c);
  uint64_t pos = snap_get_u64(c);
  if (c->err)
    return c->err;
  if ((flags & O_ACCMODE) == O_ACCMODE)
    return refuse(-EBADMSG, "a description with access mode 3");
  int r;
  switch (kind) {
  case SK_PATH:
    r = load_path(vm, c, flags, out);
    break;
  case SK_PIPE:
    r = load_pipe_end(c, s, flags, out);
    break;
  case SK_STDIO: {
    uint32_t fd = snap_get_u32(c);
    if (c->err || fd > 2)
      return refuse(c->err ? c->err : -EBADMSG, "a stdio description of host fd %u", fd);
    *out = vfs_host_stdio((int)fd, flags);
    r = *out ? 0 : -ENOMEM;
    break;
  }
  case SK_EPOLL:
    r = epoll_new(out);
    break;
  case SK_VSOCK:
    r = load_vsock(vm, c, flags, out);
    break;
  default:
    return refuse(-EBADMSG, "a description of unknown kind %u", kind);
  }
  if (r < 0)
    return r;
  (*out)->flags = flags;
  r = set_pos(*out, pos);
  return r < 0 ? refuse(r == -EBADMSG ? r : -EBADMSG, "a position past the end") : 0;
}

static int load_descs(struct vm *vm, struct snap_cursor *c, struct load_set *s) {
  uint32_t n = get_count(c, SNAP_FD_MAX);
  if (c->err)
    return refuse(c->err, "description count past the descriptor table's limit");
  s->desc = calloc(n ? n : 1, sizeof *s->desc);
  s->used = calloc(n ? n : 1, sizeof *s->used);
  if (!s->desc || !s->used)
    return -ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    int r = load_desc(vm, c, s, &s->desc[i]);
    if (s->desc[i])
      s->ndesc++; /* made, even if then refused: freed with the set */
    if (r < 0)
      return r;
  }
  for (uint32_t i = 0; i < s->npipe; i++)
    if (s->ends[i][0] || s->ends[i][1])
      return refuse(-EBADMSG, "a pipe end no description holds");
  return 0;
}

static int load_fds(struct vm *vm, struct snap_cursor *c, struct load_set *s) {
  struct fdtable *t = &vm->fds;
  uint32_t n = get_count(c, SNAP_FD_MAX);
  if (c->err)
    return refuse(c->err, "descriptor count past the table's limit");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t fd = snap_get_u32(c);
    uint8_t cloexec = snap_get_u8(c);
    uint32_t d = snap_get_u32(c);
    if (c->err)
      return c->err;
    if (fd >= (uint32_t)t->limit || fd >= SNAP_FD_MAX || cloexec > 1 || d >= s->ndesc ||
        fdtable_get(t, (int)fd))
      return refuse(-EBADMSG, "fd %u: past the table's limit, repeated, or of no description", fd);
    int r = fdtable_install_at(t, (int)fd, file_ref(s->desc[d]), cloexec);
    if (r < 0) {
      file_unref(s->desc[d]);
      return r;
    }
    s->used[d] = true;
  }
  for (uint32_t d = 0; d < s->ndesc; d++)
    if (!s->used[d])
      return refuse(-EBADMSG, "a description no descriptor names");
  return 0;
}

static int load_items(struct snap_cursor *c, struct load_set *s) {
  uint32_t n = get_count(c, EPOLL_MAX_WATCHES);
  if (c->err)
    return refuse(c->err, "too many epoll items");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t ep = snap_get_u32(c), fd = snap_get_u32(c), target = snap_get_u32(c);
    struct epoll_item_state it = {.fd = (int)fd, .events = snap_get_u32(c)};
    it.data = snap_get_u64(c);
    if (c->err)
      return c->err;
    if (ep >= s->ndesc || target >= s->ndesc || fd >= SNAP_FD_MAX || !file_is_epoll(s->desc[ep]))
      return refuse(-EBADMSG, "an epoll item of no epoll or no file");
    it.file = s->desc[target];
    int r = epoll_item_restore(s->desc[ep], &it);
    if (r < 0)
      return refuse(r == -ENOMEM ? r : -EBADMSG, "epoll item fd %u: %s", fd, strerror(-r));
  }
  return 0;
}

int snap_load_files(struct vm *vm, struct snap_cursor *c) {
  reason[0] = '\0';
  if (fdtable_count(&vm->fds) != 0)
    return refuse(-EEXIST, "the descriptor table is not empty");
  uint32_t limit = snap_get_u32(c);
  if (c->err || limit == 0 || limit > FDTABLE_HARD_MAX)
    return refuse(-EBADMSG, "a descriptor limit of %u", limit);
  vm->fds.limit = (int)limit;
  struct load_set s = {0};
  int r = load_pipes(vm, c, &s);
  if (r == 0)
    r = load_descs(vm, c, &s);
  if (r == 0)
    r = load_fds(vm, c, &s);
  if (r == 0)
    r = load_items(c, &s);
  if (r == 0 && snap_cursor_done(c) < 0)
    r = refuse(-EBADMSG, "bytes left over after the files");
  load_set_free(&s);
  if (r < 0)
    fdtable_fini(&vm->fds); /* what was installed goes, so the VM can be dropped whole */
  if (r < 0)
    fdtable_init(&vm->fds);
  return r;
}
