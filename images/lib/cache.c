/* cache.c - images verified once and unpacked into the state directory
 * (see cache.h). */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "keys.h"
#include "loader/sitestore.h"
#include "rmtree.h"
#include "unpack.h"
#include "verify.h"

#define IMAGES_SUBDIR "images"
#define LOCK_NAME ".lock"
#define TMP_PREFIX ".tmp-"
#define CONFIG_NAME "config.json"

/* One img_cache_open call. */
struct opening {
  const char *image_dir, *state_dir;
  int imgfd, imagesfd;
  char *bytes; /* the signed manifest */
  size_t len;
  struct img_cache *out;
  struct img_err *err;
};

static int make_private_dir(const char *path, struct img_err *err) {
  if (mkdir(path, 0700) < 0 && errno != EEXIST)
    return img_fail(err, -errno, "state dir: cannot create %s: %s", path, strerror(errno));
  return 0;
}

static int open_images_dir(struct opening *o) {
  char path[PATH_MAX];
  if (img_path_join(path, sizeof path, o->state_dir, IMAGES_SUBDIR))
    return img_fail(o->err, -ENAMETOOLONG, "state dir %s: path too long", o->state_dir);
  int rc = make_private_dir(o->state_dir, o->err);
  if (rc || (rc = make_private_dir(path, o->err)))
    return rc;
  o->imagesfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (o->imagesfd < 0)
    return img_fail(o->err, -errno, "state dir: %s: %s", path, strerror(errno));
  return 0;
}

static int set_paths(struct opening *o) {
  struct img_cache *c = o->out;
  uint8_t d[DIGEST_SHA256_LEN];
  digest_sha256(o->bytes, o->len, d);
  digest_hex(d, c->key);
  char images[PATH_MAX];
  if (img_path_join(images, sizeof images, o->state_dir, IMAGES_SUBDIR) ||
      img_path_join(c->dir, sizeof c->dir, images, c->key) ||
      img_path_join(c->root, sizeof c->root, c->dir, "root") ||
      img_path_join(c->sites, sizeof c->sites, c->dir, "sites"))
    return img_fail(o->err, -ENAMETOOLONG, "state dir %s: path too long", o->state_dir);
  return 0;
}

static int read_config(int entryfd, struct img_cache *c, struct img_err *err) {
  char *text;
  size_t len;
  int rc = img_read_file(entryfd, CONFIG_NAME, CONFIG_NAME, MANIFEST_MAX_BYTES, &text, &len, err);
  if (rc)
    return rc;
  rc = manifest_parse(text, len, &c->config, err);
  free(text);
  return rc;
}

/* The entry's root/ (which must be there) and sites/ are directories of
 * its own, not symlinks: a VM is given their paths, and a symlink planted
 * in the state directory would lead it out of the cache. */
