/* snapfile.c - the snapshot state file (see snapfile.h).
 *
 * Layout, all integers little-endian:
 *   header   magic[8] version:u32 count:u32 file_len:u64
 *            cpu vendor[12] cpu signature:u32 cpu xcr0:u64      (48 bytes)
 *   table    count x { type:u32 len:u32 off:u64 }                (16 bytes each)
 *   sections packed in table order, right after the table
 *   checksum SHA-256 of every byte before it                    (32 bytes)
 * A reader checks, in this order: the size cap, the magic, the version (a
 * later version may lay out everything after it differently), the length
 * against the file's, the checksum, the CPU, then the table. Checking the
 * checksum before the CPU means a flipped bit reads as corruption, not as
 * another CPU. */
#define OPENSSL_API_COMPAT 0x10100000L /* SHA256_Init & co.: see loader/digest.c */
#include "snapshot/snapfile.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_MAGIC_LEN 8u
#define SNAP_HEADER_LEN 48u
#define SNAP_ENTRY_LEN 16u
#define SNAP_SUM_LEN 32u
/* Offsets of the header's fields (the tests forge headers with them). */
#define SNAP_OFF_VERSION 8u
#define SNAP_OFF_COUNT 12u
#define SNAP_OFF_FILE_LEN 16u
#define SNAP_OFF_VENDOR 24u
#define SNAP_OFF_SIGNATURE 36u
#define SNAP_OFF_XCR0 40u

/* ---- CPU identity ---- */

int snap_cpu_identity(struct snap_cpu_id *out) {
  unsigned a, b, c, d;
  memset(out, 0, sizeof *out);
  unsigned max = __get_cpuid_max(0, NULL);
  if (max < 1)
    return -ENOTSUP;
  __cpuid(0, a, b, c, d);
  memcpy(out->vendor, &b, 4);
  memcpy(out->vendor + 4, &d, 4);
  memcpy(out->vendor + 8, &c, 4);
  __cpuid(1, a, b, c, d);
  out->signature = a;
  if (max >= 0xd) {
    __cpuid_count(0xd, 0, a, b, c, d);
    out->xcr0_supported = (uint64_t)d << 32 | a;
  }
  return 0;
}

static bool cpu_id_equal(const struct snap_cpu_id *x, const struct snap_cpu_id *y) {
  return memcmp(x->vendor, y->vendor, 12) == 0 && x->signature == y->signature &&
         x->xcr0_supported == y->xcr0_supported;
}

/* ---- little-endian fields ---- */

