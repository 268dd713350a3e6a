/* test_snap_files.c - the files and vsock sections (snap_files.c,
 * snap_vsock.c): descriptors sharing a description share one again after
 * a restore, close-on-exec bits, positions and flags come back; pipes come
 * back with their buffered bytes and ends; epoll items, stdio and image
 * files (refused when the image file changed); vsock listeners come back
 * listening and connections reset; what cannot be saved is refused with a
 * reason; malformed sections are refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/epoll.h"
#include "fs/fs_test.h"
#include "fs/vfs.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "net/vsock.h"
#include "net/vsock_snap.h"
#include "snap_files_fixture.h"
#include "snapshot/snap_files.h"
#include "snapshot/snap_parts.h"

static int install(struct sfx *x, struct file *f, int fd, bool cloexec) {
  assert_int_equal(fdtable_install_at(&x->vm.fds, fd, f, cloexec), fd);
  return fd;
}

/* Saves x's files (and vsock) and loads them into a fresh VM whose /tmp
 * got x's tree first. */
static struct sfx *round_trip(struct sfx *x, const char *root) {
  struct snap_buf v, f, s;
  sfx_save(x, snap_save_vfs, &v);
  sfx_save(x, snap_save_files, &f);
  sfx_save(x, snap_save_vsock, &s);
  struct sfx *r = sfx_new(root, 0, 0);
  assert_int_equal(sfx_load(r, snap_load_vfs, v.p, v.len), 0);
  assert_int_equal(sfx_load(r, snap_load_vsock, s.p, s.len), 0);
  int rc = sfx_load(r, snap_load_files, f.p, f.len);
  if (rc != 0)
    fail_msg("load: %d (%s)", rc, snap_files_reason());
  free(v.p);
  free(f.p);
  free(s.p);
  return r;
}

static void test_dups_cloexec_positions(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct file *f;
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, "/tmp/f", O_CREAT | O_RDWR | O_APPEND, 0600, &f),
                   0);
  assert_int_equal(fst_write_str(f, "0123456789"), 10);
  install(x, f, 3, false);
  install(x, file_ref(f), 7, true);
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, "/tmp/f", O_RDONLY, 0, &f), 0);
  assert_int_equal(f->ops->lseek(f, 4, SEEK_SET), 4);
  install(x, f, 5, true);
  struct file *dir;
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, "/dev", O_RDONLY | O_DIRECTORY, 0, &dir), 0);
  install(x, dir, 9, false);

  struct sfx *r = round_trip(x, NULL);
  struct fdtable *t = &r->vm.fds;
  assert_int_equal(fdtable_count(t), 4);
  assert_ptr_equal(fdtable_get(t, 3), fdtable_get(t, 7)); /* dup'd: one description */
  assert_ptr_not_equal(fdtable_get(t, 3), fdtable_get(t, 5));
  assert_int_equal(fdtable_get_cloexec(t, 3), 0);
  assert_int_equal(fdtable_get_cloexec(t, 7), 1);
  assert_int_equal(fdtable_get_cloexec(t, 5), 1);
  assert_int_equal(fdtable_get(t, 3)->flags, O_RDWR | O_APPEND);
  assert_int_equal(fdtable_get(t, 3)->pos, 10);
  struct file *g = fdtable_get(t, 5);
  assert_int_equal(g->pos, 4);
  char buf[16] = {0};
  assert_int_equal(fst_read(g, buf, sizeof buf - 1), 6);
  assert_string_equal(buf, "456789");
  /* Writing through fd 7 moves fd 3's position: one description. */
  assert_int_equal(fst_write_str(fdtable_get(t, 7), "ab"), 2);
  assert_int_equal(fdtable_get(t, 3)->pos, 12);
  assert_non_null(fdtable_get(t, 9)->ops->getdents);
  sfx_free(x);
  sfx_free(r);
}

/* O_PATH descriptions (of a symlink itself, with O_NOFOLLOW) and a /tmp
 * directory listing half read come back as they were. */
