/* tarx.c - the streaming tar extractor (tarx.h): a state machine over the
 * archive's 512-byte blocks. Header blocks are collected whole; file data
 * goes straight from the caller's piece to the file; extended headers
 * (pax, GNU long names) are collected, bounded, and apply to the next
 * entry. */
#include "tarx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paxrec.h"
#include "tarhdr.h"
#include "tree.h"

/* A pax header larger than this is refused: path, linkpath and size fit in
 * far less, and the rest (times, owners, xattrs) is ignored anyway. */
#define TX_META_MAX (64u << 10)

/* Names in messages are cut to this many bytes. */
#define SHOWN_MAX 200
#define SHOWN_CAP (SHOWN_MAX + 4)

enum tx_state {
  TX_HEADER,  /* collecting a header block */
  TX_DATA,    /* a regular file's data, written as it comes */
  TX_META,    /* an extended header's data, collected */
  TX_SKIP,    /* padding, or data of an entry that has none to write */
  TX_TRAILER, /* after the end-of-archive block: zeros only */
};

/* One string an extended header set for the next entry. */
struct pending_str {
  char *buf; /* max_path + 1 bytes */
  size_t len;
  bool set;
};

struct tarx {
  struct code_limits lim;
  struct code_totals totals;
  struct tree tree;
  enum tx_state state;
  uint64_t offset; /* archive bytes consumed, for messages */
  uint8_t block[TAR_BLOCK];
  size_t block_have;
  uint64_t left; /* bytes of the current data or skip */
  uint64_t pad;  /* padding after the current data */
  int fd;        /* the file being written, or -1 */
  char meta_type;
  char *meta; /* TX_META_MAX bytes */
  size_t meta_len;
  struct pending_str next_path, next_link;
  uint64_t next_size;
  bool next_size_set;
  char *path;            /* the current entry's normal path, max_path + 1 */
  char *target;          /* a symlink's target, NUL-terminated, max_path + 1 */
  char shown[SHOWN_CAP]; /* the entry's name, printable */
  char shown_link[SHOWN_CAP];
  int err;
  char *msg;
  size_t msg_cap;
};

/* Records the first error with its message; returns it. */
__attribute__((format(printf, 3, 4))) static int fail(struct tarx *t, int err, const char *fmt,
                                                      ...) {
  if (t->err)
    return t->err;
  t->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->msg, t->msg_cap, fmt, ap);
  va_end(ap);
  return err;
}

/* A copy of name[0..len) in out, fit for a one-line message: control
 * bytes as '?', cut at SHOWN_MAX bytes. Returns out. */
static const char *printable(char out[SHOWN_CAP], const char *name, size_t len) {
  size_t n = len < SHOWN_MAX ? len : SHOWN_MAX;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  strcpy(out + n, len > n ? "..." : "");
  return out;
}

int tarx_new(struct tarx **out, int dirfd, const struct code_limits *lim) {
  struct tarx *t = calloc(1, sizeof *t);
  if (!t)
    return -ENOMEM;
  t->lim = *lim;
  t->fd = -1;
  t->msg_cap = 512;
  size_t pcap = lim->max_path + 1;
  t->meta = malloc(TX_META_MAX);
  t->next_path.buf = malloc(pcap);
  t->next_link.buf = malloc(pcap);
  t->path = malloc(pcap);
  t->target = malloc(pcap);
  t->msg = calloc(1, t->msg_cap);
  if (!t->meta || !t->next_path.buf || !t->next_link.buf || !t->path || !t->target || !t->msg ||
      tree_init(&t->tree, dirfd, &t->lim, &t->totals) < 0) {
    tarx_free(t);
    return -ENOMEM;
  }
  *out = t;
  return 0;
}

void tarx_free(struct tarx *t) {
  if (!t)
    return;
  if (t->fd >= 0)
    close(t->fd);
  tree_fini(&t->tree);
  free(t->meta);
  free(t->next_path.buf);
  free(t->next_link.buf);
  free(t->path);
  free(t->target);
  free(t->msg);
  free(t);
}

