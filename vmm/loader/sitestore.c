/* sitestore.c - the on-disk site cache (see sitestore.h): a directory
 * descriptor, *at() calls on it, and whole-record reads and writes. */
#include "loader/sitestore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define NAME_MAX_LEN 96 /* "<64 hex>.sites", "<16 hex>-<16 hex>.idx", ".tmp-<16 hex>" */
#define TEMP_MAX_AGE_NS (600 * 1000000000LL) /* a writer left it there and died */

struct sitestore {
  int dirfd;
  char *path; /* for log lines */
  bool warned;
  long records; /* files in the directory as last counted, plus writes since; -1: not counted */
};

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *dir) {
  if (!dir[0])
    return -ENOENT;
  char *p = strdup(dir);
  if (!p)
    return -ENOMEM;
  int err = 0;
  for (char *slash = strchr(p + 1, '/'); slash && !err; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
      err = -errno;
    *slash = '/';
  }
  if (!err && mkdir(p, 0700) < 0 && errno != EEXIST)
    err = -errno;
  free(p);
  return err;
}

static int open_private_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
    close(fd);
    return -EPERM;
  }
  return fd;
}

int sitestore_open(const char *dir, struct sitestore **out) {
  int err = make_dirs(dir);
  int fd = err ? err : open_private_dir(dir);
  struct sitestore *s = fd >= 0 ? calloc(1, sizeof *s) : NULL;
  char *path = s ? strdup(dir) : NULL;
  if (fd >= 0 && !path) {
    free(s);
    close(fd);
    fd = -ENOMEM;
  }
  if (fd < 0) {
    vlog(VLOG_WARN, "--site-cache %s: %s; running without a site cache on disk", dir,
         fd == -EPERM ? "not a private directory of this user" : strerror(-fd));
    return fd;
  }
  *s = (struct sitestore){.dirfd = fd, .path = path, .records = -1};
  *out = s;
  return 0;
}

void sitestore_close(struct sitestore *s) {
  if (!s)
    return;
  close(s->dirfd);
  free(s->path);
  free(s);
}

static void sites_name(const uint8_t sha[DIGEST_SHA256_LEN], char name[NAME_MAX_LEN]) {
  char hex[DIGEST_SHA256_HEX];
  digest_hex(sha, hex);
  snprintf(name, NAME_MAX_LEN, "%s.sites", hex);
}

static void index_name(const struct site_file_id *id, char name[NAME_MAX_LEN]) {
  snprintf(name, NAME_MAX_LEN, "%016" PRIx64 "-%016" PRIx64 ".idx", id->dev, id->ino);
}

/* Reads the whole record `name`, at most `cap` bytes, into a new buffer.
 * 0, -ENOENT (absent, not a regular file, larger than cap), -ENOMEM, -EIO. */
static int read_record(struct sitestore *s, const char *name, size_t cap, uint8_t **buf,
                       size_t *len) {
  int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOMEM ? -ENOMEM : -ENOENT;
  struct stat st;
  int err = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap ? -ENOENT : 0;
  *buf = err ? NULL : malloc(st.st_size ? (size_t)st.st_size : 1);
  if (!err && !*buf)
    err = -ENOMEM;
  size_t done = 0;
  while (!err && done < (size_t)st.st_size) {
    ssize_t n = pread(fd, *buf + done, (size_t)st.st_size - done, (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      err = -EIO; /* shrank under us, or failed: a miss */
    else
      done += (size_t)n;
  }
  close(fd);
  if (err) {
    free(*buf);
    *buf = NULL;
  }
  *len = done;
  return err;
}

/* Names this store writes: records and its temporary files. */
static bool ours(const char *name) {
  size_t n = strlen(name);
  return n < NAME_MAX_LEN &&
         ((n > 6 && strcmp(name + n - 6, ".sites") == 0) ||
          (n > 4 && strcmp(name + n - 4, ".idx") == 0) || strncmp(name, ".tmp-", 5) == 0);
}

/* Calls fn for each of our names in the directory; the number of them. */
static long each_name(struct sitestore *s, void (*fn)(void *, const char *), void *arg) {
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  long n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!ours(e->d_name))
      continue;
    n++;
    if (fn)
      fn(arg, e->d_name);
  }
  closedir(d);
  return n;
}

struct aged {
  char name[NAME_MAX_LEN];
  int64_t mtime_ns;
};

