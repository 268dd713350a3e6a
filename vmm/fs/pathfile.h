/* pathfile.h - O_PATH descriptions (see pathfile.c). */
#ifndef HEARTH_VMM_FS_PATHFILE_H
#define HEARTH_VMM_FS_PATHFILE_H

struct vnode;
struct file;

/* A new O_PATH description of vn (which it references). -ENOMEM. */
int pathfile_open(struct vnode *vn, int flags, struct file **out);

#endif