/* ---- extended headers ---------------------------------------------------- */

static int set_pending(struct tarx *t, struct pending_str *p, const char *what, const char *v,
                       size_t len) {
  if (len > t->lim.max_path)
    return fail(t, CODE_E_TOO_LONG, "%s too long (%zu bytes, at most %zu)", what, len,
                t->lim.max_path);
  memcpy(p->buf, v, len);
  p->buf[len] = '\0';
  p->len = len;
  p->set = len > 0; /* an empty value restores the header's own field */
  return 0;
}

/* A pax "size": decimal, below 2^63. */
static int parse_pax_size(const char *v, size_t len, uint64_t *out) {
  uint64_t n = 0;
  if (len == 0 || len > 18)
    return -EBADMSG;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -EBADMSG;
    n = n * 10 + (uint64_t)(v[i] - '0');
  }
  *out = n;
  return 0;
}

static int on_pax_local(void *ctx, const char *key, size_t klen, const char *v, size_t vlen) {
  struct tarx *t = ctx;
  if (pax_key_is(key, klen, "path"))
    return set_pending(t, &t->next_path, "path", v, vlen);
  if (pax_key_is(key, klen, "linkpath"))
    return set_pending(t, &t->next_link, "symlink target", v, vlen);
  if (pax_key_is(key, klen, "size")) {
    t->next_size_set = vlen > 0;
    if (vlen > 0 && parse_pax_size(v, vlen, &t->next_size) < 0)
      return fail(t, -EBADMSG, "malformed pax size record");
    return 0;
  }
  if (klen >= 11 && memcmp(key, "GNU.sparse.", 11) == 0)
    return fail(t, CODE_E_TYPE, "sparse files are not allowed");
  return 0; /* times, owners, xattrs, comments: nothing a code bundle needs */
}

/* Global pax headers (git archive writes one, a comment) may not change
 * what every later entry is. */
static int on_pax_global(void *ctx, const char *key, size_t klen, const char *v, size_t vlen) {
  struct tarx *t = ctx;
  if (pax_key_is(key, klen, "path") || pax_key_is(key, klen, "linkpath") ||
      pax_key_is(key, klen, "size") || (klen >= 11 && memcmp(key, "GNU.sparse.", 11) == 0))
    return fail(t, CODE_E_TYPE, "global pax header sets '%.*s': not supported", (int)klen, key);
  return 0;
}

static int end_meta(struct tarx *t) {
  const char *m = t->meta;
  size_t len = t->meta_len;
  switch (t->meta_type) {
  case 'L':
  case 'K': { /* GNU long name / link target: the name, NUL-terminated */
    const char *nul = memchr(m, '\0', len);
    if (nul)
      len = (size_t)(nul - m);
    return t->meta_type == 'L' ? set_pending(t, &t->next_path, "path", m, len)
                               : set_pending(t, &t->next_link, "symlink target", m, len);
  }
  default: {
    int err = pax_records(m, len, t->meta_type == 'g' ? on_pax_global : on_pax_local, t);
    if (err < 0)
      return fail(t, err, "malformed pax extended header");
    return 0;
  }
  }
}

static int start_meta(struct tarx *t, char type, uint64_t size) {
  bool name = type == 'L' || type == 'K';
  /* A GNU long name is a path and its NUL; any extended header is collected
   * in meta, TX_META_MAX bytes, whatever the path limit. */
  uint64_t max = name && t->lim.max_path + 1 < TX_META_MAX ? t->lim.max_path + 1 : TX_META_MAX;
  if (size > max)
    return fail(t, name ? CODE_E_TOO_LONG : -EBADMSG,
                "extended header too large (%llu bytes, at most %llu)", (unsigned long long)size,
                (unsigned long long)max);
  t->meta_type = type;
  t->meta_len = 0;
  t->left = size;
  t->state = TX_META;
  if (size > 0)
    return 0;
  t->state = TX_HEADER; /* nothing to collect (and no padding) */
  return end_meta(t);
}

/* ---- entries ------------------------------------------------------------- */

