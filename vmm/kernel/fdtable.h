/* fdtable.h - the guest's file descriptor table: small integers to shared
 * open file descriptions, with the close-on-exec bit per descriptor. Bounded
 * by RLIMIT_NOFILE (EMFILE), as Linux does. */
#ifndef HEARTH_VMM_FDTABLE_H
#define HEARTH_VMM_FDTABLE_H

#include <stdbool.h>

struct file;

#define FDTABLE_HARD_MAX 4096 /* RLIMIT_NOFILE hard limit we offer */
#define FDTABLE_DEFAULT_MAX 1024

struct fdtable {
  struct fd_slot {
    struct file *file;
    bool cloexec;
  } * slots;
  int cap;   /* allocated slots */
  int limit; /* RLIMIT_NOFILE soft limit */
  int used;
};

void fdtable_init(struct fdtable *t);
void fdtable_fini(struct fdtable *t); /* closes everything */

/* Installs `f` (taking over the caller's reference on success) at the
 * lowest free descriptor >= minfd. Returns it, -EMFILE or -ENOMEM. */
int fdtable_install(struct fdtable *t, struct file *f, bool cloexec, int minfd);
/* Installs at exactly `fd`, closing what was there (dup2 semantics). */
int fdtable_install_at(struct fdtable *t, int fd, struct file *f, bool cloexec);
/* The description behind fd (borrowed: valid until the next close), or NULL. */
struct file *fdtable_get(const struct fdtable *t, int fd);
int fdtable_close(struct fdtable *t, int fd); /* 0 or -EBADF */
/* execve: closes every descriptor marked close-on-exec. */
void fdtable_close_on_exec(struct fdtable *t);
int fdtable_get_cloexec(const struct fdtable *t, int fd);
int fdtable_set_cloexec(struct fdtable *t, int fd, bool on);
/* Number of open descriptors, and the highest one + 1. */
int fdtable_count(const struct fdtable *t);
int fdtable_end(const struct fdtable *t);

#endif
