/* pack.c - rootfs.tar and the manifest's entries from the staged tree
 * (see pack.h). */
#include "pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfdeps.h"
#include "lib/sha256.h"
#include "tree.h"

#define BLOCK (256 * 1024)

struct packer {
  struct archive *a;
  struct archive_entry *ae;
  int stagefd;
  struct pack_report *rep;
  struct img_err *err;
  uint8_t *block;
};

static int archive_failed(struct packer *p, const char *path) {
  return img_fail(p->err, -EIO, "rootfs.tar: /%s: %s", path,
                  archive_error_string(p->a) ? archive_error_string(p->a) : "write failed");
}

static int write_data(struct packer *p, const char *path, const void *buf, size_t len) {
  la_ssize_t n = archive_write_data(p->a, buf, len);
  return n < 0 || (size_t)n != len ? archive_failed(p, path) : 0;
}

static int read_whole(int fd, uint8_t *buf, uint64_t size) {
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -EIO;
    done += (uint64_t)n;
  }
  return 0;
}

/* An ELF file, held whole: hashed, its sites found, written. */
static int pack_elf(struct packer *p, int fd, struct manifest_entry *e) {
  uint8_t *buf = malloc(e->size ? e->size : 1);
  if (!buf)
    return img_fail(p->err, -ENOMEM, "/%s: out of memory", e->path);
  int rc = read_whole(fd, buf, e->size) ? img_fail(p->err, -EIO, "/%s: short read", e->path) : 0;
  const char *why;
  int found = rc ? 0 : filesites_find(buf, e->size, &e->sites, NULL, &why);
  if (found == -ENOMEM)
    rc = img_fail(p->err, -ENOMEM, "/%s: out of memory finding its syscall sites", e->path);
  if (!rc && found == 0) {
    e->has_sites = true;
    p->rep->elf_files++;
    p->rep->sites += e->sites.n;
  }
  if (!rc) {
    digest_sha256(buf, e->size, e->sha256);
    rc = write_data(p, e->path, buf, e->size);
  }
  free(buf);
  return rc;
}

/* Any other file, streamed. */
static int pack_stream(struct packer *p, int fd, struct manifest_entry *e) {
  struct img_sha256 h;
  uint64_t done = 0;
  img_sha256_init(&h);
  while (done < e->size) {
    ssize_t n = read(fd, p->block, BLOCK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || (uint64_t)n > e->size - done)
      return img_fail(p->err, -EIO, "/%s: changed while it was packed", e->path);
    img_sha256_update(&h, p->block, (size_t)n);
    int rc = write_data(p, e->path, p->block, (size_t)n);
    if (rc)
      return rc;
    done += (uint64_t)n;
  }
  img_sha256_final(&h, e->sha256);
  return 0;
}

static int pack_file_data(struct packer *p, struct manifest_entry *e) {
  int fd = openat(p->stagefd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return img_fail(p->err, -errno, "/%s: %s", e->path, strerror(errno));
  uint8_t magic[4];
  bool elf = e->size <= FILESITES_MAX_FILE &&
             pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
             elfdeps_is_elf(magic, sizeof magic);
  int rc = elf ? pack_elf(p, fd, e) : pack_stream(p, fd, e);
  close(fd);
  p->rep->files++;
  p->rep->bytes += e->size;
  return rc;
}

/* The manifest entry of a staged node, from its lstat. */
static int describe(struct packer *p, const struct tree_node *node, int64_t stamp,
                    struct manifest_entry *e) {
  struct stat st;
  if (fstatat(p->stagefd, node->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return img_fail(p->err, -errno, "/%s: %s", node->path, strerror(errno));
  *e = (struct manifest_entry){.type = node->type,
                               .mode = st.st_mode & 0777,
                               .mtime = st.st_mtim.tv_sec,
                               .parent = MANIFEST_NONE};
  if (!(e->path = strdup(node->path)))
    return img_fail(p->err, -ENOMEM, "out of memory");
  if (node->type == MANIFEST_DIR) {
    e->mode = 0755;
    e->mtime = stamp;
    p->rep->dirs++;
  } else if (node->type == MANIFEST_FILE) {
    e->size = (uint64_t)st.st_size;
  } else {
    char target[MANIFEST_MAX_PATH + 1];
    ssize_t n = readlinkat(p->stagefd, node->path, target, sizeof target - 1);
    if (n <= 0)
      return img_fail(p->err, -EINVAL, "/%s: unreadable symlink", node->path);
    target[n] = '\0';
    if (!(e->target = strdup(target)))
      return img_fail(p->err, -ENOMEM, "out of memory");
    p->rep->symlinks++;
  }
  return 0;
}

static int write_header(struct packer *p, const struct manifest_entry *e) {
  static const unsigned types[] = {
      [MANIFEST_FILE] = AE_IFREG, [MANIFEST_DIR] = AE_IFDIR, [MANIFEST_SYMLINK] = AE_IFLNK};
  archive_entry_clear(p->ae);
  archive_entry_set_pathname(p->ae, e->path);
  archive_entry_set_filetype(p->ae, types[e->type]);
  archive_entry_set_perm(p->ae, e->mode);
  archive_entry_set_mtime(p->ae, e->mtime, 0);
  archive_entry_set_uid(p->ae, 0);
  archive_entry_set_gid(p->ae, 0);
  archive_entry_set_size(p->ae, (la_int64_t)e->size);
  if (e->target)
    archive_entry_set_symlink(p->ae, e->target);
  return archive_write_header(p->a, p->ae) != ARCHIVE_OK ? archive_failed(p, e->path) : 0;
}

static int pack_nodes(struct packer *p, const struct tree *t, int64_t stamp, struct manifest *m) {
  if (!(m->entries = calloc(t->n ? t->n : 1, sizeof *m->entries)))
    return img_fail(p->err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < t->n; i++) {
    struct manifest_entry *e = &m->entries[m->n++];
    int rc = describe(p, &t->v[i], stamp, e);
    if (!rc)
      rc = write_header(p, e);
    if (!rc && e->type == MANIFEST_FILE)
      rc = pack_file_data(p, e);
    if (rc)
      return rc;
  }
  return 0;
}

int pack_tree(int stagefd, int tarfd, int64_t stamp, struct manifest *m, struct pack_report *rep,
              struct img_err *err) {
  struct packer p = {.stagefd = stagefd, .rep = rep, .err = err};
  struct tree t;
  *rep = (struct pack_report){0};
  int rc = tree_scan(stagefd, &t, err);
  if (rc)
    return rc;
  p.a = archive_write_new();
  p.ae = archive_entry_new();
  p.block = malloc(BLOCK);
  if (!p.a || !p.ae || !p.block)
    rc = img_fail(err, -ENOMEM, "out of memory");
  else if (archive_write_set_format_pax(p.a) != ARCHIVE_OK ||
           archive_write_open_fd(p.a, tarfd) != ARCHIVE_OK)
    rc = archive_failed(&p, "");
  if (!rc)
    rc = pack_nodes(&p, &t, stamp, m);
  if (!rc && archive_write_close(p.a) != ARCHIVE_OK)
    rc = archive_failed(&p, "");
  if (p.a)
    archive_write_free(p.a);
  archive_entry_free(p.ae);
  free(p.block);
  tree_free(&t);
  return rc;
}
