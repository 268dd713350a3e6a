/* vmdir.h - one VM's directory, <state-dir>/vms/<id>: hearth-vmm's vsock
 * Unix socket (and the ones it makes beside it) and the spooled event live
 * there, and it goes with the VM. Ids come from mkdtemp, so concurrent runs
 * never collide. */
#ifndef HEARTH_CLI_VMDIR_H
#define HEARTH_CLI_VMDIR_H

#include <limits.h>
#include <stddef.h>

/* hearth-vmm takes --vsock-uds paths under 100 bytes: sun_path holds 108,
 * and it adds "_<port>" for guest-initiated connections. */
#define VMDIR_SOCK_MAX 99
#define VMDIR_SOCK_NAME "v.sock"
#define VMDIR_API_NAME "a.sock" /* hearth-vmm's --api-sock, when snapshotting */

struct vmdir {
  char path[PATH_MAX];           /* <state-dir>/vms/<id>, "" when none */
  char sock[VMDIR_SOCK_MAX + 1]; /* path/v.sock */
  char api[VMDIR_SOCK_MAX + 1];  /* path/a.sock */
};

/* Creates <state_dir>/vms/<id> (0700), and state_dir and vms/ when missing.
 * Returns 0, -ENAMETOOLONG when the socket path would not fit (checked
 * before anything is created), or another -errno. */
int vmdir_create(struct vmdir *d, const char *state_dir);

/* The length the socket path would have under state_dir. */
size_t vmdir_sock_len(const char *state_dir);

/* Removes the directory and everything in it, never following symlinks.
 * Safe on a vmdir never created or already removed. 0 or the first -errno. */
int vmdir_remove(struct vmdir *d);

/* Removes path and everything in it the same way. 0 or the first -errno. */
int vmdir_rmtree(const char *path);

#endif
