/* childattr.h - the posix_spawn attributes of a child hearth supervises and
 * may have to end (hearth-vmm under `hearth run`, a benchmark's measured
 * command): its own process group, no signal blocked, and the signals its
 * parent catches or ignores back at their default. */
#ifndef HEARTH_COMMON_CHILDATTR_H
#define HEARTH_COMMON_CHILDATTR_H

#include <spawn.h>
#include <stddef.h>

/* Sets the flags, process group, mask and default signals on an initialised
 * *at. Its own process group: killing the group ends whatever the child
 * started, and a terminal's ^C reaches only the parent, which ends the child
 * itself. defaults[0..n): set to their default disposition, since an ignored
 * signal stays ignored across exec. Returns 0 or a positive errno, as the
 * posix_spawn functions do. */
int childattr_set(posix_spawnattr_t *at, const int *defaults, size_t n);

#endif
