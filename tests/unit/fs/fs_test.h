/* fs_test.h - helpers for the vmm/fs unit tests: temporary host trees to
 * serve as --root, a vfs over them, and file I/O through the file ops. */
#ifndef HEARTH_TEST_FS_TEST_H
#define HEARTH_TEST_FS_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vfs;
struct fdtable;
struct file;

/* A fresh empty directory under $TMPDIR (malloc'd path). */
char *fst_mkdtemp(void);
/* Creates dir/rel with `content` (parents must exist), a directory, a
 * symlink. Assert on failure. */
void fst_write(const char *dir, const char *rel, const char *content);
void fst_mkdir(const char *dir, const char *rel);
void fst_symlink(const char *dir, const char *rel, const char *target);
/* Removes a tree (never following symlinks) and frees the path. */
void fst_rmtree(char *path);

/* A vfs over host_root (NULL: the empty root) whose /proc/self/fd lists
 * fds; caps 0 mean the defaults. Asserts on failure. */
struct vfs *fst_vfs(const char *host_root, const struct fdtable *fds, uint64_t tmp_bytes,
                    uint64_t tmp_entries);

int fst_open(struct vfs *v, const struct fdtable *fds, const char *path, int flags, mode_t mode,
             struct file **out);
ssize_t fst_read(struct file *f, void *buf, size_t len);
ssize_t fst_write_str(struct file *f, const char *s);
/* Reads the whole of path (at most len-1 bytes, NUL-terminated): the
 * length, or the -errno of the open or read. */
ssize_t fst_slurp(struct vfs *v, const struct fdtable *fds, const char *path, char *buf,
                  size_t len);

/* Lists directory `path` with getdents in reads of `bufsize` bytes, as
 * "name/type " entries (type a DT_* number) in the order given, into out.
 * Returns the number of entries or a -errno. */
int fst_listdir(struct vfs *v, const struct fdtable *fds, const char *path, size_t bufsize,
                char *out, size_t outlen);
/* Whether the listing has entry "name/type". */
int fst_listed(const char *listing, const char *name, int type);
#endif
