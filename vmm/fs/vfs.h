/* vfs.h - the guest's file namespace: the read-only image tree (--root), a
 * writable in-memory /tmp and /code (capped in bytes and entries: -ENOSPC;
 * files, directories and symlinks, no hard links), /dev
 * (null, zero, random, urandom; stdin, stdout, stderr and fd as links into
 * /proc/self/fd), /proc/self (exe, fd/, maps), /sys (the CPU lists of
 * /sys/devices/system/cpu: one CPU), all resolved component by
 * component inside the guest root, so no `..`, absolute symlink or symlink
 * loop can reach a host file outside it. The mounts shadow same-named
 * directories of the root. Also the working directory and umask.
 *
 * Paths are guest paths (already copied out of guest memory, shorter than
 * PATH_MAX; "" is -ENOENT unless AT_EMPTY_PATH applies). Functions taking
 * `dirfd` resolve relative paths from that descriptor of `fds` (AT_FDCWD:
 * the working directory) and return negative errnos as Linux's *at() calls
 * do, checks in Linux's order. The vfs is not thread-safe: one vCPU thread
 * uses it. */
#ifndef HEARTH_VMM_VFS_H
#define HEARTH_VMM_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct vfs;
struct file;
struct fdtable;

#define VFS_TMP_DEFAULT_BYTES (64ull << 20)
#define VFS_TMP_DEFAULT_ENTRIES 10000
#define VFS_CODE_DEFAULT_BYTES (256ull << 20)
#define VFS_CODE_DEFAULT_ENTRIES 20000

struct vfs_config {
  const char *host_root;     /* host directory shown as "/"; NULL: an empty tree */
  uint64_t tmp_max_bytes;    /* /tmp file data; 0: VFS_TMP_DEFAULT_BYTES */
  uint64_t tmp_max_entries;  /* /tmp files and directories; 0: VFS_TMP_DEFAULT_ENTRIES */
  uint64_t code_max_bytes;   /* /code, likewise; 0: VFS_CODE_DEFAULT_BYTES */
  uint64_t code_max_entries; /* 0: VFS_CODE_DEFAULT_ENTRIES */
  const char *exe_path;      /* guest path of the program, for /proc/self/exe */
  /* The guest's descriptor table, listed by /proc/self/fd (vm->fds); NULL:
   * /proc/self/fd is empty. */
  const struct fdtable *fds;
  uid_t uid; /* the guest's identity: owner of /tmp, /dev, /proc and /sys nodes */
  gid_t gid;
  /* /proc/self/maps: writes the guest's mappings, as whole lines of Linux's
   * format, into buf (len bytes of room; what does not fit is left out
   * whole) and returns the bytes written or a negative errno. Called with
   * maps_ctx each time the file is opened. NULL: no /proc/self/maps. */
  ssize_t (*maps)(void *ctx, char *buf, size_t len);
  void *maps_ctx;
};

/* -ENOENT/-ENOTDIR/-EACCES when host_root cannot be opened, -ENOMEM. */
int vfs_create(const struct vfs_config *cfg, struct vfs **out);
/* Call after every description made by this vfs has been released (after
 * fdtable_fini): pipes and /tmp nodes still open would outlive it. */
void vfs_destroy(struct vfs *v);

/* Sets /proc/self/exe (the loader calls this once the program is found). */
int vfs_set_exe(struct vfs *v, const char *guest_path);

/* openat(2) with the kernel's flags: on success *out holds a new description
 * (one reference) whose flags are `flags` minus the open-only ones (O_CREAT,
 * O_EXCL, O_NOCTTY, O_TRUNC, O_CLOEXEC: the caller applies O_CLOEXEC to the
 * descriptor). Write access to the root is -EROFS; O_CREAT works in /tmp;
 * O_PATH gives a description for fstat, *at() and fchdir only; O_TMPFILE
 * is -EOPNOTSUPP. /proc/self/fd/N of a pipe or stdio hands out that same
 * description (-EACCES for an access mode it lacks). */
int vfs_openat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags,
               mode_t mode, struct file **out);

/* fstatat(2) / newfstatat: flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
int vfs_fstatat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                struct stat *st, int flags);
/* faccessat2(2): flags AT_EACCESS (the guest has one identity),
 * AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. Host files answer what the VMM itself
 * may do (W_OK: -EROFS); /tmp, /dev and /proc go by the owner's bits, all
 * being the guest's own (cfg uid; uid 0 passes read and write checks). */
int vfs_faccessat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int mode,
                  int flags);
/* readlinkat(2): returns bytes stored (not NUL-terminated, truncated to
 * len); -EINVAL for what is not a symlink. */
ssize_t vfs_readlinkat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
                       char *buf, size_t len);
/* mkdirat(2), unlinkat(2) (flags: AT_REMOVEDIR): only /tmp and /code change. */
int vfs_mkdirat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, mode_t mode);
int vfs_unlinkat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags);
/* symlinkat(2): a link at `path` holding `target` (stored as given, never
 * resolved here; "" is -ENOENT). Only /tmp and /code take links (-EROFS
 * elsewhere); an existing name is -EEXIST; the target counts against the
 * mount's byte cap and the link against its entry cap (-ENOSPC). */
int vfs_symlinkat(struct vfs *v, const struct fdtable *fds, const char *target, int dirfd,
                  const char *path);
