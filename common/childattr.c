/* childattr.c - a supervised child's spawn attributes (childattr.h). */
#include "childattr.h"

#include <errno.h>
#include <signal.h>

int childattr_set(posix_spawnattr_t *at, const int *defaults, size_t n) {
  sigset_t none, to_default;
  sigemptyset(&none);
  sigemptyset(&to_default);
  for (size_t i = 0; i < n; i++)
    if (sigaddset(&to_default, defaults[i]) != 0)
      return EINVAL;
  int rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
  if (rc == 0)
    rc = posix_spawnattr_setpgroup(at, 0);
  if (rc == 0)
    rc = posix_spawnattr_setsigmask(at, &none);
  if (rc == 0)
    rc = posix_spawnattr_setsigdefault(at, &to_default);
  return rc;
}
