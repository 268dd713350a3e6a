/* closure.c - the shared libraries a staged tree needs, staged (see
 * closure.h). */
#include "closure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfdeps.h"
#include "lib/fileio.h"
#include "tree.h"

/* Where ld.so looks when nothing else says (Debian x86-64, no cache). */
static const char *const default_dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                           "/lib", "/usr/lib"};

/* Staged paths still to examine, and every one ever queued. */
struct work {
  char **v;
  size_t n, cap, next;
};

static bool queued(const struct work *w, const char *rel) {
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->v[i], rel) == 0)
      return true;
  return false;
}

static int push(struct work *w, const char *rel, struct img_err *err) {
  if (queued(w, rel))
    return 0;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 256;
    char **v = reallocarray(w->v, cap, sizeof *v);
    if (!v)
      return img_fail(err, -ENOMEM, "out of memory");
    w->v = v;
    w->cap = cap;
  }
  if (!(w->v[w->n] = strdup(rel)))
    return img_fail(err, -ENOMEM, "out of memory");
  w->n++;
  return 0;
}

static void work_free(struct work *w) {
  for (size_t i = 0; i < w->n; i++)
    free(w->v[i]);
  free(w->v);
}

/* The staged file `rel` whole when it is an ELF file (*buf NULL when not). */
static int read_if_elf(struct stage *s, const char *rel, uint8_t **buf, size_t *len,
                       struct img_err *err) {
  *buf = NULL;
  int fd = openat(s->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  uint8_t magic[4];
  bool elf = fd >= 0 && pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
             elfdeps_is_elf(magic, sizeof magic);
  if (fd >= 0)
    close(fd);
  if (fd < 0)
    return img_fail(err, -errno, "/%s: %s", rel, strerror(errno));
  if (!elf)
    return 0;
  return img_read_file(s->rootfd, rel, rel, CLOSURE_MAX_FILE, (char **)buf, len, err);
}

/* Stages host path `host` (a library or the loader) and queues it. 1 when
 * found, 0 when absent. */
static int take(struct stage *s, struct work *w, const char *host, size_t *added,
                struct img_err *err) {
  char rel[PATH_MAX];
  size_t before = s->files;
  int rc = stage_host_path(s, host, rel, sizeof rel, err);
  if (rc == -ENOENT)
    return 0;
  if (rc)
    return rc;
  *added += s->files - before;
  return (rc = push(w, rel, err)) ? rc : 1;
}

/* Tries `name` in each directory of the colon-separated `dirs`, $ORIGIN
 * being `origin`. */
static int try_dirs(struct stage *s, struct work *w, const char *dirs, const char *origin,
                    const char *name, size_t *added, struct img_err *err) {
  for (const char *d = dirs; d && *d;) {
    size_t n = strcspn(d, ":");
    char dir[PATH_MAX], host[PATH_MAX];
    if (n >= 7 && strncmp(d, "$ORIGIN", 7) == 0)
      snprintf(dir, sizeof dir, "%s%.*s", origin, (int)(n - 7), d + 7);
    else
      snprintf(dir, sizeof dir, "%.*s", (int)n, d);
    int rc = dir[0] == '/' && !img_path_join(host, sizeof host, dir, name)
                 ? take(s, w, host, added, err)
                 : 0;
    if (rc)
      return rc;
    d += n + (d[n] == ':');
  }
  return 0;
}

static int find_library(struct stage *s, struct work *w, const char *rel,
                        const struct elf_deps *deps, const char *name, size_t *added,
                        struct img_err *err) {
  if (strchr(name, '/')) /* a path: used as it is */
    return name[0] == '/' ? take(s, w, name, added, err) : 0;
  char origin[PATH_MAX];
  snprintf(origin, sizeof origin, "/%s", rel);
  *strrchr(origin, '/') = '\0';
  int rc = try_dirs(s, w, deps->runpath, origin, name, added, err);
  for (size_t i = 0; !rc && i < sizeof default_dirs / sizeof *default_dirs; i++)
    rc = try_dirs(s, w, default_dirs[i], origin, name, added, err);
  if (rc == 0)
    return img_fail(err, -ENOENT, "/%s needs %s, which is in none of its library directories", rel,
                    name);
  return rc < 0 ? rc : 0;
}

static int examine(struct stage *s, struct work *w, const char *rel, size_t *added,
                   struct img_err *err) {
  uint8_t *buf;
  size_t len;
  int rc = read_if_elf(s, rel, &buf, &len, err);
  if (rc || !buf)
    return rc;
  struct elf_deps deps;
  const char *why;
  if (elfdeps_read(buf, len, &deps, &why) < 0) {
    free(buf); /* not loadable (an object file, another machine's): needs nothing */
    return 0;
  }
  if (deps.interp && (rc = take(s, w, deps.interp, added, err)) == 0)
    rc = img_fail(err, -ENOENT, "/%s: its loader %s does not exist", rel, deps.interp);
  rc = rc < 0 ? rc : 0;
  for (size_t i = 0; !rc && i < deps.nneeded; i++)
    rc = find_library(s, w, rel, &deps, deps.needed[i], added, err);
  free(buf);
  return rc;
}

int closure_stage(struct stage *s, size_t *libraries, struct img_err *err) {
  struct tree t;
  struct work w = {0};
  *libraries = 0;
  int rc = tree_scan(s->rootfd, &t, err);
  for (size_t i = 0; !rc && i < t.n; i++)
    if (t.v[i].type == MANIFEST_FILE)
      rc = push(&w, t.v[i].path, err);
  tree_free(&t);
  for (; !rc && w.next < w.n; w.next++)
    rc = examine(s, &w, w.v[w.next], libraries, err);
  work_free(&w);
  return rc;
}