static void test_opath_and_directory_position(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct vfs *v = x->vm.vfs;
  assert_int_equal(vfs_mkdirat(v, &x->vm.fds, AT_FDCWD, "/tmp/d", 0755), 0);
  for (int i = 0; i < 20; i++) {
    char name[32];
    struct file *f;
    snprintf(name, sizeof name, "/tmp/d/entry-%02d", i);
    assert_int_equal(fst_open(v, &x->vm.fds, name, O_CREAT | O_WRONLY, 0600, &f), 0);
    file_unref(f);
  }
  assert_int_equal(vfs_symlinkat(v, &x->vm.fds, "d", AT_FDCWD, "/tmp/l"), 0);
  struct file *p, *d;
  assert_int_equal(fst_open(v, &x->vm.fds, "/tmp/l", O_PATH | O_NOFOLLOW, 0, &p), 0);
  install(x, p, 3, false);
  assert_int_equal(fst_open(v, &x->vm.fds, "/tmp/d", O_RDONLY | O_DIRECTORY, 0, &d), 0);
  install(x, d, 4, false);
  unsigned char buf[128]; /* a few entries per call */
  assert_true(d->ops->getdents(d, buf, sizeof buf) > 0);
  off_t at = d->pos;
  assert_true(at > 2);

  struct sfx *r = round_trip(x, NULL);
  struct file *rp = fdtable_get(&r->vm.fds, 3), *rd = fdtable_get(&r->vm.fds, 4);
  assert_int_equal(rp->flags, O_PATH | O_NOFOLLOW);
  struct stat st;
  assert_int_equal(rp->ops->fstat(rp, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(rd->pos, at);
  /* The rest of the listing, in both, is the same. */
  unsigned char a[4096], b[4096];
  ssize_t na = d->ops->getdents(d, a, sizeof a), nb = rd->ops->getdents(rd, b, sizeof b);
  assert_true(na > 0);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, (size_t)na);
  sfx_free(x);
  sfx_free(r);
}

static void test_pipes_with_buffered_bytes(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct file *rd, *wr, *rd2, *wr2;
  assert_int_equal(vfs_pipe(x->vm.vfs, O_NONBLOCK, &rd, &wr), 0);
  assert_int_equal(fst_write_str(wr, "buffered"), 8);
  char tmp[3];
  assert_int_equal(fst_read(rd, tmp, 3), 3); /* the ring's head moves off 0 */
  assert_int_equal(fst_write_str(wr, "+more"), 5);
  install(x, rd, 3, false);
  install(x, wr, 4, true);
  assert_int_equal(vfs_pipe(x->vm.vfs, 0, &rd2, &wr2), 0);
  assert_int_equal(fst_write_str(wr2, "last words"), 10);
  file_unref(wr2); /* the writer has gone: data, then end of file */
  install(x, rd2, 6, false);
  struct stat st_before;
  assert_int_equal(rd->ops->fstat(rd, &st_before), 0);

  struct sfx *r = round_trip(x, NULL);
  struct file *r3 = fdtable_get(&r->vm.fds, 3), *r4 = fdtable_get(&r->vm.fds, 4);
  struct stat st;
  assert_int_equal(r3->ops->fstat(r3, &st), 0);
  assert_int_equal(st.st_ino, st_before.st_ino);
  assert_int_equal(r3->flags, O_RDONLY | O_NONBLOCK);
  assert_int_equal(vfs_pipe_nread(r3), 10);
  char buf[32] = {0};
  assert_int_equal(fst_read(r3, buf, sizeof buf - 1), 10);
  assert_string_equal(buf, "fered+more");
  assert_int_equal(fst_read(r3, buf, 1), -EAGAIN); /* the writer is still there */
  assert_int_equal(fst_write_str(r4, "again"), 5);
  memset(buf, 0, sizeof buf);
  assert_int_equal(fst_read(r3, buf, sizeof buf - 1), 5);
  assert_string_equal(buf, "again");
  struct file *r6 = fdtable_get(&r->vm.fds, 6);
  memset(buf, 0, sizeof buf);
  assert_int_equal(fst_read(r6, buf, sizeof buf - 1), 10);
  assert_string_equal(buf, "last words");
  assert_int_equal(fst_read(r6, buf, 1), 0);
  sfx_free(x);
  sfx_free(r);
}

static void test_epoll_items(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct file *rd, *wr, *ep;
  assert_int_equal(vfs_pipe(x->vm.vfs, 0, &rd, &wr), 0);
  install(x, rd, 3, false);
  install(x, wr, 4, false);
  assert_int_equal(epoll_new(&ep), 0);
  install(x, ep, 5, true);
  struct epoll_item_event ev = {.events = EPOLLIN | EPOLLET, .data = 0x1234};
  assert_int_equal(epoll_ctl_file(ep, EPOLL_CTL_ADD, 3, rd, &ev), 0);
  ev = (struct epoll_item_event){.events = EPOLLOUT | EPOLLONESHOT, .data = 99};
  assert_int_equal(epoll_ctl_file(ep, EPOLL_CTL_ADD, 4, wr, &ev), 0);

  struct sfx *r = round_trip(x, NULL);
  struct file *rep = fdtable_get(&r->vm.fds, 5);
  assert_true(file_is_epoll(rep));
  assert_int_equal(epoll_item_count(rep), 2);
  for (size_t i = 0; i < 2; i++) {
    struct epoll_item_state it;
    epoll_item_get(rep, i, &it);
    assert_ptr_equal(it.file, fdtable_get(&r->vm.fds, it.fd));
    if (it.fd == 3) {
      assert_int_equal(it.events, EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP);
      assert_int_equal(it.data, 0x1234);
    } else {
      assert_int_equal(it.fd, 4);
      assert_int_equal(it.events, EPOLLOUT | EPOLLONESHOT | EPOLLERR | EPOLLHUP);
      assert_int_equal(it.data, 99);
    }
  }
  sfx_free(x);
  sfx_free(r);
}

static void test_stdio_rewrapped(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  install(x, vfs_host_stdio(0, O_RDONLY), 0, false);
  struct file *out = vfs_host_stdio(1, O_WRONLY);
  install(x, out, 1, false);
  install(x, file_ref(out), 2, false);
  struct sfx *r = round_trip(x, NULL);
  assert_int_equal(vfs_host_stdio_fd(fdtable_get(&r->vm.fds, 0)), 0);
  assert_int_equal(vfs_host_stdio_fd(fdtable_get(&r->vm.fds, 1)), 1);
  assert_ptr_equal(fdtable_get(&r->vm.fds, 1), fdtable_get(&r->vm.fds, 2));
  assert_int_equal(fdtable_get(&r->vm.fds, 1)->flags, O_WRONLY);
  sfx_free(x);
  sfx_free(r);
}

/* An image file comes back only while it is the same host file. */
static void test_image_file_identity(void **state) {
  char *root = fst_mkdtemp();
  fst_write(root, "data.txt", "image bytes");
  struct sfx *x = sfx_new(root, 0, 0);
  struct file *f;
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, "/data.txt", O_RDONLY, 0, &f), 0);
  char buf[8];
  assert_int_equal(fst_read(f, buf, 5), 5);
  install(x, f, 3, false);
  struct sfx *r = round_trip(x, root);
  assert_true(vfs_file_is_host_regular(fdtable_get(&r->vm.fds, 3)));
  assert_int_equal(fdtable_get(&r->vm.fds, 3)->pos, 5);
  sfx_free(r);

  struct snap_buf v, fb;
  sfx_save(x, snap_save_vfs, &v);
  sfx_save(x, snap_save_files, &fb);
  fst_write(root, "data.txt", "image bytes, changed");
  r = sfx_new(root, 0, 0);
  assert_int_equal(sfx_load(r, snap_load_vfs, v.p, v.len), 0);
  assert_int_equal(sfx_load(r, snap_load_files, fb.p, fb.len), -ESTALE);
  assert_non_null(strstr(snap_files_reason(), "changed"));
  assert_int_equal(fdtable_count(&r->vm.fds), 0);
  free(v.p);
  free(fb.p);
  sfx_free(r);
  sfx_free(x);
  fst_rmtree(root);
}

