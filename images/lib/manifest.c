/* manifest.c - the manifest's rules, lookup and lifetime (see manifest.h);
 * manifest_parse.c and manifest_write.c turn it into JSON and back. */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "loader/sites.h"

const char *manifest_type_name(enum manifest_type t) {
  switch (t) {
  case MANIFEST_FILE:
    return "file";
  case MANIFEST_DIR:
    return "dir";
  case MANIFEST_SYMLINK:
    return "symlink";
  }
  return "?";
}

static int bad_path(const char **why, const char *what) {
  *why = what;
  return -EINVAL;
}

int manifest_check_path(const char *path, const char **why) {
  size_t len = strlen(path);
  if (len == 0 || len > MANIFEST_MAX_PATH)
    return bad_path(why, len ? "path too long" : "empty path");
  if (path[0] == '/')
    return bad_path(why, "absolute path");
  size_t depth = 0;
  for (const char *c = path; *c;) {
    const char *slash = strchr(c, '/');
    if (++depth > MANIFEST_MAX_DEPTH)
      return bad_path(why, "path too deep");
    size_t n = slash ? (size_t)(slash - c) : strlen(c);
    if (n == 0)
      return bad_path(why, slash && !slash[1] ? "trailing '/'" : "empty path component");
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return bad_path(why, "'.' or '..' path component");
    if (n > MANIFEST_MAX_COMPONENT)
      return bad_path(why, "path component too long");
    if (!slash)
      break;
    if (!slash[1])
      return bad_path(why, "trailing '/'");
    c = slash + 1;
  }
  return 0;
}

/* Binary search in entries[0, end). */
static size_t find_below(const struct manifest *m, const char *path, size_t end) {
  size_t lo = 0, hi = end;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(m->entries[mid].path, path);
    if (c == 0)
      return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return MANIFEST_NONE;
}

size_t manifest_find(const struct manifest *m, const char *path) {
  return find_below(m, path, m->n);
}

/* The index of e's parent directory among the entries before it, which
 * sort before it since a parent's path is a prefix of its child's. */
static int find_parent(const struct manifest *m, size_t i, struct img_err *err) {
  struct manifest_entry *e = &m->entries[i];
  const char *slash = strrchr(e->path, '/');
  e->parent = MANIFEST_NONE;
  if (!slash)
    return 0;
  char dir[MANIFEST_MAX_PATH + 1];
  memcpy(dir, e->path, (size_t)(slash - e->path));
  dir[slash - e->path] = '\0';
  size_t p = find_below(m, dir, i);
  if (p == MANIFEST_NONE || m->entries[p].type != MANIFEST_DIR)
    return img_fail(err, -EINVAL, "manifest entry %s: its parent %s is not a \"dir\" entry",
                    e->path, dir);
  e->parent = p;
  return 0;
}

static int check_sites(const struct manifest_entry *e, struct img_err *err) {
  if (e->sites.n > SITES_MAX)
    return img_fail(err, -EINVAL, "manifest entry %s: more than %u sites", e->path, SITES_MAX);
  for (size_t k = 0; k < e->sites.n; k++) {
    uint64_t off = e->sites.v[k];
    if ((k > 0 && off <= e->sites.v[k - 1]) || off > e->size || e->size - off < 2)
      return img_fail(err, -EINVAL,
                      "manifest entry %s: site %" PRIu64 " is out of order or past the file",
                      e->path, off);
  }
  return 0;
}

