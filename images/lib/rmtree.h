/* rmtree.h - removes a directory tree the image library made itself (a
 * half-unpacked cache entry, a build's staging tree), read-only modes
 * included: each directory is made writable before it is emptied. Never
 * follows a symlink; bounded in depth by the manifest's rules. */
#ifndef HEARTH_IMAGES_RMTREE_H
#define HEARTH_IMAGES_RMTREE_H

/* Removes `name` (relative to dirfd) and everything under it: 0, or the
 * first negative errno met (the rest is still attempted). A missing
 * `name` is 0. */
int img_rmtree(int dirfd, const char *name);

#endif