static void test_vsock_listeners_and_reset(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct file *l, *c, *s, *u;
  struct vsock_addr peer;
  assert_int_equal(vsock_socket(&x->vm, SOCK_STREAM, 0, &l), 0);
  assert_int_equal(vsock_bind(l, (struct vsock_addr){0xffffffffu, 52}), 0);
  assert_int_equal(vsock_listen(l, 4), 0);
  assert_int_equal(vsock_socket(&x->vm, SOCK_STREAM, O_NONBLOCK, &c), 0);
  assert_int_equal(vsock_connect(c, (struct vsock_addr){3, 52}), 0);
  assert_int_equal(vsock_accept(l, 0, &s, &peer), 0);
  assert_int_equal(vsock_socket(&x->vm, SOCK_STREAM, 0, &u), 0); /* queued: dropped */
  assert_int_equal(vsock_connect(u, (struct vsock_addr){3, 52}), 0);
  install(x, l, 3, false);
  install(x, c, 4, false);
  install(x, s, 5, false);
  install(x, u, 6, false);
  struct stat lst;
  assert_int_equal(l->ops->fstat(l, &lst), 0);

  struct sfx *r = round_trip(x, NULL);
  struct file *rl = fdtable_get(&r->vm.fds, 3), *rc = fdtable_get(&r->vm.fds, 4);
  struct vsock_saved_sock ss;
  vsock_snap_sock(rl, &ss);
  assert_int_equal(ss.kind, VSOCK_SNAP_LISTENING);
  assert_int_equal(ss.local.port, 52);
  assert_int_equal(ss.backlog, 5);
  struct stat st;
  assert_int_equal(rl->ops->fstat(rl, &st), 0);
  assert_int_equal(st.st_ino, lst.st_ino);
  struct file *n;
  assert_int_equal(vsock_accept(rl, 0, &n, &peer), -EAGAIN); /* the queue went */
  /* The port set came back: 52 and the client's ephemeral port are taken. */
  struct file *other;
  assert_int_equal(vsock_socket(&r->vm, SOCK_STREAM, 0, &other), 0);
  assert_int_equal(vsock_bind(other, (struct vsock_addr){0xffffffffu, 52}), -EADDRINUSE);
  struct vsock_addr cname;
  assert_int_equal(vsock_name(rc, false, &cname), 0);
  assert_int_equal(vsock_bind(other, (struct vsock_addr){0xffffffffu, cname.port}), -EADDRINUSE);
  file_unref(other);
  /* Connections come back closed by their peer: end of stream, EPIPE. */
  char buf[4];
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
  assert_int_equal(vsock_recv(rc, &iov, 1, false), 0);
  assert_int_equal(vsock_send(rc, &iov, 1), -EPIPE);
  assert_int_equal(vsock_recv(fdtable_get(&r->vm.fds, 5), &iov, 1, false), 0);
  /* A new connection reaches the restored listener. */
  struct file *c2, *s2;
  assert_int_equal(vsock_socket(&r->vm, SOCK_STREAM, 0, &c2), 0);
  assert_int_equal(vsock_connect(c2, (struct vsock_addr){3, 52}), 0);
  assert_int_equal(vsock_accept(rl, 0, &s2, &peer), 0);
  file_unref(c2);
  file_unref(s2);
  sfx_free(x);
  sfx_free(r);
}

