/* tarcheck.c - rootfs.tar against the manifest, streamed (see tarcheck.h). */
#include "tarcheck.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sha256.h"

#define READ_BLOCK (64 * 1024)

struct pass {
  struct archive *a;
  const struct manifest *m;
  const struct tar_sink *sink;
  bool *seen;
  struct img_err *err;
  char name[MANIFEST_MAX_PATH + 2]; /* the current entry, for messages */
};

static int refuse(struct pass *p, const char *what) {
  return img_fail(p->err, -EBADMSG, "rootfs.tar: %s: %s", p->name, what);
}

/* The entry's path as the manifest spells it: a directory's one trailing
 * '/' removed. */
static int entry_path(struct pass *p, struct archive_entry *ae) {
  const char *raw = archive_entry_pathname(ae);
  if (!raw)
    return img_fail(p->err, -EBADMSG, "rootfs.tar: an entry without a readable path");
  size_t len = strlen(raw);
  if (len > MANIFEST_MAX_PATH + 1)
    return img_fail(p->err, -EBADMSG, "rootfs.tar: an entry path of %zu bytes", len);
  memcpy(p->name, raw, len + 1);
  if (len > 1 && p->name[len - 1] == '/' && archive_entry_filetype(ae) == AE_IFDIR)
    p->name[len - 1] = '\0';
  const char *why;
  return manifest_check_path(p->name, &why) < 0 ? refuse(p, why) : 0;
}

static int check_kind(struct pass *p, struct archive_entry *ae, const struct manifest_entry *e) {
  if (archive_entry_hardlink(ae))
    return refuse(p, "a hard link (refused)");
  enum manifest_type t;
  switch (archive_entry_filetype(ae)) {
  case AE_IFREG:
    t = MANIFEST_FILE;
    break;
  case AE_IFDIR:
    t = MANIFEST_DIR;
    break;
  case AE_IFLNK:
    t = MANIFEST_SYMLINK;
    break;
  default:
    return refuse(p, "a device, fifo or socket (refused)");
  }
  if (!e)
    return refuse(p, "not listed in the manifest");
  if (t != e->type)
    return refuse(p, "its type differs from the manifest");
  return 0;
}

static int check_meta(struct pass *p, struct archive_entry *ae, const struct manifest_entry *e) {
  if ((archive_entry_mode(ae) & 07777) != e->mode)
    return refuse(p, "its mode differs from the manifest");
  if (!archive_entry_mtime_is_set(ae) || archive_entry_mtime(ae) != e->mtime ||
      archive_entry_mtime_nsec(ae) != 0)
    return refuse(p, "its mtime differs from the manifest");
  if ((uint64_t)archive_entry_size(ae) != e->size || archive_entry_size(ae) < 0)
    return refuse(p, "its size differs from the manifest");
  if (archive_entry_sparse_count(ae) > 0)
    return refuse(p, "a sparse file (refused)");
  const char *target = archive_entry_symlink(ae);
  if (e->type == MANIFEST_SYMLINK && (!target || strcmp(target, e->target) != 0))
    return refuse(p, "its symlink target differs from the manifest");
  return 0;
}

/* The header of the entry just read: which manifest entry it is, and
 * whether it matches. */
static int check_header(struct pass *p, struct archive_entry *ae, size_t *index) {
  int rc = entry_path(p, ae);
  if (rc)
    return rc;
  size_t i = manifest_find(p->m, p->name);
  const struct manifest_entry *e = i == MANIFEST_NONE ? NULL : &p->m->entries[i];
  if ((rc = check_kind(p, ae, e)))
    return rc;
  if (p->seen[i])
    return refuse(p, "appears twice");
  if (e->parent != MANIFEST_NONE && !p->seen[e->parent])
    return refuse(p, "comes before its directory");
  if ((rc = check_meta(p, ae, e)))
    return rc;
  p->seen[i] = true;
  *index = i;
  return 0;
}

static int read_failed(struct pass *p) {
  return img_fail(p->err, -EINVAL, "rootfs.tar: %s: cannot read its data: %s", p->name,
                  archive_error_string(p->a) ? archive_error_string(p->a) : "unknown error");
}

/* A file's data: hashed and handed on block by block. */
static int check_data(struct pass *p, const struct manifest_entry *e) {
  struct img_sha256 h;
  uint64_t done = 0;
  img_sha256_init(&h);
  for (;;) {
    const void *buf;
    size_t len;
    la_int64_t off;
    int r = archive_read_data_block(p->a, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK)
      return read_failed(p);
    if (off < 0 || (uint64_t)off != done)
      return refuse(p, "its data has holes (refused)");
    if (len > e->size - done)
      return refuse(p, "more data than its size");
    img_sha256_update(&h, buf, len);
    done += len;
    int rc = p->sink && p->sink->data ? p->sink->data(p->sink->ctx, buf, len, p->err) : 0;
    if (rc)
      return rc;
  }
  uint8_t d[DIGEST_SHA256_LEN];
  img_sha256_final(&h, d);
  if (done != e->size)
    return refuse(p, "less data than its size");
  if (memcmp(d, e->sha256, sizeof d) != 0)
    return refuse(p, "the SHA-256 of its data differs from the manifest");
  return 0;
}

static int one_entry(struct pass *p, struct archive_entry *ae) {
  size_t i = 0;
  int rc = check_header(p, ae, &i);
  const struct manifest_entry *e = rc ? NULL : &p->m->entries[i];
  const struct tar_sink *s = p->sink;
  if (!rc && s && s->begin)
    rc = s->begin(s->ctx, e, p->err);
  if (!rc && e->type == MANIFEST_FILE)
    rc = check_data(p, e);
  if (!rc && s && s->end)
    rc = s->end(s->ctx, e, p->err);
  return rc;
}

static int all_seen(const struct pass *p) {
  for (size_t i = 0; i < p->m->n; i++)
    if (!p->seen[i])
      return img_fail(p->err, -EBADMSG,
                      "rootfs.tar: %s: listed in the manifest but missing from the archive",
                      p->m->entries[i].path);
  return 0;
}

static int run(struct pass *p, int fd) {
  if (archive_read_support_format_tar(p->a) != ARCHIVE_OK ||
      archive_read_open_fd(p->a, fd, READ_BLOCK) != ARCHIVE_OK)
    return img_fail(p->err, -EINVAL, "rootfs.tar: not a tar archive: %s",
                    archive_error_string(p->a) ? archive_error_string(p->a) : "unknown error");
  snprintf(p->name, sizeof p->name, "(start)");
  for (;;) {
    struct archive_entry *ae;
    int r = archive_read_next_header(p->a, &ae);
    if (r == ARCHIVE_EOF)
      return all_seen(p);
    if (r != ARCHIVE_OK) /* warnings too: a header libarchive had to guess at */
      return img_fail(p->err, -EINVAL, "rootfs.tar: malformed after %s: %s", p->name,
                      archive_error_string(p->a) ? archive_error_string(p->a) : "unknown error");
    int rc = one_entry(p, ae);
    if (rc)
      return rc;
  }
}

int tarcheck_stream(int fd, const struct manifest *m, const struct tar_sink *sink,
                    struct img_err *err) {
  struct pass p = {.m = m, .sink = sink, .err = err};
  p.seen = calloc(m->n ? m->n : 1, sizeof *p.seen);
  p.a = archive_read_new();
  int rc = p.seen && p.a ? run(&p, fd) : img_fail(err, -ENOMEM, "rootfs.tar: out of memory");
  if (p.a)
    archive_read_free(p.a);
  free(p.seen);
  return rc;
}
