/* sysfs.c - the guest's /sys: only what glibc reads to count processors,
 * /sys/devices/system/cpu/{online,possible,present} (each "0\n": the guest
 * runs on one vCPU, CPU 0, as sched_getaffinity says) and the directory
 * cpu0/, with the directories on the way. Everything else is ENOENT. The
 * attributes are read-only sysfs files: 0444, st_size 4096, EACCES for an
 * open asking to write. */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "dirent64.h"
#include "synth.h"
#include "synthfile.h"
#include "vfs_impl.h"

/* The tree, parents before children; an entry's inode is its index + 1, so
 * the root is inode 1 like every mount's root. */
struct sys_entry {
  const char *name;
  int parent; /* index, -1 for the root */
  mode_t mode;
  const char *text; /* attributes */
};

enum { SYS_ROOT, SYS_DEVICES, SYS_SYSTEM, SYS_CPU };

#define SYS_CPU_LIST "0\n" /* the one vCPU */

static const struct sys_entry sys_tree[] = {
    [SYS_ROOT] = {"sys", -1, S_IFDIR | 0555, NULL},
    [SYS_DEVICES] = {"devices", SYS_ROOT, S_IFDIR | 0755, NULL},
    [SYS_SYSTEM] = {"system", SYS_DEVICES, S_IFDIR | 0755, NULL},
    [SYS_CPU] = {"cpu", SYS_SYSTEM, S_IFDIR | 0755, NULL},
    {"cpu0", SYS_CPU, S_IFDIR | 0755, NULL},
    {"online", SYS_CPU, S_IFREG | 0444, SYS_CPU_LIST},
    {"possible", SYS_CPU, S_IFREG | 0444, SYS_CPU_LIST},
    {"present", SYS_CPU, S_IFREG | 0444, SYS_CPU_LIST},
};
#define SYS_COUNT (sizeof sys_tree / sizeof sys_tree[0])

static ssize_t attr_generate(struct synth_node *n, char *buf, size_t len) {
  const char *text = sys_tree[n->arg].text;
  size_t size = strlen(text);
  if (size > len)
    return -EIO; /* never: attributes are far below a page */
  memcpy(buf, text, size);
  return (ssize_t)size;
}

/* A sysfs attribute: its text is at most a page, and stat says 4096. */
static const struct synthfile_kind sys_attr_kind = {
    .generate = attr_generate,
    .max_bytes = 4096,
    .st_size = 4096,
    .blksize = 4096,
};

static const struct vnode_ops sys_dir_ops;

/* Children in table order; a cookie is a table index. */
static int sys_next(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out) {
  for (uint64_t i = *cookie; i < SYS_COUNT; i++) {
    if (sys_tree[i].parent != dir->arg)
      continue;
    out->name = sys_tree[i].name;
    out->ino = i + 1;
    out->type = dirent_type(sys_tree[i].mode);
    *cookie = i;
    return 0;
  }
  return -ENOENT;
}

/* A vnode for entry `index`, called `name` under parent. */
static int sys_new(struct vfs *v, struct vnode *parent, const char *name, int index,
                   struct vnode **out) {
  const struct sys_entry *e = &sys_tree[index];
  bool dir = S_ISDIR(e->mode);
  struct synth_spec spec = {.ops = dir ? &sys_dir_ops : &synthfile_ops,
                            .fs = FS_SYS,
                            .mode = e->mode,
                            .ino = (uint64_t)index + 1,
                            .dev = VFS_DEV_SYS,
                            .arg = index,
                            .next = dir ? sys_next : NULL,
                            .data = dir ? NULL : &sys_attr_kind};
  return synth_new(v, parent, name, &spec, out);
}

static int sys_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  int self = synth_node(dir)->arg;
  for (size_t i = 0; i < SYS_COUNT; i++)
    if (sys_tree[i].parent == self && !strcmp(sys_tree[i].name, name))
      return sys_new(synth_node(dir)->vfs, dir, name, (int)i, out);
  return -ENOENT;
}

static const struct vnode_ops sys_dir_ops = {
    .lookup = sys_lookup,
    .stat = synth_stat,
    .open = synth_open_dir,
    .access = synth_access,
    .release = synth_release,
};

int sysfs_root(struct vfs *v, struct vnode *parent, const char *name, struct vnode **out) {
  return sys_new(v, parent, name, SYS_ROOT, out);
}
