/* codepack.c - code bundle to normalised pax tar (codepack.h), through
 * libarchive: archive_read_disk (symlinks not followed) or archive_read (tar,
 * gzip, zip) in, archive_write (pax restricted) out, with a write callback
 * that hands each block to the sink. */
#include "codepack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathset.h"

#define COPY_BUF (64u << 10)
#define OUT_BLOCK (64u << 10) /* the tar goes out in pieces of this size */
#define READ_BLOCK (64u << 10)
/* Entries read from the input, written or not, per max_files: a bound on
 * the work that the ones never written or counted (the root "./", a
 * directory listed again) can make, which a compressed archive could
 * otherwise repeat a thousandfold per byte. */
#define READ_ENTRIES_PER_FILE 2

struct codepack {
  struct archive *in;
  bool from_disk;
  char root[PATH_MAX]; /* from_disk: the prefix of every pathname */
  size_t root_len;
  struct code_limits lim;
  struct code_totals totals;
  uint64_t entries_read;         /* headers taken from the input, against READ_ENTRIES_PER_FILE */
  struct pathset dirs;           /* directories already in the output */
  struct archive_entry *pending; /* read and checked, not yet written (owned by in) */
  bool at_end;
  enum code_entry_type type; /* of pending */
  char *path;                /* pending's normal-form path, lim.max_path + 1 bytes */
  struct archive *out;
  struct archive_entry *out_entry;
  codepack_sink_fn *sink;
  void *ctx;
  int sink_err;
  bool aborted; /* an error: nothing more reaches the sink */
  char *buf;
};

/* Entry results beside 0 and -errno. */
enum { ENTRY_SKIP = 1, ENTRY_END = 2 };

static int fail(char *err, size_t errlen, bool *refused, bool code_at_fault, int rc,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(char *err, size_t errlen, bool *refused, bool code_at_fault, int rc,
                const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  *refused = code_at_fault;
  return rc;
}

static enum code_entry_type classify(struct archive_entry *e) {
  if (archive_entry_hardlink(e) != NULL)
    return CODE_ENTRY_HARDLINK;
  switch (archive_entry_filetype(e)) {
  case AE_IFREG:
    return CODE_ENTRY_FILE;
  case AE_IFDIR:
    return CODE_ENTRY_DIR;
  case AE_IFLNK:
    return CODE_ENTRY_SYMLINK;
  case AE_IFCHR:
    return CODE_ENTRY_CHARDEV;
  case AE_IFBLK:
    return CODE_ENTRY_BLOCKDEV;
  case AE_IFIFO:
    return CODE_ENTRY_FIFO;
  case AE_IFSOCK:
    return CODE_ENTRY_SOCKET;
  default:
    return CODE_ENTRY_OTHER;
  }
}

/* The entry's path relative to the bundle's root ("" for the root of a
 * directory), or NULL when its name cannot be read. */
static const char *relative_path(const struct codepack *p, struct archive_entry *e) {
  const char *name = archive_entry_pathname(e);
  if (name == NULL || !p->from_disk)
    return name;
  if (strncmp(name, p->root, p->root_len) != 0)
    return NULL;
  if (name[p->root_len] == '\0')
    return "";
  return name[p->root_len] == '/' ? name + p->root_len + 1 : NULL;
}

/* Checks e's path, type and symlink target, leaving the normal form in
 * p->path. 0, ENTRY_SKIP for the bundle's root itself, or a refusal. */
static int check_entry(struct codepack *p, struct archive_entry *e, char *err, size_t errlen,
                       bool *refused) {
  const char *rel = relative_path(p, e);
  if (rel == NULL)
    return fail(err, errlen, refused, true, -EILSEQ, "an entry's name cannot be read");
  p->type = classify(e);
  if (rel[0] == '\0' && p->from_disk)
    return ENTRY_SKIP;
  long n = code_path_check(&p->lim, rel, strlen(rel), p->path, p->lim.max_path + 1);
  if (n == CODE_E_EMPTY && rel[0] != '\0' && p->type == CODE_ENTRY_DIR)
    return ENTRY_SKIP; /* "./": the archive's root */
  if (n < 0)
    return fail(err, errlen, refused, true, (int)n, "'%.300s': %s", rel,
                code_error_message((int)n));
  int rc = code_entry_type_check(p->type);
  if (rc < 0)
    return fail(err, errlen, refused, true, rc,
                "'%.300s': a %s, and only files, directories and symlinks are allowed", rel,
                code_entry_type_name(p->type));
  if (p->type != CODE_ENTRY_SYMLINK)
    return 0;
  const char *target = archive_entry_symlink(e);
  if (target == NULL)
    return fail(err, errlen, refused, true, -EILSEQ, "'%.300s': its symlink target cannot be read",
                rel);
  rc = code_symlink_check(&p->lim, p->path, target, strlen(target));
  if (rc < 0)
    return fail(err, errlen, refused, true, rc, "'%.300s' -> '%.300s': %s", rel, target,
                code_error_message(rc));
  return 0;
}

/* Reads headers until one to write (checked, into p->pending) or the end. */
static int next_entry(struct codepack *p, char *err, size_t errlen, bool *refused) {
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(p->in, &e);
    if (r == ARCHIVE_EOF) {
      p->at_end = true;
      p->pending = NULL;
      return ENTRY_END;
    }
    /* On a directory, a warning means something was not read (a directory
     * it could not open): code would be missing, so it is an error too. */
    if (r < ARCHIVE_WARN || (r == ARCHIVE_WARN && p->from_disk))
      return fail(err, errlen, refused, !p->from_disk, -EIO, "%s",
                  archive_error_string(p->in) ? archive_error_string(p->in) : "cannot read");
    if (++p->entries_read > READ_ENTRIES_PER_FILE * p->lim.max_files + 1)
      return fail(err, errlen, refused, true, CODE_E_TOO_MANY_FILES,
                  "more than %llu entries in the archive", (unsigned long long)p->entries_read - 1);
    if (p->from_disk && archive_read_disk_can_descend(p->in))
      archive_read_disk_descend(p->in);
    int rc = check_entry(p, e, err, errlen, refused);
    if (rc == ENTRY_SKIP)
      continue;
    p->pending = rc == 0 ? e : NULL;
    return rc;
  }
}