static enum code_entry_type classify(char type, const char *name, size_t len) {
  switch (type) {
  case '\0':
  case '0':
    /* Pre-POSIX writers marked directories with a trailing slash. */
    return len > 0 && name[len - 1] == '/' ? CODE_ENTRY_DIR : CODE_ENTRY_FILE;
  case '7':
    return CODE_ENTRY_FILE; /* "contiguous": a regular file */
  case '1':
    return CODE_ENTRY_HARDLINK;
  case '2':
    return CODE_ENTRY_SYMLINK;
  case '3':
    return CODE_ENTRY_CHARDEV;
  case '4':
    return CODE_ENTRY_BLOCKDEV;
  case '5':
    return CODE_ENTRY_DIR;
  case '6':
    return CODE_ENTRY_FIFO;
  default:
    return CODE_ENTRY_OTHER;
  }
}

/* The entry's data and padding are not written anywhere (directories,
 * symlinks). */
static void skip_data(struct tarx *t, uint64_t size) {
  t->left = size + t->pad; /* size < 2^63: no overflow */
  t->pad = 0;
  t->state = t->left ? TX_SKIP : TX_HEADER;
}

static int make_file(struct tarx *t, const char *shown, unsigned mode, uint64_t size) {
  int err = code_count_bytes(&t->lim, &t->totals, size);
  if (err < 0)
    return fail(t, err, "%s: too many bytes (%llu more, at most %llu in all)", shown,
                (unsigned long long)size, (unsigned long long)t->lim.max_bytes);
  int fd = tree_create_file(&t->tree, t->path, mode);
  if (fd < 0)
    return fail(t, fd, "%s: %s", shown, code_error_message(fd));
  if (size == 0)
    return close(fd) < 0 ? fail(t, -errno, "%s: close failed", shown) : 0;
  t->fd = fd;
  t->left = size;
  t->state = TX_DATA;
  return 0;
}

static int make_symlink(struct tarx *t, const char *shown, const char *link, size_t link_len) {
  int err = code_symlink_check(&t->lim, t->path, link, link_len);
  if (err < 0)
    return fail(t, err, "%s -> %s: %s", shown, printable(t->shown_link, link, link_len),
                code_error_message(err));
  memcpy(t->target, link, link_len);
  t->target[link_len] = '\0';
  err = tree_symlink(&t->tree, t->path, t->target);
  return err < 0 ? fail(t, err, "%s: %s", shown, code_error_message(err)) : 0;
}

static int on_entry(struct tarx *t, const struct tar_header *h) {
  const char *name = t->next_path.set ? t->next_path.buf : h->name;
  size_t name_len = t->next_path.set ? t->next_path.len : h->name_len;
  const char *link = t->next_link.set ? t->next_link.buf : h->link;
  size_t link_len = t->next_link.set ? t->next_link.len : h->link_len;
  uint64_t size = t->next_size_set ? t->next_size : h->size;
  t->next_path.set = t->next_link.set = t->next_size_set = false;
  t->pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;

  enum code_entry_type type = classify(h->type, name, name_len);
  const char *shown = printable(t->shown, name, name_len);
  long n = code_path_check(&t->lim, name, name_len, t->path, t->lim.max_path + 1);
  if (n == CODE_E_EMPTY && name_len > 0 && type == CODE_ENTRY_DIR) {
    skip_data(t, size); /* "./": the root itself, which exists */
    return 0;
  }
  if (n < 0)
    return fail(t, (int)n, "%s: %s", shown, code_error_message((int)n));
  if (code_entry_type_check(type) < 0)
    return fail(t, CODE_E_TYPE, "%s: entry type %s is not allowed", shown,
                code_entry_type_name(type));
  int err;
  switch (type) {
  case CODE_ENTRY_FILE:
    return make_file(t, shown, h->mode, size);
  case CODE_ENTRY_DIR:
    err = tree_mkdir(&t->tree, t->path, h->mode);
    if (err < 0)
      return fail(t, err, "%s: %s", shown, code_error_message(err));
    break;
  default:
    err = make_symlink(t, shown, link, link_len);
    if (err < 0)
      return err;
    break;
  }
  skip_data(t, size);
  return 0;
}