/* The vsock counters: inode numbers and ephemeral ports go on from where
 * they were; malformed sections are refused. */
static void test_vsock_counters(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct file *a, *b;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(vsock_socket(&x->vm, SOCK_STREAM, 0, &a), 0);
    assert_int_equal(vsock_bind(a, (struct vsock_addr){0xffffffffu, 0xffffffffu}), 0);
    file_unref(a);
  }
  struct snap_buf s;
  sfx_save(x, snap_save_vsock, &s);
  struct sfx *r = sfx_new(NULL, 0, 0);
  assert_int_equal(sfx_load(r, snap_load_vsock, s.p, s.len), 0);
  assert_int_equal(vsock_socket(&x->vm, SOCK_STREAM, 0, &a), 0);
  assert_int_equal(vsock_socket(&r->vm, SOCK_STREAM, 0, &b), 0);
  struct stat sa, sb;
  assert_int_equal(a->ops->fstat(a, &sa), 0);
  assert_int_equal(b->ops->fstat(b, &sb), 0);
  assert_int_equal(sa.st_ino, sb.st_ino);
  assert_int_equal(vsock_bind(a, (struct vsock_addr){0xffffffffu, 0xffffffffu}), 0);
  assert_int_equal(vsock_bind(b, (struct vsock_addr){0xffffffffu, 0xffffffffu}), 0);
  struct vsock_addr na, nb;
  assert_int_equal(vsock_name(a, false, &na), 0);
  assert_int_equal(vsock_name(b, false, &nb), 0);
  assert_int_equal(na.port, nb.port);
  assert_int_equal(nb.port, 1027);
  file_unref(a);
  file_unref(b);
  for (size_t len = 1; len < s.len; len++)
    assert_int_equal(sfx_load(r, snap_load_vsock, s.p, len), -EBADMSG);
  s.p[4] = 7, s.p[5] = s.p[6] = s.p[7] = 0; /* next ephemeral port 7 */
  assert_int_equal(sfx_load(r, snap_load_vsock, s.p, s.len), -EBADMSG);
  free(s.p);
  sfx_free(x);
  sfx_free(r);
}