static int open_disk(struct codepack *p, const char *path) {
  p->from_disk = true;
  snprintf(p->root, sizeof p->root, "%s", path);
  p->root_len = strlen(p->root);
  while (p->root_len > 1 && p->root[p->root_len - 1] == '/') /* "dir/" names entries "dir/x" */
    p->root[--p->root_len] = '\0';
  p->in = archive_read_disk_new();
  if (p->in == NULL)
    return -ENOMEM;
  archive_read_disk_set_symlink_physical(p->in);
  archive_read_disk_set_behavior(p->in, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                            ARCHIVE_READDISK_NO_FFLAGS |
                                            ARCHIVE_READDISK_NO_SPARSE);
  return archive_read_disk_open(p->in, p->root) == ARCHIVE_OK ? 0 : -EIO;
}

static int open_archive(struct codepack *p, const char *path) {
  p->in = archive_read_new();
  if (p->in == NULL)
    return -ENOMEM;
  archive_read_support_filter_gzip(p->in);
  archive_read_support_format_tar(p->in);
  archive_read_support_format_zip(p->in);
  return archive_read_open_filename(p->in, path, READ_BLOCK) == ARCHIVE_OK ? 0 : -EIO;
}

static struct codepack *alloc_pack(const struct code_limits *lim) {
  struct codepack *p = calloc(1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->lim = *lim;
  pathset_init(&p->dirs);
  p->path = malloc(lim->max_path + 1);
  p->buf = malloc(COPY_BUF);
  if (p->path == NULL || p->buf == NULL) {
    codepack_close(p);
    return NULL;
  }
  return p;
}

int codepack_open(struct codepack **out, const char *path, const struct code_limits *lim, char *err,
                  size_t errlen, bool *refused) {
  *out = NULL;
  *refused = false;
  struct stat st;
  if (stat(path, &st) != 0)
    return fail(err, errlen, refused, false, -errno, "%.300s: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return fail(err, errlen, refused, true, -EINVAL,
                "%.300s: want a directory, or a tar, tar.gz or zip file", path);
  struct codepack *p = alloc_pack(lim);
  if (p == NULL)
    return fail(err, errlen, refused, false, -ENOMEM, "out of memory");
  int rc = S_ISDIR(st.st_mode) ? open_disk(p, path) : open_archive(p, path);
  if (rc == 0)
    rc = next_entry(p, err, errlen, refused);
  else if (rc == -EIO)
    rc = fail(err, errlen, refused, !p->from_disk, rc, "%.300s: %s", path,
              archive_error_string(p->in) ? archive_error_string(p->in) : "cannot open");
  /* libarchive recognises the format at open or at the first header; when
   * none bid, no format is set and the error is its "file format" errno
   * (EILSEQ on Linux). */
  if (rc == -EIO && !p->from_disk && archive_format(p->in) == 0 && archive_errno(p->in) == EILSEQ)
    rc = fail(err, errlen, refused, true, -EINVAL,
              "%.300s is not an archive (want a directory, or a tar, tar.gz or zip file)", path);
  if (rc < 0) {
    codepack_close(p);
    return rc;
  }
  *out = p;
  return 0;
}

/* ---- writing -------------------------------------------------------- */

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t len) {
  struct codepack *p = ctx;
  if (p->aborted) {
    archive_set_error(a, ECANCELED, "the code was refused");
    return -1;
  }
  int rc = p->sink(p->ctx, buf, len);
  if (rc < 0) {
    p->sink_err = rc;
    archive_set_error(a, -rc, "the code stream was cut: %s", strerror(-rc));
    return -1;
  }
  return (la_ssize_t)len;
}