static int on_header(struct tarx *t) {
  if (tar_block_is_zero(t->block)) {
    t->state = TX_TRAILER;
    return 0;
  }
  struct tar_header h;
  int err = tar_header_parse(t->block, &h);
  if (err == -EBADMSG)
    return fail(t, err, "not a tar archive: bad header magic or checksum at offset %llu",
                (unsigned long long)(t->offset - TAR_BLOCK));
  if (err < 0)
    return fail(t, -EBADMSG, "malformed numeric field in the tar header at offset %llu",
                (unsigned long long)(t->offset - TAR_BLOCK));
  if (h.type == 'x' || h.type == 'g' || h.type == 'L' || h.type == 'K') {
    t->pad = (TAR_BLOCK - h.size % TAR_BLOCK) % TAR_BLOCK;
    return start_meta(t, h.type, h.size);
  }
  return on_entry(t, &h);
}

/* ---- the byte stream ----------------------------------------------------- */

/* After a member's data: its padding, then the next header. */
static void after_data(struct tarx *t) {
  t->left = t->pad;
  t->pad = 0;
  t->state = t->left ? TX_SKIP : TX_HEADER;
}

static int write_data(struct tarx *t, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(t->fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int err = w < 0 ? -errno : -EIO;
      return fail(t, err, "%s: write failed: %s", printable(t->shown, t->path, strlen(t->path)),
                  code_error_message(err));
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Consumes some of p[0..n) in the current state: the count, or -errno. */
static long step(struct tarx *t, const uint8_t *p, size_t n) {
  size_t take = n;
  if (t->state != TX_HEADER && t->state != TX_TRAILER && take > t->left)
    take = (size_t)t->left;
  int err = 0;
  switch (t->state) {
  case TX_HEADER:
    if (take > TAR_BLOCK - t->block_have)
      take = TAR_BLOCK - t->block_have;
    memcpy(t->block + t->block_have, p, take);
    t->block_have += take;
    t->offset += take;
    if (t->block_have < TAR_BLOCK)
      return (long)take;
    t->block_have = 0;
    err = on_header(t);
    return err < 0 ? err : (long)take;
  case TX_DATA:
    err = write_data(t, p, take);
    break;
  case TX_META:
    memcpy(t->meta + t->meta_len, p, take);
    t->meta_len += take;
    break;
  case TX_SKIP:
    break;
  case TX_TRAILER:
    for (size_t i = 0; i < take; i++)
      if (p[i])
        return fail(t, -EBADMSG, "data after the end-of-archive block at offset %llu",
                    (unsigned long long)(t->offset + i));
    t->offset += take;
    return (long)take;
  }
  if (err < 0)
    return err;
  t->offset += take;
  t->left -= take;
  if (t->left > 0)
    return (long)take;
  if (t->state == TX_DATA) {
    int fd = t->fd;
    t->fd = -1;
    if (close(fd) < 0)
      return fail(t, -errno, "%s: close failed", printable(t->shown, t->path, strlen(t->path)));
  }
  enum tx_state was = t->state;
  after_data(t);
  if (was == TX_META && (err = end_meta(t)) < 0)
    return err;
  return (long)take;
}

int tarx_feed(struct tarx *t, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (!t->err && len > 0) {
    long n = step(t, p, len);
    if (n < 0)
      break;
    p += n;
    len -= (size_t)n;
  }
  return t->err;
}

int tarx_finish(struct tarx *t) {
  if (t->err)
    return t->err;
  if (t->state == TX_TRAILER)
    return 0;
  if (t->offset == 0)
    return fail(t, -EPIPE, "empty archive");
  return fail(t, -EPIPE,
              "truncated archive: it ends at offset %llu, before its end-of-archive "
              "block",
              (unsigned long long)t->offset);
}

const char *tarx_error(const struct tarx *t) { return t->err ? t->msg : ""; }

struct code_totals tarx_totals(const struct tarx *t) {
  return t->totals;
}