static int check_entry_dirs(int entryfd, struct img_err *err) {
  static const char *const names[] = {"root", "sites"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    struct stat st;
    if (fstatat(entryfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT && i > 0)
        continue; /* no site store yet: the VM makes one inside the entry */
      return img_fail(err, -errno, "%s: %s", names[i], strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
      return img_fail(err, -EBADMSG, "%s is not a directory (a symlink?): remove the entry",
                      names[i]);
  }
  return 0;
}

/* 1: the entry is there, made from these very manifest bytes (its config
 * loaded); 0: no entry; or a negative errno. */
static int try_hit(struct opening *o) {
  int fd = openat(o->imagesfd, o->out->key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : img_fail(o->err, -errno, "%s", strerror(errno));
  char *cached = NULL;
  size_t len;
  int rc = img_read_file(fd, IMG_MANIFEST_NAME, IMG_MANIFEST_NAME, MANIFEST_MAX_BYTES, &cached,
                         &len, o->err);
  if (!rc && (len != o->len || memcmp(cached, o->bytes, len) != 0))
    rc = img_fail(o->err, -EBADMSG, "holds another manifest than its name says: remove it");
  free(cached);
  if (!rc)
    rc = check_entry_dirs(fd, o->err);
  if (!rc)
    rc = read_config(fd, o->out, o->err);
  close(fd);
  if (rc)
    img_err_prefix(o->err, o->out->dir);
  return rc ? rc : 1;
}

/* Temporary entries of runs that died: only the lock holder makes them,
 * and we hold the lock. */
static void remove_stale_temps(int imagesfd) {
  int fd = openat(imagesfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return;
  }
  for (struct dirent *e; (e = readdir(d));)
    if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
      img_rmtree(imagesfd, e->d_name);
  closedir(d);
}

/* The manifest's syscall sites into the entry's site store, content
 * records and identity index both (sitestore.h): hearth-vmm then finds
 * every image file's list without reading the file. The files are
 * complete and final here; if one were changed later, its identity
 * (ctime included) would change with it. */
static void seed_sites(const char *sites_path, int rootfd, const struct manifest *m) {
  struct sitestore *s;
  if (m->sites_finder != FILESITES_FINDER_VERSION || sitestore_open(sites_path, &s) < 0)
    return; /* another finder's lists: hearth-vmm works them out again */
  for (size_t i = 0; i < m->n; i++) {
    const struct manifest_entry *e = &m->entries[i];
    struct stat st;
    if (!e->has_sites || fstatat(rootfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    struct site_file_id id = {
        .dev = st.st_dev,
        .ino = st.st_ino,
        .size = (uint64_t)st.st_size,
        .mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec,
        .ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000ULL + (uint64_t)st.st_ctim.tv_nsec};
    sitestore_sites_put(s, e->sha256, e->size, &e->sites);
    sitestore_index_put(s, &id, e->sha256);
  }
  sitestore_close(s);
}

/* The manifest without its entries: what config.json holds. */
static int write_config(int tmpfd, const struct manifest *m, struct img_err *err) {
  struct manifest head = *m;
  head.entries = NULL;
  head.n = 0;
  char *text;
  size_t len;
  int rc = manifest_write(&head, &text, &len, err);
  if (rc)
    return rc;
  rc = img_write_file(tmpfd, CONFIG_NAME, CONFIG_NAME, text, len, 0444, false, err);
  free(text);
  return rc;
}

/* Unpacks (verifying) into tmpfd/root, seeds the sites, writes the
 * manifest and config, and syncs. */
static int fill_entry(struct opening *o, int tmpfd, const char *tmp_path,
                      const struct manifest *m) {
  if (mkdirat(tmpfd, "root", 0700) < 0)
    return img_fail(o->err, -errno, "cannot create %s/root: %s", tmp_path, strerror(errno));
  int rootfd = openat(tmpfd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0)
    return img_fail(o->err, -errno, "cannot open %s/root: %s", tmp_path, strerror(errno));
  struct unpack u;
  unpack_init(&u, rootfd, m);
  struct tar_sink sink = unpack_sink(&u);
  int rc = img_verify_tar(o->imgfd, m, &sink, o->err);
  if (rc)
    img_err_prefix(o->err, o->image_dir);
  if (!rc)
    rc = unpack_finish(&u, o->err);
  unpack_fini(&u);
  char sites[PATH_MAX];
  if (!rc && img_path_join(sites, sizeof sites, tmp_path, "sites") == 0)
    seed_sites(sites, rootfd, m);
  close(rootfd);
  if (!rc)
    rc = img_write_file(tmpfd, IMG_MANIFEST_NAME, IMG_MANIFEST_NAME, o->bytes, o->len, 0444, false,
                        o->err);
  if (!rc)
    rc = write_config(tmpfd, m, o->err);
  if (!rc && syncfs(tmpfd) < 0)
    rc = img_fail(o->err, -errno, "cannot sync %s: %s", tmp_path, strerror(errno));
  return rc;
}

static int temp_name(char *name, size_t cap) {
  uint64_t r;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
    return -EAGAIN;
  snprintf(name, cap, TMP_PREFIX "%016" PRIx64, r);
  return 0;
}

/* Under the lock: the entry made in a temporary directory, then renamed
 * into place; on failure the temporary directory goes. */
static int make_entry(struct opening *o, const struct manifest *m) {
  char name[32], tmp_path[PATH_MAX];
  int rc = temp_name(name, sizeof name);
  if (rc)
    return img_fail(o->err, rc, "no randomness for a temporary name");
  char images[PATH_MAX];
  if (img_path_join(images, sizeof images, o->state_dir, IMAGES_SUBDIR) ||
      img_path_join(tmp_path, sizeof tmp_path, images, name))
    return img_fail(o->err, -ENAMETOOLONG, "state dir %s: path too long", o->state_dir);
  if (mkdirat(o->imagesfd, name, 0700) < 0)
    return img_fail(o->err, -errno, "cannot create %s: %s", tmp_path, strerror(errno));
  int tmpfd = openat(o->imagesfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  rc = tmpfd < 0 ? img_fail(o->err, -errno, "cannot open %s: %s", tmp_path, strerror(errno))
                 : fill_entry(o, tmpfd, tmp_path, m);
  if (tmpfd >= 0)
    close(tmpfd);
  if (!rc && renameat(o->imagesfd, name, o->imagesfd, o->out->key) < 0)
    rc = img_fail(o->err, -errno, "cannot rename %s to %s: %s", tmp_path, o->out->dir,
                  strerror(errno));
  if (!rc && fsync(o->imagesfd) < 0)
    rc = img_fail(o->err, -errno, "cannot sync %s: %s", o->out->dir, strerror(errno));
  if (rc)
    img_rmtree(o->imagesfd, name);
  return rc;
}

static int lock_images(struct opening *o) {
  int fd = openat(o->imagesfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return img_fail(o->err, -errno, "state dir: cannot open %s/" IMAGES_SUBDIR "/" LOCK_NAME ": %s",
                    o->state_dir, strerror(errno));
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) {
      int rc =
          img_fail(o->err, -errno, "state dir: cannot lock the image cache: %s", strerror(errno));
      close(fd);
      return rc;
    }
  }
  return fd;
}

/* A miss: under the lock, look again, then verify and unpack. */
static int open_missed(struct opening *o) {
  int lockfd = lock_images(o);
  if (lockfd < 0)
    return lockfd;
  int rc = try_hit(o);
  if (rc == 0) {
    struct manifest m;
    remove_stale_temps(o->imagesfd);
    rc = manifest_parse(o->bytes, o->len, &m, o->err);
    if (rc)
      img_err_prefix(o->err, o->image_dir);
    else
      rc = make_entry(o, &m);
    manifest_free(&m);
    rc = rc ? rc : try_hit(o);
    if (rc == 0)
      rc = img_fail(o->err, -ENOENT, "%s: gone right after it was made", o->out->dir);
  } else if (rc == 1) {
    o->out->hit = true; /* another run made it while we waited */
  }
  close(lockfd); /* unlocks */
  return rc < 0 ? rc : 0;
}

static int open_signed(struct opening *o) {
  int rc = set_paths(o);
  if (rc || (rc = open_images_dir(o)))
    return rc;
  rc = try_hit(o);
  if (rc == 1) {
    o->out->hit = true;
    return 0;
  }
  return rc < 0 ? rc : open_missed(o);
}

int img_cache_open(const char *image_dir, const char *trust_dir, const char *state_dir,
                   struct img_cache *out, struct img_err *err) {
  memset(out, 0, sizeof *out);
  struct opening o = {.image_dir = image_dir,
                      .state_dir = state_dir,
                      .imgfd = -1,
                      .imagesfd = -1,
                      .out = out,
                      .err = err};
  struct img_trust *trust = malloc(sizeof *trust);
  int rc = trust ? img_load_trust(trust_dir, trust, err) : img_fail(err, -ENOMEM, "out of memory");
  if (!rc && (o.imgfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    rc = img_fail(err, -errno, "%s: %s", image_dir, strerror(errno));
  if (!rc && (rc = img_signed_manifest(o.imgfd, trust, &o.bytes, &o.len, err)))
    img_err_prefix(err, image_dir);
  free(trust);
  if (!rc)
    rc = open_signed(&o);
  free(o.bytes);
  if (o.imgfd >= 0)
    close(o.imgfd);
  if (o.imagesfd >= 0)
    close(o.imagesfd);
  if (rc)
    img_cache_close(out);
  return rc;
}

void img_cache_close(struct img_cache *c) { manifest_free(&c->config); }