struct aged_list {
  struct sitestore *s;
  struct aged *v;
  size_t n, cap;
};

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Collects a record with its age; removes a temporary file left behind. */
static void collect(void *arg, const char *name) {
  struct aged_list *l = arg;
  struct stat st;
  if (fstatat(l->s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  if (name[0] == '.') {
    if (now_ns() - mtime > TEMP_MAX_AGE_NS)
      unlinkat(l->s->dirfd, name, 0);
    return;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    struct aged *v = reallocarray(l->v, cap, sizeof *v);
    if (!v)
      return;
    l->v = v;
    l->cap = cap;
  }
  struct aged *a = &l->v[l->n++];
  snprintf(a->name, sizeof a->name, "%s", name);
  a->mtime_ns = mtime;
}

static int older_first(const void *a, const void *b) {
  int64_t x = ((const struct aged *)a)->mtime_ns, y = ((const struct aged *)b)->mtime_ns;
  return (x > y) - (x < y);
}

/* Removes the older half of the records (by when they were written): a
 * removed record that is still wanted is only worked out again. */
static void prune(struct sitestore *s) {
  struct aged_list l = {.s = s};
  each_name(s, collect, &l);
  if (l.n > SITESTORE_MAX_RECORDS / 2) {
    qsort(l.v, l.n, sizeof *l.v, older_first);
    for (size_t i = 0; i < l.n - SITESTORE_MAX_RECORDS / 2; i++)
      unlinkat(s->dirfd, l.v[i].name, 0);
  }
  free(l.v);
}

/* Keeps the directory under SITESTORE_MAX_RECORDS files: counted once per
 * store (a readdir, no stat), then kept up to date by the writes. */
static void note_write(struct sitestore *s) {
  s->records = s->records < 0 ? each_name(s, NULL, NULL) : s->records + 1;
  if (s->records > SITESTORE_MAX_RECORDS) {
    prune(s);
    s->records = each_name(s, NULL, NULL);
  }
}

static void warn_once(struct sitestore *s, const char *what, int err) {
  if (s->warned)
    return;
  s->warned = true;
  vlog(VLOG_WARN, "site cache %s: cannot write %s: %s (further failures not logged)", s->path, what,
       strerror(-err));
}

static int write_all(int fd, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* A temporary name no other writer picks: 64 random bits. */
static int temp_name(char name[NAME_MAX_LEN]) {
  uint64_t r;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
    return -EAGAIN;
  snprintf(name, NAME_MAX_LEN, ".tmp-%016" PRIx64, r);
  return 0;
}

/* Writes `name` atomically: the whole record to a new temporary file, then
 * a rename over the old one. Readers validate, so no fsync is needed: a
 * record cut short by a crash reads as a miss. */
static void write_record(struct sitestore *s, const char *name, const uint8_t *buf, size_t len) {
  char tmp[NAME_MAX_LEN];
  int err = temp_name(tmp);
  int fd =
      err ? -1 : openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (!err && fd < 0)
    err = -errno;
  if (!err) {
    err = write_all(fd, buf, len);
    if (close(fd) < 0 && !err)
      err = -errno;
    if (!err && renameat(s->dirfd, tmp, s->dirfd, name) < 0)
      err = -errno;
    if (err)
      unlinkat(s->dirfd, tmp, 0);
  }
  if (err)
    warn_once(s, name, err);
  else
    note_write(s);
}

int sitestore_index_get(struct sitestore *s, const struct site_file_id *id,
                        uint8_t sha[DIGEST_SHA256_LEN]) {
  char name[NAME_MAX_LEN];
  uint8_t *buf;
  size_t len;
  const char *why = NULL;
  index_name(id, name);
  int err = read_record(s, name, SITEFMT_INDEX_SIZE, &buf, &len);
  if (err)
    return -ENOENT;
  err = sitefmt_index_decode(buf, len, id, sha, &why);
  free(buf);
  if (err)
    vlog(VLOG_DEBUG, "site cache: index entry %s: %s", name, why);
  return err ? -ENOENT : 0;
}

int sitestore_sites_get(struct sitestore *s, const uint8_t sha[DIGEST_SHA256_LEN],
                        uint64_t file_size, struct file_sites *out) {
  char name[NAME_MAX_LEN];
  uint8_t *buf;
  size_t len;
  const char *why = NULL;
  *out = (struct file_sites){0};
  sites_name(sha, name);
  int err = read_record(s, name, SITEFMT_SITES_MAX_SIZE, &buf, &len);
  if (err)
    return err == -ENOMEM ? err : -ENOENT;
  err = sitefmt_sites_decode(buf, len, sha, file_size, out, &why);
  free(buf);
  if (err == -EINVAL)
    vlog(VLOG_INFO, "site cache %s: ignoring %s: %s", s->path, name, why);
  return err == -EINVAL ? -ENOENT : err;
}

void sitestore_index_put(struct sitestore *s, const struct site_file_id *id,
                         const uint8_t sha[DIGEST_SHA256_LEN]) {
  char name[NAME_MAX_LEN];
  uint8_t rec[SITEFMT_INDEX_SIZE];
  index_name(id, name);
  sitefmt_index_encode(id, sha, rec);
  write_record(s, name, rec, sizeof rec);
}

void sitestore_sites_put(struct sitestore *s, const uint8_t sha[DIGEST_SHA256_LEN],
                         uint64_t file_size, const struct file_sites *sites) {
  char name[NAME_MAX_LEN];
  size_t len = sitefmt_sites_size(sites->n);
  uint8_t *rec = malloc(len);
  sites_name(sha, name);
  if (!rec) {
    warn_once(s, name, -ENOMEM);
    return;
  }
  sitefmt_sites_encode(sha, file_size, sites, rec);
  write_record(s, name, rec, len);
  free(rec);
}
