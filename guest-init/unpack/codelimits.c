/* codelimits.c - the code bundle's entry rules (codelimits.h). Paths are
 * checked component by component, never resolved against a file system. */
#include "codelimits.h"

#include <string.h>

struct code_limits code_limits_default(void) {
  return (struct code_limits){.max_bytes = CODE_MAX_BYTES_DEFAULT,
                              .max_files = CODE_MAX_FILES_DEFAULT,
                              .max_path = CODE_MAX_PATH_DEFAULT,
                              .max_depth = CODE_MAX_DEPTH_DEFAULT};
}

const char *code_error_message(int err) {
  switch (err) {
  case CODE_E_EMPTY:
    return "empty path";
  case CODE_E_ABSOLUTE:
    return "absolute paths are not allowed";
  case CODE_E_DOTDOT:
    return "'..' is not allowed in paths";
  case CODE_E_NUL:
    return "NUL byte in a path";
  case CODE_E_TOO_LONG:
    return "path too long";
  case CODE_E_TOO_DEEP:
    return "path nested too deep";
  case CODE_E_LINK_ESCAPES:
    return "symlink target leaves the code tree";
  case CODE_E_TYPE:
    return "entry type not allowed";
  case CODE_E_TOO_MANY_FILES:
    return "too many entries";
  case CODE_E_TOO_MANY_BYTES:
    return "too many bytes";
  case -ENOSPC:
    return "no space left";
  case -EEXIST:
    return "entry already exists";
  case -ENOTDIR:
    return "a path component is not a directory";
  case -ELOOP:
    return "a path component is a symlink";
  case -ENOMEM:
    return "out of memory";
  case -EIO:
    return "I/O error";
  default:
    return "error";
  }
}

/* The component of s[0..len) starting at *pos (separators skipped): its
 * start and length, advancing *pos past it; 0 at the end. */
static int next_component(const char *s, size_t len, size_t *pos, const char **comp, size_t *clen) {
  while (*pos < len && s[*pos] == '/')
    (*pos)++;
  if (*pos == len)
    return 0;
  *comp = s + *pos;
  while (*pos < len && s[*pos] != '/')
    (*pos)++;
  *clen = (size_t)(s + *pos - *comp);
  return 1;
}

static int is_dot(const char *c, size_t n) { return n == 1 && c[0] == '.'; }
static int is_dotdot(const char *c, size_t n) { return n == 2 && c[0] == '.' && c[1] == '.'; }

/* Checks common to paths and targets: empty, NUL, length, absolute. */
static int check_string(const struct code_limits *lim, const char *s, size_t len) {
  if (len == 0)
    return CODE_E_EMPTY;
  if (memchr(s, '\0', len))
    return CODE_E_NUL;
  if (len > lim->max_path)
    return CODE_E_TOO_LONG;
  if (s[0] == '/')
    return CODE_E_ABSOLUTE;
  return 0;
}

long code_path_check(const struct code_limits *lim, const char *path, size_t len, char *out,
                     size_t cap) {
  int err = check_string(lim, path, len);
  if (err < 0)
    return err;
  size_t pos = 0, used = 0, depth = 0, clen;
  const char *comp;
  while (next_component(path, len, &pos, &comp, &clen)) {
    if (is_dot(comp, clen))
      continue;
    if (is_dotdot(comp, clen))
      return CODE_E_DOTDOT;
    if (++depth > lim->max_depth)
      return CODE_E_TOO_DEEP;
    if (used + (used > 0) + clen >= cap)
      return -ENOSPC;
    if (used > 0)
      out[used++] = '/';
    memcpy(out + used, comp, clen);
    used += clen;
  }
  if (cap > 0)
    out[used] = '\0';
  return used > 0 ? (long)used : CODE_E_EMPTY;
}

/* Components of a normalised path's directory part ("a/b/l": 2). */
static size_t dir_depth(const char *link_path) {
  size_t n = 0;
  for (const char *p = link_path; *p; p++)
    n += *p == '/';
  return n;
}

int code_symlink_check(const struct code_limits *lim, const char *link_path, const char *target,
                       size_t target_len) {
  int err = check_string(lim, target, target_len);
  if (err < 0)
    return err;
  size_t room = dir_depth(link_path), pos = 0, clen;
  int named = 0; /* a normal component seen: no ".." may follow */
  const char *comp;
  while (next_component(target, target_len, &pos, &comp, &clen)) {
    if (is_dot(comp, clen))
      continue;
    if (!is_dotdot(comp, clen)) {
      named = 1;
      continue;
    }
    if (named || room == 0)
      return CODE_E_LINK_ESCAPES;
    room--;
  }
  return 0;
}

int code_entry_type_check(enum code_entry_type type) {
  switch (type) {
  case CODE_ENTRY_FILE:
  case CODE_ENTRY_DIR:
  case CODE_ENTRY_SYMLINK:
    return 0;
  default:
    return CODE_E_TYPE;
  }
}

const char *code_entry_type_name(enum code_entry_type type) {
  switch (type) {
  case CODE_ENTRY_FILE:
    return "regular file";
  case CODE_ENTRY_DIR:
    return "directory";
  case CODE_ENTRY_SYMLINK:
    return "symlink";
  case CODE_ENTRY_HARDLINK:
    return "hard link";
  case CODE_ENTRY_CHARDEV:
    return "character device";
  case CODE_ENTRY_BLOCKDEV:
    return "block device";
  case CODE_ENTRY_FIFO:
    return "fifo";
  case CODE_ENTRY_SOCKET:
    return "socket";
  default:
    return "unsupported entry";
  }
}

int code_count_entry(const struct code_limits *lim, struct code_totals *t) {
  if (t->files >= lim->max_files)
    return CODE_E_TOO_MANY_FILES;
  t->files++;
  return 0;
}

int code_count_bytes(const struct code_limits *lim, struct code_totals *t, uint64_t bytes) {
  if (bytes > lim->max_bytes || t->bytes > lim->max_bytes - bytes)
    return CODE_E_TOO_MANY_BYTES;
  t->bytes += bytes;
  return 0;
}