static int check_entry(const struct manifest_entry *e, struct img_err *err) {
  const char *why;
  if (manifest_check_path(e->path, &why) < 0)
    return img_fail(err, -EINVAL, "manifest entry %s: %s", e->path, why);
  if (e->mode > 0777)
    return img_fail(err, -EINVAL,
                    "manifest entry %s: mode 0%o (setuid, setgid and sticky bits are refused)",
                    e->path, e->mode);
  if (e->mtime < 0 || (uint64_t)e->mtime > MANIFEST_MAX_INT)
    return img_fail(err, -EINVAL, "manifest entry %s: mtime out of range", e->path);
  if (e->type != MANIFEST_FILE && (e->size || e->has_sites))
    return img_fail(err, -EINVAL, "manifest entry %s: size or sites on a %s", e->path,
                    manifest_type_name(e->type));
  if ((e->type == MANIFEST_SYMLINK) != (e->target != NULL))
    return img_fail(err, -EINVAL, "manifest entry %s: a target belongs to symlinks only", e->path);
  if (e->target && (!e->target[0] || strlen(e->target) > MANIFEST_MAX_PATH))
    return img_fail(err, -EINVAL, "manifest entry %s: empty or too long symlink target", e->path);
  if (e->size > MANIFEST_MAX_FILE_BYTES)
    return img_fail(err, -EFBIG, "manifest entry %s: larger than %llu bytes", e->path,
                    MANIFEST_MAX_FILE_BYTES);
  return e->has_sites ? check_sites(e, err) : 0;
}

static int check_header(const struct manifest *m, struct img_err *err) {
  if (!m->name || !m->name[0] || strlen(m->name) > MANIFEST_MAX_NAME ||
      strspn(m->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          strlen(m->name))
    return img_fail(err, -EINVAL, "manifest: name must be 1-%u of [A-Za-z0-9._-]",
                    MANIFEST_MAX_NAME);
  if (!m->runtime || (strcmp(m->runtime, "native") != 0 && strcmp(m->runtime, "python") != 0))
    return img_fail(err, -EINVAL, "manifest: runtime must be \"native\" or \"python\"");
  if (m->nentrypoint == 0 || m->nentrypoint > MANIFEST_MAX_ARGS || !m->entrypoint[0][0])
    return img_fail(err, -EINVAL, "manifest: entrypoint must be 1-%u strings, the first a path",
                    MANIFEST_MAX_ARGS);
  if (m->nenv > MANIFEST_MAX_ENV)
    return img_fail(err, -EINVAL, "manifest: more than %u env variables", MANIFEST_MAX_ENV);
  for (size_t i = 0; i < m->nenv; i++) {
    const char *eq = strchr(m->env[i], '=');
    if (!eq || eq == m->env[i])
      return img_fail(err, -EINVAL, "manifest: env: empty variable name");
    for (size_t j = 0; j < i; j++)
      if (strncmp(m->env[j], m->env[i], (size_t)(eq - m->env[i]) + 1) == 0)
        return img_fail(err, -EINVAL, "manifest: env: %.*s set twice", (int)(eq - m->env[i]),
                        m->env[i]);
  }
  if (m->n > MANIFEST_MAX_ENTRIES)
    return img_fail(err, -E2BIG, "manifest: more than %u entries", MANIFEST_MAX_ENTRIES);
  return 0;
}

int manifest_check(struct manifest *m, struct img_err *err) {
  int rc = check_header(m, err);
  m->total_bytes = 0;
  for (size_t i = 0; !rc && i < m->n; i++) {
    struct manifest_entry *e = &m->entries[i];
    if ((rc = check_entry(e, err)))
      break;
    if (i > 0 && strcmp(m->entries[i - 1].path, e->path) >= 0)
      return img_fail(err, -EINVAL, "manifest entry %s: %s", e->path,
                      strcmp(m->entries[i - 1].path, e->path) ? "entries are not sorted by path"
                                                              : "listed twice");
    if ((rc = find_parent(m, i, err)))
      break;
    m->total_bytes += e->size;
    if (m->total_bytes > MANIFEST_MAX_TOTAL_BYTES)
      return img_fail(err, -EFBIG, "manifest: the files add up to more than %llu bytes",
                      MANIFEST_MAX_TOTAL_BYTES);
  }
  return rc;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

void manifest_free(struct manifest *m) {
  free(m->name);
  free(m->runtime);
  free_strings(m->entrypoint, m->nentrypoint);
  free_strings(m->env, m->nenv);
  for (size_t i = 0; m->entries && i < m->n; i++) {
    free(m->entries[i].path);
    free(m->entries[i].target);
    file_sites_free(&m->entries[i].sites);
  }
  free(m->entries);
  *m = (struct manifest){0};
}