static int writer_open(struct codepack *p) {
  p->out = archive_write_new();
  p->out_entry = archive_entry_new();
  if (p->out == NULL || p->out_entry == NULL)
    return -ENOMEM;
  if (archive_write_set_format_pax_restricted(p->out) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(p->out, OUT_BLOCK) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(p->out, 1) != ARCHIVE_OK ||
      archive_write_open(p->out, p, NULL, write_cb, NULL) != ARCHIVE_OK)
    return -EIO;
  return 0;
}

/* A write error: the sink's own, or libarchive's. */
static int write_failed(struct codepack *p, char *err, size_t errlen, bool *refused) {
  if (p->sink_err)
    return fail(err, errlen, refused, false, p->sink_err, "the code stream was cut: %s",
                strerror(-p->sink_err));
  const char *why = archive_error_string(p->out);
  return fail(err, errlen, refused, false, -EIO, "cannot write the code archive: %s",
              why ? why : "unknown error");
}

/* A header for path in normal form, from the fields that matter. */
static int put_header(struct codepack *p, const char *path, mode_t type, unsigned perm,
                      int64_t size, struct archive_entry *src) {
  struct archive_entry *e = p->out_entry;
  archive_entry_clear(e);
  archive_entry_set_pathname(e, path);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm & 0777);
  archive_entry_set_size(e, type == AE_IFREG ? size : 0);
  if (src != NULL)
    archive_entry_set_mtime(e, archive_entry_mtime(src), archive_entry_mtime_nsec(src));
  if (type == AE_IFLNK)
    archive_entry_set_symlink(e, archive_entry_symlink(src));
  return archive_write_header(p->out, e) == ARCHIVE_OK ? 0 : -EIO;
}

static int count_entry(struct codepack *p, const char *path, char *err, size_t errlen,
                       bool *refused) {
  int rc = code_count_entry(&p->lim, &p->totals);
  if (rc < 0)
    return fail(err, errlen, refused, true, rc,
                "'%.300s': %s (at most %llu files, directories and symlinks)", path,
                code_error_message(rc), (unsigned long long)p->lim.max_files);
  return 0;
}

/* Lists every parent of p->path not yet in the output, as hearth-init
 * would create (and count) it. */
