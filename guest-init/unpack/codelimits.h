/* codelimits.h - the one set of rules a code bundle's entries must follow,
 * shared by the guest's extractor (tarx.h) and the host's packer (the
 * hearth CLI, through libarchive): caps on bytes, entries, path length and
 * depth; path and symlink-target checks; the entry types allowed. Pure. */
#ifndef HEARTH_UNPACK_CODELIMITS_H
#define HEARTH_UNPACK_CODELIMITS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct code_limits {
  uint64_t max_bytes; /* file data, summed over the bundle */
  uint64_t max_files; /* entries: files, directories, symlinks */
  size_t max_path;    /* bytes of a path or symlink target, NUL excluded */
  size_t max_depth;   /* components of a path */
};

#define CODE_MAX_BYTES_DEFAULT (256ull << 20)
#define CODE_MAX_FILES_DEFAULT 20000u
#define CODE_MAX_PATH_DEFAULT 1024u
#define CODE_MAX_DEPTH_DEFAULT 64u

/* The defaults above. */
struct code_limits code_limits_default(void);

/* Running totals checked against the limits as entries go by. */
struct code_totals {
  uint64_t files;
  uint64_t bytes;
};

/* Refusals, each its own -errno (code_error_message names them). */
#define CODE_E_EMPTY (-ENOENT)          /* empty path */
#define CODE_E_ABSOLUTE (-EXDEV)        /* absolute path or symlink target */
#define CODE_E_DOTDOT (-EPERM)          /* a ".." component in a path */
#define CODE_E_NUL (-EILSEQ)            /* a NUL byte in a path */
#define CODE_E_TOO_LONG (-ENAMETOOLONG) /* over max_path */
#define CODE_E_TOO_DEEP (-EMLINK)       /* over max_depth components */
#define CODE_E_LINK_ESCAPES (-EACCES)   /* symlink target leaves the tree */
#define CODE_E_TYPE (-EOPNOTSUPP)       /* hard link, device, fifo, socket... */
#define CODE_E_TOO_MANY_FILES (-EMFILE) /* over max_files */
#define CODE_E_TOO_MANY_BYTES (-EFBIG)  /* over max_bytes */

/* A short message for one of the CODE_E_* values (or strerror-like text
 * for another -errno). */
const char *code_error_message(int err);

/* Checks an entry's path (len bytes, which may hold a NUL when it comes
 * from an archive) and writes its normal form to out[cap]: "." and empty
 * components dropped, so "./a//b/" is "a/b". A path naming the tree's root
 * itself ("." or "./") normalises to "" and is CODE_E_EMPTY. Returns the
 * normal form's length, or a CODE_E_* refusal (-ENOSPC when cap is too
 * small for a path within the limits). */
long code_path_check(const struct code_limits *lim, const char *path, size_t len, char *out,
                     size_t cap);

/* Checks the target of a symlink whose normalised path is link_path:
 * relative, within max_path, and staying inside the tree. The rule is
 * stricter than "resolves inside lexically": ".." may only lead the target
 * (as in "../../lib/x"), climbing no higher than the link's directory is
 * deep. A ".." after a normal component ("a/../b") is refused because when
 * "a" is itself a symlink the kernel resolves ".." from where "a" points,
 * not lexically, and a chain of such links could climb out. 0 or CODE_E_*. */
int code_symlink_check(const struct code_limits *lim, const char *link_path, const char *target,
                       size_t target_len);

enum code_entry_type {
  CODE_ENTRY_FILE,
  CODE_ENTRY_DIR,
  CODE_ENTRY_SYMLINK,
  CODE_ENTRY_HARDLINK,
  CODE_ENTRY_CHARDEV,
  CODE_ENTRY_BLOCKDEV,
  CODE_ENTRY_FIFO,
  CODE_ENTRY_SOCKET,
  CODE_ENTRY_OTHER, /* sparse, volume labels, anything else */
};

/* 0 for files, directories and symlinks; CODE_E_TYPE for the rest. */
int code_entry_type_check(enum code_entry_type type);
/* "regular file", "hard link"... for messages. */
const char *code_entry_type_name(enum code_entry_type type);

/* Counts one more entry / bytes more data into t: 0, or
 * CODE_E_TOO_MANY_FILES / CODE_E_TOO_MANY_BYTES (t unchanged). */
int code_count_entry(const struct code_limits *lim, struct code_totals *t);
int code_count_bytes(const struct code_limits *lim, struct code_totals *t, uint64_t bytes);

#endif
