/* imgfix.h - fixtures of the image library's tests: a scratch directory
 * with a fresh key pair, and small images written entry by entry, the tar
 * (rootfs.tar, with libarchive) and the signed manifest separately, so a
 * test can make them disagree in exactly one way. */
#ifndef HEARTH_TESTS_IMGFIX_H
#define HEARTH_TESTS_IMGFIX_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/manifest.h"

struct fx {
  char dir[64];    /* the scratch directory */
  char keys[128];  /* dir/keys: hearth.key, hearth.pub */
  char image[128]; /* dir/img: the image directory */
  char state[128]; /* dir/state: a --state-dir */
};

/* How an item goes into the tar. */
enum fx_kind { FX_PLAIN, FX_HARDLINK, FX_CHARDEV, FX_FIFO };

struct fx_item {
  const char *path;
  enum manifest_type type;
  unsigned mode;
  int64_t mtime;
  const char *data;   /* file contents; a hard link's target path */
  const char *target; /* symlink target */
  enum fx_kind kind;
  const uint64_t *sites; /* the manifest's syscall sites of a file, nsites of them */
  size_t nsites;
};

/* Makes the scratch directory with a key pair in it. */
void fx_setup(struct fx *f);
void fx_teardown(struct fx *f);

/* rootfs.tar of `image_dir` from items (in the order given). */
void fx_write_tar(const char *image_dir, const struct fx_item *items, size_t n);
/* manifest.json (items listed, sorted as given; sites found by the
 * current finder) and manifest.sig made with the secret key in key_dir. */
void fx_write_manifest(const char *image_dir, const char *key_dir, const struct fx_item *items,
                       size_t n);
/* Both, from the same items, into f->image signed by f->keys. */
void fx_write_image(struct fx *f, const struct fx_item *items, size_t n);

/* Flips one bit of the file at byte `off` (negative: from the end). */
void fx_flip_byte(const char *path, long off);
/* Replaces the base64 digit at byte `off` by another base64 digit. */
void fx_change_b64(const char *path, long off);
/* "<dir>/<name>" into out, failing the test when it does not fit. */
void fx_path(char *out, size_t cap, const char *dir, const char *name);
/* The offset of the first occurrence of `needle` in the file, or -1. */
long fx_find(const char *path, const char *needle);

/* A small image: directories, files (one executable), a symlink. */
extern const struct fx_item fx_small[];
extern const size_t fx_small_n;

#endif