static void le32_store(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void le64_store(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32_load(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint64_t le64_load(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* ---- encoder ---- */

/* Room for n more bytes, or the sticky error. */
static uint8_t *buf_room(struct snap_buf *b, size_t n) {
  if (b->err)
    return NULL;
  if (n > SNAP_SECTION_MAX - b->len) {
    b->err = -EMSGSIZE;
    return NULL;
  }
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
      b->err = -ENOMEM;
      return NULL;
    }
    b->p = p;
    b->cap = cap;
  }
  uint8_t *at = b->p + b->len;
  b->len += n;
  return at;
}

void snap_put_u8(struct snap_buf *b, uint8_t v) {
  uint8_t *p = buf_room(b, 1);
  if (p)
    *p = v;
}

void snap_put_u32(struct snap_buf *b, uint32_t v) {
  uint8_t *p = buf_room(b, 4);
  if (p)
    le32_store(p, v);
}

void snap_put_u64(struct snap_buf *b, uint64_t v) {
  uint8_t *p = buf_room(b, 8);
  if (p)
    le64_store(p, v);
}

void snap_put_bytes(struct snap_buf *b, const void *src, size_t n) {
  uint8_t *p = buf_room(b, n);
  if (p && n)
    memcpy(p, src, n);
}

void snap_put_str(struct snap_buf *b, const char *s) {
  if (!s) {
    snap_put_u32(b, UINT32_MAX);
    return;
  }
  size_t n = strlen(s);
  if (n >= SNAP_SECTION_MAX) {
    if (!b->err)
      b->err = -EMSGSIZE;
    return;
  }
  snap_put_u32(b, (uint32_t)n);
  snap_put_bytes(b, s, n);
}

/* ---- decoder ---- */

static void cursor_fail(struct snap_cursor *c) {
  if (!c->err)
    c->err = -EBADMSG;
}

const uint8_t *snap_get_bytes(struct snap_cursor *c, size_t n) {
  if (c->err || c->off > c->len || n > c->len - c->off) {
    cursor_fail(c);
    return NULL;
  }
  const uint8_t *at = c->p + c->off;
  c->off += n;
  return at;
}

uint8_t snap_get_u8(struct snap_cursor *c) {
  const uint8_t *p = snap_get_bytes(c, 1);
  return p ? *p : 0;
}

uint32_t snap_get_u32(struct snap_cursor *c) {
  const uint8_t *p = snap_get_bytes(c, 4);
  return p ? le32_load(p) : 0;
}

uint64_t snap_get_u64(struct snap_cursor *c) {
  const uint8_t *p = snap_get_bytes(c, 8);
  return p ? le64_load(p) : 0;
}

int snap_get_str(struct snap_cursor *c, char *out, size_t cap) {
  if (cap)
    out[0] = '\0';
  uint32_t n = snap_get_u32(c);
  if (!c->err && n == UINT32_MAX && cap)
    return 0;
  /* Over the caller's cap, or with a NUL inside (it would be cut short). */
  const uint8_t *p = (c->err || n >= cap) ? NULL : snap_get_bytes(c, n);
  if (!p || memchr(p, '\0', n)) {
    cursor_fail(c);
    return -EBADMSG;
  }
  memcpy(out, p, n);
  out[n] = '\0';
  return 1;
}

int snap_cursor_done(const struct snap_cursor *c) {
  return c->err == 0 && c->off == c->len ? 0 : -EBADMSG;
}

/* ---- writer ---- */

struct snap_section_buf {
  uint32_t type;
  struct snap_buf buf;
};

struct snap_writer {
  struct snap_section_buf sec[SNAP_SECTIONS_MAX];
  unsigned count;
  int err;                 /* a section asked for twice, or one too many */
  struct snap_buf refused; /* what such a request writes into: nowhere */
};

int snap_writer_new(struct snap_writer **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

/* A duplicate or surplus section gets an encoder that is already failed, so
 * callers need no NULL check and the commit reports it. */
struct snap_buf *snap_writer_section(struct snap_writer *w, uint32_t type) {
  int err = w->count == SNAP_SECTIONS_MAX ? -E2BIG : 0;
  for (unsigned i = 0; i < w->count; i++)
    if (w->sec[i].type == type)
      err = -EEXIST;
  if (err) {
    if (!w->err)
      w->err = err;
    w->refused.err = err;
    return &w->refused;
  }
  w->sec[w->count].type = type;
  return &w->sec[w->count++].buf;
}

void snap_writer_free(struct snap_writer *w) {
  if (!w)
    return;
  for (unsigned i = 0; i < w->count; i++)
    free(w->sec[i].buf.p);
  free(w->refused.p);
  free(w);
}

/* Header and table into `out` (SNAP_HEADER_LEN + count * SNAP_ENTRY_LEN). */
static void writer_head(const struct snap_writer *w, const struct snap_cpu_id *cpu,
                        uint64_t file_len, uint8_t *out) {
  memset(out, 0, SNAP_HEADER_LEN);
  memcpy(out, SNAP_MAGIC, SNAP_MAGIC_LEN);
  le32_store(out + SNAP_OFF_VERSION, SNAP_VERSION);
  le32_store(out + SNAP_OFF_COUNT, w->count);
  le64_store(out + SNAP_OFF_FILE_LEN, file_len);
  memcpy(out + SNAP_OFF_VENDOR, cpu->vendor, 12);
  le32_store(out + SNAP_OFF_SIGNATURE, cpu->signature);
  le64_store(out + SNAP_OFF_XCR0, cpu->xcr0_supported);
  uint64_t off = SNAP_HEADER_LEN + (uint64_t)w->count * SNAP_ENTRY_LEN;
  for (unsigned i = 0; i < w->count; i++) {
    uint8_t *e = out + SNAP_HEADER_LEN + i * SNAP_ENTRY_LEN;
    le32_store(e, w->sec[i].type);
    le32_store(e + 4, (uint32_t)w->sec[i].buf.len);
    le64_store(e + 8, off);
    off += w->sec[i].buf.len;
  }
}

static int write_all(int fd, const void *p, size_t n) {
  const uint8_t *at = p;
  while (n) {
    ssize_t k = write(fd, at, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    at += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Header, sections and checksum into fd. */
static int writer_emit(const struct snap_writer *w, int fd) {
  struct snap_cpu_id cpu;
  int rc = snap_cpu_identity(&cpu);
  if (rc < 0)
    return rc;
  uint8_t head[SNAP_HEADER_LEN + SNAP_SECTIONS_MAX * SNAP_ENTRY_LEN];
  size_t head_len = SNAP_HEADER_LEN + w->count * SNAP_ENTRY_LEN;
  uint64_t file_len = head_len + SNAP_SUM_LEN;
  for (unsigned i = 0; i < w->count; i++)
    file_len += w->sec[i].buf.len;
  if (file_len > SNAP_STATE_MAX)
    return -EFBIG;
  writer_head(w, &cpu, file_len, head);
  SHA256_CTX sha;
  SHA256_Init(&sha);
  SHA256_Update(&sha, head, head_len);
  rc = write_all(fd, head, head_len);
  for (unsigned i = 0; i < w->count && rc == 0; i++) {
    SHA256_Update(&sha, w->sec[i].buf.p, w->sec[i].buf.len);
    rc = write_all(fd, w->sec[i].buf.p, w->sec[i].buf.len);
  }
  uint8_t sum[SNAP_SUM_LEN];
  SHA256_Final(sum, &sha);
  return rc < 0 ? rc : write_all(fd, sum, sizeof sum);
}

static int writer_error(const struct snap_writer *w) {
  if (w->err)
    return w->err;
  for (unsigned i = 0; i < w->count; i++)
    if (w->sec[i].buf.err)
      return w->sec[i].buf.err;
  return 0;
}

int snap_writer_commit(struct snap_writer *w, int dirfd, const char *name) {
  int rc = writer_error(w);
  if (rc < 0)
    return rc;
  char tmp[256];
  if (strchr(name, '/') ||
      snprintf(tmp, sizeof tmp, ".%s.%d.tmp", name, (int)getpid()) >= (int)sizeof tmp)
    return -EINVAL;
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  rc = writer_emit(w, fd);
  if (rc == 0 && fsync(fd) < 0)
    rc = -errno;
  if (close(fd) < 0 && rc == 0)
    rc = -errno;
  /* The rename publishes the whole file or nothing; the directory's fsync
   * makes the rename itself durable. */
  if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
    rc = -errno;
  if (rc < 0) {
    unlinkat(dirfd, tmp, 0);
    return rc;
  }
  return fsync(dirfd) < 0 ? -errno : 0;
}

/* ---- reader ---- */

struct snap_entry {
  uint32_t type, len;
  uint64_t off;
};

struct snap_file {
  uint8_t *data;
  size_t len;
  unsigned count;
  struct snap_entry sec[SNAP_SECTIONS_MAX];
};

void snap_file_free(struct snap_file *f) {
  if (!f)
    return;
  free(f->data);
  free(f);
}

/* The whole file, at most SNAP_STATE_MAX bytes, into f->data. */
static int read_whole(int fd, struct snap_file *f, char *err, size_t errlen) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "not a regular file");
    return -EINVAL;
  }
  if ((uint64_t)st.st_size > SNAP_STATE_MAX) {
    snprintf(err, errlen, "file of %" PRIu64 " bytes is over the cap of %u", (uint64_t)st.st_size,
             SNAP_STATE_MAX);
    return -EFBIG;
  }
  f->data = malloc(st.st_size ? (size_t)st.st_size : 1);
  if (!f->data)
    return -ENOMEM;
  while (f->len < (size_t)st.st_size) {
    ssize_t k = read(fd, f->data + f->len, (size_t)st.st_size - f->len);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    if (k == 0)
      break; /* shrank under us: the checks below call it truncated */
    f->len += (size_t)k;
  }
  return 0;
}

/* Magic, version and length: what must hold before anything else is read. */
static int check_frame(const struct snap_file *f, char *err, size_t errlen) {
  size_t n = f->len < SNAP_MAGIC_LEN ? f->len : SNAP_MAGIC_LEN;
  if (memcmp(f->data, SNAP_MAGIC, n) != 0) {
    snprintf(err, errlen, "not a hearth snapshot");
    return -EBADMSG;
  }
  if (f->len >= SNAP_OFF_VERSION + 4 && le32_load(f->data + SNAP_OFF_VERSION) != SNAP_VERSION) {
    snprintf(err, errlen, "format version %" PRIu32 ", this hearth reads %u",
             le32_load(f->data + SNAP_OFF_VERSION), SNAP_VERSION);
    return -EPROTONOSUPPORT;
  }
  if (f->len < SNAP_HEADER_LEN + SNAP_SUM_LEN || le64_load(f->data + SNAP_OFF_FILE_LEN) > f->len) {
    snprintf(err, errlen, "truncated");
    return -EBADMSG;
  }
  if (le64_load(f->data + SNAP_OFF_FILE_LEN) != f->len) {
    snprintf(err, errlen, "%zu bytes, the header says %" PRIu64, f->len,
             le64_load(f->data + SNAP_OFF_FILE_LEN));
    return -EBADMSG;
  }
  return 0;
}

static int check_sum(const struct snap_file *f, char *err, size_t errlen) {
  uint8_t sum[SNAP_SUM_LEN];
  SHA256_CTX sha;
  SHA256_Init(&sha);
  SHA256_Update(&sha, f->data, f->len - SNAP_SUM_LEN);
  SHA256_Final(sum, &sha);
  if (memcmp(sum, f->data + f->len - SNAP_SUM_LEN, SNAP_SUM_LEN) != 0) {
    snprintf(err, errlen, "checksum mismatch: the file is corrupt");
    return -EBADMSG;
  }
  return 0;
}

static int check_cpu(const struct snap_file *f, char *err, size_t errlen) {
  struct snap_cpu_id here, there;
  memset(&there, 0, sizeof there);
  int rc = snap_cpu_identity(&here);
  if (rc < 0) {
    snprintf(err, errlen, "cannot read this CPU's identity");
    return rc;
  }
  memcpy(there.vendor, f->data + SNAP_OFF_VENDOR, 12);
  for (int i = 0; i < 12; i++) /* printed below: keep it text */
    if (there.vendor[i] < 0x20 || there.vendor[i] > 0x7e)
      there.vendor[i] = '?';
  there.signature = le32_load(f->data + SNAP_OFF_SIGNATURE);
  there.xcr0_supported = le64_load(f->data + SNAP_OFF_XCR0);
  if (cpu_id_equal(&here, &there))
    return 0;
  snprintf(err, errlen,
           "taken on another CPU (%s %#" PRIx32 " xcr0 %#" PRIx64 ", this is %s %#" PRIx32
           " xcr0 %#" PRIx64 ")",
           there.vendor, there.signature, there.xcr0_supported, here.vendor, here.signature,
           here.xcr0_supported);
  return -ENOEXEC;
}

/* The table: at most SNAP_SECTIONS_MAX entries, sections packed in order
 * from the end of the table to the checksum (so none overlaps another or
 * the header), each at most SNAP_SECTION_MAX bytes, no type twice. */
static int check_table(struct snap_file *f, char *err, size_t errlen) {
  uint32_t count = le32_load(f->data + SNAP_OFF_COUNT);
  uint64_t end = f->len - SNAP_SUM_LEN;
  if (count > SNAP_SECTIONS_MAX || SNAP_HEADER_LEN + (uint64_t)count * SNAP_ENTRY_LEN > end) {
    snprintf(err, errlen, "%" PRIu32 " sections: too many", count);
    return -EBADMSG;
  }
  uint64_t off = SNAP_HEADER_LEN + (uint64_t)count * SNAP_ENTRY_LEN;
  for (unsigned i = 0; i < count; i++) {
    const uint8_t *e = f->data + SNAP_HEADER_LEN + i * SNAP_ENTRY_LEN;
    struct snap_entry s = {le32_load(e), le32_load(e + 4), le64_load(e + 8)};
    for (unsigned j = 0; j < i; j++)
      if (f->sec[j].type == s.type) {
        snprintf(err, errlen, "section %" PRIu32 " appears twice", s.type);
        return -EBADMSG;
      }
    if (s.off != off || s.len > SNAP_SECTION_MAX || s.len > end - off) {
      snprintf(err, errlen,
               "section %" PRIu32 " (%" PRIu32 " bytes at %" PRIu64 ") is out of place", s.type,
               s.len, s.off);
      return -EBADMSG;
    }
    f->sec[i] = s;
    off += s.len;
  }
  f->count = count;
  if (off != end) {
    snprintf(err, errlen, "%" PRIu64 " bytes after the last section", end - off);
    return -EBADMSG;
  }
  return 0;
}

static int snap_file_parse(struct snap_file *f, char *err, size_t errlen) {
  int rc = check_frame(f, err, errlen);
  if (rc == 0)
    rc = check_sum(f, err, errlen);
  if (rc == 0)
    rc = check_cpu(f, err, errlen);
  if (rc == 0)
    rc = check_table(f, err, errlen);
  return rc;
}

int snap_file_read(int dirfd, const char *name, struct snap_file **out, char *err, size_t errlen) {
  *out = NULL;
  if (errlen)
    err[0] = '\0';
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot open %s: %s", name, strerror(e));
    return -e;
  }
  struct snap_file *f = calloc(1, sizeof *f);
  int rc = f ? read_whole(fd, f, err, errlen) : -ENOMEM;
  close(fd);
  if (rc == 0)
    rc = snap_file_parse(f, err, errlen);
  if (rc < 0) {
    if (errlen && !err[0])
      snprintf(err, errlen, "cannot read %s: %s", name, strerror(-rc));
    snap_file_free(f);
    return rc;
  }
  *out = f;
  return 0;
}

int snap_file_section(const struct snap_file *f, uint32_t type, struct snap_cursor *out) {
  for (unsigned i = 0; i < f->count; i++)
    if (f->sec[i].type == type) {
      *out = (struct snap_cursor){.p = f->data + f->sec[i].off, .len = f->sec[i].len};
      return 0;
    }
  *out = (struct snap_cursor){.err = -ENOENT};
  return -ENOENT;
}