/* linkat(2) (flags: AT_SYMLINK_FOLLOW, AT_EMPTY_PATH): hearth's filesystems
 * have no hard links, so once both paths check out as Linux checks them
 * (-ENOENT, -EEXIST, -EXDEV, -EROFS) the answer is -EPERM, what Linux gives
 * for a filesystem that cannot link. */
int vfs_linkat(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
               int newdirfd, const char *newpath, int flags);
int vfs_renameat(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
                 int newdirfd, const char *newpath);
/* renameat2(2): flags RENAME_NOREPLACE (RENAME_EXCHANGE and RENAME_WHITEOUT
 * are -EINVAL, as on a filesystem without them). -EXDEV across mounts,
 * -EROFS on the read-only root. */
int vfs_renameat2(struct vfs *v, const struct fdtable *fds, int olddirfd, const char *oldpath,
                  int newdirfd, const char *newpath, unsigned flags);

/* chdir(2) relative to the working directory (AT_FDCWD). */
int vfs_chdir(struct vfs *v, const char *path);
int vfs_fchdir(struct vfs *v, const struct fdtable *fds, int fd);
/* getcwd(2): stores the NUL-terminated path, returns its length + 1, or
 * -ERANGE when it does not fit, -ENOENT when the directory was removed. */
ssize_t vfs_getcwd(struct vfs *v, char *buf, size_t len);

mode_t vfs_umask(struct vfs *v, mode_t mask); /* returns the old mask */

/* A description of an anonymous pipe: two new descriptions, read and write
 * ends. flags: O_NONBLOCK. Its ops never block: they answer -EAGAIN. */
int vfs_pipe(struct vfs *v, int flags, struct file **rd, struct file **wr);
/* Bytes waiting in the pipe `f` reads from (FIONREAD), or -ENOTTY when f is
 * not the read end of a pipe. */
long vfs_pipe_nread(struct file *f);

/* A description over one of hearth-vmm's own host descriptors (its stdio),
 * not owned: releasing the description leaves the host fd open. flags:
 * O_RDONLY or O_WRONLY. NULL on allocation failure. Its read and write
 * answer -EAGAIN rather than block; host_fd() gives the fd to wait on.
 * hearth-vmm must ignore SIGPIPE so that a closed stdout is -EPIPE. */
struct file *vfs_host_stdio(int host_fd, int flags);

/* True when f is an open regular file of the host tree (--root), whose
 * fstat (st_dev, st_ino, times) is the host's own and names the same bytes
 * for every VM; false for /tmp, /dev, /proc, pipes and stdio. */
bool vfs_file_is_host_regular(const struct file *f);

/* --- snapshots (vfs_snap.c, pipe.c, stdio.c): the namespace's state as
 * plain values, and descriptions rebuilt from them --- */

struct tmpfs;
/* The tmpfs mounted at /tmp (code false) or /code (code true), borrowed. */
struct tmpfs *vfs_tmpfs(struct vfs *v, bool code);
/* /proc/self/exe's target (vfs_set_exe), or NULL; borrowed. */
const char *vfs_exe(const struct vfs *v);
/* The inode number the next pipe gets; set it back on restore. */
uint64_t vfs_next_pipe_ino(const struct vfs *v);
void vfs_set_next_pipe_ino(struct vfs *v, uint64_t ino);

/* The guest path of the place a description was opened at (malloc'd), or
 * NULL with *err: -ENOENT when it has none (pipes, stdio, sockets, epoll)
 * or was removed, -ENOMEM. */
char *vfs_file_guest_path(struct file *f, int *err);
/* A new description of what canonical guest `path` names, never following
 * a symlink in it (an O_PATH|O_NOFOLLOW description is of the link), with
 * open flags `flags` (as the guest's description had them: F_GETFL's, no
 * O_CREAT or O_TRUNC) and no access check: the guest was allowed this
 * description when it opened it. -ENOENT, -ENOTDIR, -ELOOP, -ENXIO. */
int vfs_reopen(struct vfs *v, const char *path, int flags, struct file **out);

/* A pipe as a snapshot holds it: buffered bytes (len of them, at most
 * cap), its inode and creation time, and which ends are open. */
#define VFS_PIPE_CAP_MAX 65536u /* the largest pipe buffer the VMM makes */
struct vfs_pipe_state {
  uint64_t ino;
  uint32_t cap, len;
  struct timespec created;
  bool reader, writer;
};
/* True when f is an end of a pipe. */
bool vfs_file_is_pipe(const struct file *f);
/* The pipe behind end f (an identity shared by both its ends), its state,
 * and its buffered bytes copied into data (room for st->cap). */
const void *vfs_pipe_id(struct file *f);
void vfs_pipe_save(struct file *f, struct vfs_pipe_state *st, void *data);
/* A pipe rebuilt from st and its len bytes of data: *rd and *wr get the
 * ends st says are open (NULL for the others). -EINVAL for a capacity the
 * VMM never makes, len past cap, or no end open; -ENOMEM. */
int vfs_pipe_restore(struct vfs *v, const struct vfs_pipe_state *st, const void *data, int rd_flags,
                     int wr_flags, struct file **rd, struct file **wr);

/* The host fd a vfs_host_stdio description wraps, or -1 for any other. */
int vfs_host_stdio_fd(const struct file *f);

#endif
