/* hostfs.c - vnodes over the host directory --root (see hostfs.h). Each
 * vnode holds an O_PATH|O_NOFOLLOW descriptor of its host object; a child is
 * looked up by one plain name relative to its parent's descriptor, so the
 * host never resolves `..` or a symlink for us. */
#include "hostfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vnode.h"

struct host_node {
  struct vnode vn;
  int fd; /* O_PATH|O_NOFOLLOW */
};

static const struct vnode_ops host_ops;

static struct host_node *host_node(struct vnode *vn) { return (struct host_node *)vn; }

/* Wraps an O_PATH fd (taken over, closed on failure) in a new vnode. */
static int host_node_new(struct vnode *parent, const char *name, int fd, struct vnode **out) {
  struct stat st;
  struct host_node *n = NULL;
  int r = fstat(fd, &st) < 0 ? -errno : 0;
  if (r == 0 && !(n = calloc(1, sizeof *n)))
    r = -ENOMEM;
  if (r == 0)
    r = vnode_init(&n->vn, &host_ops, st.st_mode, FS_ROOT, parent, name);
  if (r < 0) {
    close(fd);
    free(n);
    return r;
  }
  n->fd = fd;
  *out = &n->vn;
  return 0;
}

int hostfs_root(const char *host_dir, struct vnode **out) {
  int fd = open(host_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  return host_node_new(NULL, "/", fd, out);
}

/* A single plain component: the only kind of name handed to the host. */
static bool plain_name(const char *name) {
  return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int host_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  if (!plain_name(name))
    return -ENOENT;
  int fd = openat(host_node(dir)->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  return host_node_new(dir, name, fd, out);
}

static int host_stat(struct vnode *vn, struct stat *st) {
  return fstat(host_node(vn)->fd, st) < 0 ? -errno : 0;
}

static ssize_t host_readlink(struct vnode *vn, char *buf, size_t len) {
  ssize_t n = readlinkat(host_node(vn)->fd, "", buf, len);
  return n < 0 ? -errno : n;
}

/* True when two host fds name the same object. */
static bool same_host_object(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* Reopens a regular file for reading by name from its parent (O_NOFOLLOW,
 * O_NONBLOCK so a FIFO swapped in cannot block us) and checks it is still
 * the object the vnode was looked up as. */
static int host_open_reg(struct host_node *n, int flags, struct file **out) {
  struct vnode *parent = n->vn.parent;
  if (!parent || parent->ops != &host_ops)
    return -ENOENT;
  int fd = openat(host_node(parent)->fd, n->vn.name,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (!same_host_object(fd, n->fd)) {
    close(fd);
    return -ENOENT;
  }
  return hostfile_open_reg(&n->vn, fd, flags, out);
}

static int host_open(struct vnode *vn, int flags, struct file **out) {
  if (S_ISDIR(vn->type)) {
    int fd = openat(host_node(vn)->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return -errno;
    return hostfile_open_dir(vn, fd, vnode_is_root(vn), flags, out);
  }
  if (S_ISSOCK(vn->type))
    return -ENXIO;
  if (!S_ISREG(vn->type))
    return -EACCES; /* devices and FIFOs of the image: as on a nodev mount */
  return host_open_reg(host_node(vn), flags, out);
}

static int host_access(struct vnode *vn, int mode) {
  if ((mode & W_OK) && (S_ISREG(vn->type) || S_ISDIR(vn->type) || S_ISLNK(vn->type)))
    return -EROFS;
  /* What the VMM itself may do with the object is what the guest can get. */
  if (syscall(SYS_faccessat2, host_node(vn)->fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0)
    return -errno;
  return 0;
}

static void host_release(struct vnode *vn) {
  close(host_node(vn)->fd);
  free(host_node(vn));
}

static const struct vnode_ops host_ops = {
    .lookup = host_lookup,
    .stat = host_stat,
    .readlink = host_readlink,
    .open = host_open,
    .access = host_access,
    .release = host_release,
};
