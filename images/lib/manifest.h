/* manifest.h - an image's manifest.json: what the guest runs (name,
 * runtime, entrypoint, environment) and every entry of rootfs.tar.
 *
 *   {"version":1,"name":S,"runtime":"native"|"python","entrypoint":[S,...],
 *    "env":{S:S,...},"sites_finder":N,
 *    "entries":[{"path":S,"type":"file"|"dir"|"symlink","mode":N,"mtime":N,
 *                "size":N,"sha256":S,"sites":[N,...]     (files)
 *                "target":S}                              (symlinks)
 *              ,...]}
 *
 * Paths are relative to the image root ("usr/bin/python3.11"): no leading
 * or trailing '/', no empty, "." or ".." component, at most
 * MANIFEST_MAX_DEPTH components; entries are sorted by
 * path (byte order) with no duplicates, and every entry's parent is a
 * "dir" entry (so it comes earlier). mode is the permission bits only (no
 * setuid, setgid or sticky bit), mtime whole seconds, sha256 lower-case
 * hex of the file's data. `sites` (ELF files the site finder accepted, maybe
 * empty) are the file offsets of its `syscall` instructions
 * (vmm/loader/filesites.h), found by finder version `sites_finder` (0: no
 * entry has sites). Numbers are integers below 10^15, so they print
 * exactly. Unknown members are ignored.
 *
 * The manifest is signed as bytes (sign.h); manifest_write makes the same
 * bytes from the same manifest (members in a fixed order, no spaces), so
 * images build reproducibly. */
#ifndef HEARTH_IMAGES_MANIFEST_H
#define HEARTH_IMAGES_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imgerr.h"
#include "loader/digest.h"
#include "loader/filesites.h"

#define MANIFEST_VERSION 1
#define MANIFEST_MAX_BYTES (64u << 20)
#define MANIFEST_MAX_ENTRIES 200000u
#define MANIFEST_MAX_PATH 4095u /* bytes of a path or a symlink target */
#define MANIFEST_MAX_COMPONENT 255u
#define MANIFEST_MAX_DEPTH 128u /* components of a path */
#define MANIFEST_MAX_ARGS 256u
#define MANIFEST_MAX_ENV 256u
#define MANIFEST_MAX_STRING 4096u /* an argument, a variable's name or value */
#define MANIFEST_MAX_NAME 64u     /* the image's name */
#define MANIFEST_MAX_FILE_BYTES (4ull << 30)
#define MANIFEST_MAX_TOTAL_BYTES (16ull << 30)
#define MANIFEST_MAX_INT 999999999999999ull /* below 10^15 */
#define MANIFEST_NONE SIZE_MAX

enum manifest_type { MANIFEST_FILE, MANIFEST_DIR, MANIFEST_SYMLINK };

struct manifest_entry {
  char *path;
  enum manifest_type type;
  uint32_t mode;                     /* permission bits, at most 0777 */
  int64_t mtime;                     /* seconds since the epoch */
  uint64_t size;                     /* files; 0 otherwise */
  uint8_t sha256[DIGEST_SHA256_LEN]; /* files */
  char *target;                      /* symlinks; NULL otherwise */
  bool has_sites;                    /* files the site finder accepted */
  struct file_sites sites;
  size_t parent; /* index of the parent "dir" entry; MANIFEST_NONE at the top */
};

struct manifest {
  char *name;
  char *runtime;
  char **entrypoint; /* nentrypoint strings, at least one */
  size_t nentrypoint;
  char **env; /* "NAME=VALUE", nenv of them */
  size_t nenv;
  unsigned sites_finder;
  struct manifest_entry *entries;
  size_t n;
  uint64_t total_bytes; /* sum of the files' sizes */
};

/* Parses and validates json[0, len) (at most MANIFEST_MAX_BYTES) into
 * *out, which owns everything it points at (manifest_free). On failure
 * *out is empty and err names the entry and the problem. */
int manifest_parse(const char *json, size_t len, struct manifest *out, struct img_err *err);

/* Serializes m (whose entries must be sorted and valid: manifest_check)
 * into a new NUL-terminated buffer of *len bytes, ending in a newline. */
int manifest_write(const struct manifest *m, char **out, size_t *len, struct img_err *err);

/* Validates a manifest made in memory (the builder's) by the rules above,
 * and fills its parent indexes and total_bytes. */
int manifest_check(struct manifest *m, struct img_err *err);

/* The index of the entry with this path, or MANIFEST_NONE. */
size_t manifest_find(const struct manifest *m, const char *path);

/* A path as the manifest wants it: 0, or -EINVAL with *why set. */
int manifest_check_path(const char *path, const char **why);

void manifest_free(struct manifest *m);

/* "file", "dir" or "symlink". */
const char *manifest_type_name(enum manifest_type t);

#endif