/* Framing refuses (-EBUSY); an unlinked /tmp file refuses (-EOPNOTSUPP). */
static void test_refusals_with_reasons(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct snap_buf b = {0};
  x->vm.frame = (struct stdio_frame *)&b; /* any non-NULL: framing in progress */
  assert_int_equal(snap_save_files(&x->vm, &b), -EBUSY);
  assert_non_null(strstr(snap_files_reason(), "framed"));
  x->vm.frame = NULL;
  struct file *f;
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, "/tmp/gone", O_CREAT | O_RDWR, 0600, &f), 0);
  install(x, f, 3, false);
  assert_int_equal(vfs_unlinkat(x->vm.vfs, &x->vm.fds, AT_FDCWD, "/tmp/gone", 0), 0);
  assert_int_equal(snap_save_files(&x->vm, &b), -EOPNOTSUPP);
  assert_non_null(strstr(snap_files_reason(), "fd 3"));
  assert_non_null(strstr(snap_files_reason(), "unlinked"));
  free(b.p);
  sfx_free(x);
}

/* --- malformed sections --- */

static int load_files(const struct snap_buf *b) {
  assert_int_equal(b->err, 0);
  struct sfx *r = sfx_new(NULL, 0, 0);
  int rc = sfx_load(r, snap_load_files, b->p, b->len);
  if (rc < 0)
    assert_int_equal(fdtable_count(&r->vm.fds), 0);
  sfx_free(r);
  free(b->p);
  return rc;
}

/* One /dev/null description at fd, with a description kind. */
static struct snap_buf one_desc(uint8_t kind, uint32_t fd, uint32_t desc) {
  struct snap_buf b = {0};
  snap_put_u32(&b, 1024);
  snap_put_u32(&b, 0); /* pipes */
  snap_put_u32(&b, 1);
  snap_put_u8(&b, kind);
  snap_put_u32(&b, O_RDWR);
  snap_put_u64(&b, 0);
  snap_put_str(&b, "/dev/null");
  snap_put_u8(&b, 0);
  snap_put_u32(&b, 1);
  snap_put_u32(&b, fd);
  snap_put_u8(&b, 0);
  snap_put_u32(&b, desc);
  snap_put_u32(&b, 0); /* epoll items */
  return b;
}