static int put_parents(struct codepack *p, struct archive_entry *src, char *err, size_t errlen,
                       bool *refused) {
  for (char *slash = strchr(p->path, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    size_t len = (size_t)(slash - p->path);
    int added = pathset_add(&p->dirs, p->path, len);
    if (added < 0)
      return fail(err, errlen, refused, false, added, "out of memory");
    if (added == 0)
      continue;
    *slash = '\0';
    int rc = count_entry(p, p->path, err, errlen, refused);
    if (rc == 0 && put_header(p, p->path, AE_IFDIR, 0755, 0, src) < 0)
      rc = write_failed(p, err, errlen, refused);
    *slash = '/';
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* Copies the pending file's data: exactly its declared size at most (a
 * file that grows meanwhile is cut; one that shrinks is padded). */
static int copy_data(struct codepack *p, int64_t size, char *err, size_t errlen, bool *refused) {
  int64_t left = size;
  while (left > 0) {
    la_ssize_t n = archive_read_data(p->in, p->buf, left < COPY_BUF ? (size_t)left : COPY_BUF);
    if (n == 0)
      break;
    if (n < 0)
      return fail(err, errlen, refused, !p->from_disk, -EIO, "'%.300s': %s", p->path,
                  archive_error_string(p->in) ? archive_error_string(p->in) : "cannot read");
    if (archive_write_data(p->out, p->buf, (size_t)n) < 0)
      return write_failed(p, err, errlen, refused);
    left -= n;
  }
  return 0;
}

static int put_file(struct codepack *p, struct archive_entry *e, char *err, size_t errlen,
                    bool *refused) {
  if (!archive_entry_size_is_set(e))
    return fail(err, errlen, refused, true, -EINVAL, "'%.300s': the archive gives no size",
                p->path);
  int64_t size = archive_entry_size(e);
  int rc = code_count_bytes(&p->lim, &p->totals, size < 0 ? UINT64_MAX : (uint64_t)size);
  if (rc < 0)
    return fail(err, errlen, refused, true, rc, "'%.300s': %s (at most %llu bytes of files)",
                p->path, code_error_message(rc), (unsigned long long)p->lim.max_bytes);
  if (put_header(p, p->path, AE_IFREG, archive_entry_perm(e), size, e) < 0)
    return write_failed(p, err, errlen, refused);
  return copy_data(p, size, err, errlen, refused);
}

static int put_entry(struct codepack *p, struct archive_entry *e, char *err, size_t errlen,
                     bool *refused) {
  int rc = put_parents(p, e, err, errlen, refused);
  if (rc < 0)
    return rc;
  if (p->type == CODE_ENTRY_DIR) {
    int added = pathset_add(&p->dirs, p->path, strlen(p->path));
    if (added <= 0) /* listed already (as a parent), or out of memory */
      return added < 0 ? fail(err, errlen, refused, false, added, "out of memory") : 0;
  }
  rc = count_entry(p, p->path, err, errlen, refused);
  if (rc < 0)
    return rc;
  if (p->type == CODE_ENTRY_FILE)
    return put_file(p, e, err, errlen, refused);
  unsigned perm = p->type == CODE_ENTRY_DIR ? archive_entry_perm(e) | 0700 : 0777;
  mode_t type = p->type == CODE_ENTRY_DIR ? AE_IFDIR : AE_IFLNK;
  return put_header(p, p->path, type, perm, 0, e) < 0 ? write_failed(p, err, errlen, refused) : 0;
}

int codepack_write(struct codepack *p, codepack_sink_fn *sink, void *ctx, char *err, size_t errlen,
                   bool *refused) {
  *refused = false;
  p->sink = sink;
  p->ctx = ctx;
  int rc = writer_open(p);
  if (rc < 0)
    rc = rc == -ENOMEM ? fail(err, errlen, refused, false, rc, "out of memory")
                       : write_failed(p, err, errlen, refused);
  while (rc >= 0 && !p->at_end) {
    rc = put_entry(p, p->pending, err, errlen, refused);
    if (rc == 0)
      rc = next_entry(p, err, errlen, refused);
  }
  /* After an error the sink takes nothing more: in particular not the
   * end-of-archive blocks close writes, so the tar is never complete. */
  p->aborted = rc < 0;
  if (p->out != NULL && archive_write_close(p->out) != ARCHIVE_OK && rc >= 0)
    rc = write_failed(p, err, errlen, refused);
  return rc < 0 ? rc : 0;
}

struct code_totals codepack_totals(const struct codepack *p) {
  return p->totals;
}

void codepack_close(struct codepack *p) {
  if (p == NULL)
    return;
  if (p->in != NULL)
    archive_read_free(p->in);
  if (p->out != NULL)
    archive_write_free(p->out);
  if (p->out_entry != NULL)
    archive_entry_free(p->out_entry);
  pathset_free(&p->dirs);
  free(p->path);
  free(p->buf);
  free(p);
}
