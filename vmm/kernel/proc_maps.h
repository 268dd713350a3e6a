/* proc_maps.h - the text of the guest's /proc/self/maps, made from its
 * mappings (vma.h) for the vfs (vfs_config.maps). */
#ifndef HEARTH_VMM_KERNEL_PROC_MAPS_H
#define HEARTH_VMM_KERNEL_PROC_MAPS_H

#include <stddef.h>
#include <sys/types.h>

struct vma_space;

/* Writes the mappings of `s`, lowest first, one line each in Linux's
 * format: "start-end perms offset major:minor inode", then, for a mapping
 * with a name, spaces up to column 73 and the name (a file's guest path
 * with '\n' as "\012", an image's path, [heap], [stack], [vvar], [vdso]).
 * Only whole lines go into buf: those that do not fit in len bytes are
 * left out. Returns the bytes written. */
size_t proc_maps_format(const struct vma_space *s, char *buf, size_t len);

/* The vfs's maps generator: proc_maps_format of ((struct vm *)vm)->vmas. */
ssize_t proc_maps_generate(void *vm, char *buf, size_t len);

#endif