static void test_malformed_refused(void **state) {
  struct snap_buf b = one_desc(1, 3, 0);
  assert_int_equal(load_files(&b), 0); /* the well-formed one loads */
  b = one_desc(1, 1024, 0);
  assert_int_equal(load_files(&b), -EBADMSG); /* fd past the limit */
  b = one_desc(1, 5000, 0);
  assert_int_equal(load_files(&b), -EBADMSG);
  b = one_desc(77, 3, 0);
  assert_int_equal(load_files(&b), -EBADMSG); /* unknown kind */
  b = one_desc(1, 3, 1);
  assert_int_equal(load_files(&b), -EBADMSG); /* no such description */
  b = (struct snap_buf){0};
  snap_put_u32(&b, 1024);
  snap_put_u32(&b, 0xffffffffu); /* pipe count past any table */
  assert_int_equal(load_files(&b), -EBADMSG);
  b = (struct snap_buf){0};
  snap_put_u32(&b, 1u << 20); /* a descriptor limit past the hard one */
  assert_int_equal(load_files(&b), -EBADMSG);
  /* A pipe holding more than its capacity, and one of a capacity never made. */
  for (int i = 0; i < 2; i++) {
    b = (struct snap_buf){0};
    snap_put_u32(&b, 1024);
    snap_put_u32(&b, 1);
    snap_put_u64(&b, 1);
    snap_put_u32(&b, i ? 100 : 4096);
    snap_put_u32(&b, i ? 4 : 5000);
    snap_put_u64(&b, 0);
    snap_put_u64(&b, 0);
    snap_put_u8(&b, 1);
    snap_put_u8(&b, 1);
    snap_put_bytes(&b, "abcd", 4);
    assert_int_equal(load_files(&b), -EBADMSG);
  }
}

/* Every truncation of a real section is refused, leaving no descriptor. */
static void test_truncations_refused(void **state) {
  struct sfx *x = sfx_new(NULL, 0, 0);
  struct file *rd, *wr, *ep, *f;
  assert_int_equal(vfs_pipe(x->vm.vfs, 0, &rd, &wr), 0);
  assert_int_equal(fst_write_str(wr, "xyz"), 3);
  install(x, rd, 3, false);
  install(x, wr, 4, false);
  assert_int_equal(epoll_new(&ep), 0);
  install(x, ep, 5, false);
  struct epoll_item_event ev = {.events = EPOLLIN, .data = 1};
  assert_int_equal(epoll_ctl_file(ep, EPOLL_CTL_ADD, 3, rd, &ev), 0);
  assert_int_equal(fst_open(x->vm.vfs, &x->vm.fds, "/dev/zero", O_RDONLY, 0, &f), 0);
  install(x, f, 6, false);
  struct snap_buf b;
  sfx_save(x, snap_save_files, &b);
  for (size_t len = 0; len < b.len; len++) {
    struct sfx *r = sfx_new(NULL, 0, 0);
    assert_true(sfx_load(r, snap_load_files, b.p, len) < 0);
    assert_int_equal(fdtable_count(&r->vm.fds), 0);
    sfx_free(r);
  }
  free(b.p);
  sfx_free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dups_cloexec_positions),
      cmocka_unit_test(test_opath_and_directory_position),
      cmocka_unit_test(test_pipes_with_buffered_bytes),
      cmocka_unit_test(test_epoll_items),
      cmocka_unit_test(test_stdio_rewrapped),
      cmocka_unit_test(test_image_file_identity),
      cmocka_unit_test(test_vsock_listeners_and_reset),
      cmocka_unit_test(test_vsock_counters),
      cmocka_unit_test(test_refusals_with_reasons),
      cmocka_unit_test(test_malformed_refused),
      cmocka_unit_test(test_truncations_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
