/* walk.c - component-by-component path resolution (see walk.h). The path
 * being walked lives in a heap buffer; following a symlink replaces it with
 * target + the rest, so nesting needs no stack and the length stays bounded
 * (WALK_MAX_BUF). */
#include "walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/file.h"
#include "vfs_impl.h"

/* Bound on a path grown by splicing link targets into it. */
#define WALK_MAX_BUF (4 * PATH_MAX)

struct walk {
  struct vfs *v;
  char *buf;         /* the path being walked (owned) */
  const char *p;     /* next component in buf */
  struct vnode *cur; /* the directory reached so far (a reference) */
  int links;
};

/* One component of the path at w->p, parsed. */
struct component {
  char name[NAME_MAX + 1];
  const char *rest; /* after the name: slashes then the rest, or "" */
  const char *next; /* the next component, past the slashes */
  bool last, trailing_slash;
};

static int next_component(struct walk *w, struct component *c) {
  const char *end = strchrnul(w->p, '/');
  size_t len = (size_t)(end - w->p);
  if (len > NAME_MAX)
    return -ENAMETOOLONG;
  memcpy(c->name, w->p, len);
  c->name[len] = '\0';
  c->rest = end;
  c->next = end + strspn(end, "/");
  c->last = *c->next == '\0';
  c->trailing_slash = c->last && c->next != end;
  return 0;
}

static void set_cur(struct walk *w, struct vnode *vn) {
  vnode_unref(w->cur);
  w->cur = vn;
}

/* Replaces the path with `target` + `rest` and moves to where it starts. */
static int splice(struct walk *w, const char *target, size_t tlen, const char *rest) {
  size_t rlen = strlen(rest);
  if (tlen + rlen >= WALK_MAX_BUF)
    return -ENAMETOOLONG;
  char *buf = malloc(tlen + rlen + 1);
  if (!buf)
    return -ENOMEM;
  memcpy(buf, target, tlen);
  memcpy(buf + tlen, rest, rlen + 1);
  free(w->buf);
  w->buf = buf;
  w->p = buf;
  if (target[0] == '/')
    set_cur(w, vnode_ref(w->v->root));
  return 0;
}

/* Follows an ordinary symlink `link` (a reference, consumed). */
static int follow_symlink(struct walk *w, struct vnode *link, const char *rest) {
  char target[PATH_MAX];
  ssize_t n = link->ops->readlink ? link->ops->readlink(link, target, sizeof target) : -EINVAL;
  vnode_unref(link);
  if (n < 0)
    return (int)n;
  if (n == 0)
    return -ENOENT;
  if (n >= PATH_MAX)
    return -ENAMETOOLONG;
  return splice(w, target, (size_t)n, rest);
}

/* Ends the walk at w->cur, which is a directory reached through ".", ".."
 * or nothing. */
static void finish_at_dir(struct walk *w, enum walk_last last, struct walk_result *out) {
  out->last = last;
  out->node = w->cur;
  w->cur = NULL;
}

/* Ends the walk at `node` (consumed; NULL when missing) named c->name in
 * w->cur. */
static int finish_at_name(struct walk *w, const struct component *c, struct vnode *node,
                          struct walk_result *out) {
  if (node && c->trailing_slash && !vnode_is_dir(node)) {
    vnode_unref(node);
    return -ENOTDIR;
  }
  out->last = WALK_LAST_NAME;
  out->parent = w->cur;
  w->cur = NULL;
  out->node = node;
  strcpy(out->name, c->name);
  out->trailing_slash = c->trailing_slash;
  return 0;
}

/* A /proc/self/fd link: goes to the description's vnode (*child replaced),
 * or ends the walk at a description with no vnode. Returns 1 when the walk
 * ended. */
static int follow_magic(struct walk *w, const struct component *c, struct vnode **child,
                        struct walk_result *out) {
  struct vnode *target = NULL;
  struct file *desc = NULL;
  int r = (*child)->ops->follow(*child, &target, &desc);
  vnode_unref(*child);
  *child = target;
  if (r < 0 || target)
    return r;
  if (!c->last || c->trailing_slash) {
    file_unref(desc);
    return -ENOTDIR;
  }
  finish_at_name(w, c, NULL, out); /* cannot fail without a node */
  out->desc = desc;
  return 1;
}

/* Handles "." and ".."; returns 1 when the walk ended. */
static int walk_dots(struct walk *w, const struct component *c, struct walk_result *out) {
  bool dotdot = c->name[1] == '.';
  if (dotdot) {
    struct vnode *up;
    int r = vfs_parent(w->cur, &up);
    if (r < 0)
      return r;
    set_cur(w, up);
  }
  if (!c->last)
    return 0;
  finish_at_dir(w, dotdot ? WALK_LAST_DOTDOT : WALK_LAST_DOT, out);
  return 1;
}

/* One step: returns 1 when the walk ended, 0 to go on, or -errno. */
static int walk_step(struct walk *w, unsigned flags, struct walk_result *out) {
  w->p += strspn(w->p, "/");
  if (!*w->p) { /* only slashes left: the path (or a link's target) was "/" */
    finish_at_dir(w, WALK_LAST_ROOT, out);
    return 1;
  }
  struct component c;
  int r = next_component(w, &c);
  if (r < 0)
    return r;
  if (!vnode_is_dir(w->cur))
    return -ENOTDIR;
  if (!strcmp(c.name, ".") || !strcmp(c.name, "..")) {
    w->p = c.next;
    return walk_dots(w, &c, out);
  }
  struct vnode *child;
  r = vfs_lookup(w->v, w->cur, c.name, &child);
  if (r == -ENOENT && c.last && (flags & WALK_CREATE)) {
    finish_at_name(w, &c, NULL, out); /* cannot fail without a node */
    return 1;
  }
  if (r < 0)
    return r;
  if (S_ISLNK(child->type) && (!c.last || c.trailing_slash || (flags & WALK_FOLLOW))) {
    if (++w->links > WALK_MAX_LINKS) {
      vnode_unref(child);
      return -ELOOP;
    }
    if (!child->ops->follow)
      return follow_symlink(w, child, c.rest);
    if ((r = follow_magic(w, &c, &child, out)) != 0)
      return r;
  }
  if (c.last)
    return (r = finish_at_name(w, &c, child, out)) < 0 ? r : 1;
  set_cur(w, child);
  w->p = c.next;
  return 0;
}

int walk_path(struct vfs *v, struct vnode *start, const char *path, unsigned flags,
              struct walk_result *out) {
  memset(out, 0, sizeof *out);
  size_t len = strlen(path);
  if (len == 0)
    return -ENOENT;
  if (len >= PATH_MAX)
    return -ENAMETOOLONG;
  struct walk w = {.v = v, .buf = strdup(path)};
  if (!w.buf)
    return -ENOMEM;
  w.p = w.buf;
  w.cur = vnode_ref(path[0] == '/' ? v->root : start);
  int r;
  while ((r = walk_step(&w, flags, out)) == 0)
    ;
  vnode_unref(w.cur);
  free(w.buf);
  if (r < 0)
    walk_result_fini(out);
  return r < 0 ? r : 0;
}

void walk_result_fini(struct walk_result *r) {
  vnode_unref(r->parent);
  vnode_unref(r->node);
  if (r->desc)
    file_unref(r->desc);
  r->parent = r->node = NULL;
  r->desc = NULL;
}
