/* vmmfind.h - where `hearth` finds hearth-vmm. */
#ifndef HEARTH_CLI_VMMFIND_H
#define HEARTH_CLI_VMMFIND_H

#include <stddef.h>

#define VMMFIND_NAME "hearth-vmm"

/* In order: $HEARTH_VMM (taken as is: it must be executable); beside this
 * program (/proc/self/exe); ../vmm/hearth-vmm relative to it (the build
 * tree, where hearth is build/runtime/hearth); hearth-vmm in $PATH. Writes
 * the path into out. Returns 0, -ENOENT when none is executable, or
 * -ENAMETOOLONG. */
int vmmfind(char *out, size_t cap);

#endif
