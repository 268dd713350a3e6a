/* synthfile.h - synthetic read-only text files (/sys attributes,
 * /proc/self/maps): a synthetic node (synth.h) whose content is generated
 * when it is opened, as one snapshot into a bounded buffer that every read
 * of that description then sees (Linux's seq_file for small files). Reads,
 * preads, lseek and fstat work on the snapshot; poll is always ready; any
 * open asking for write access is -EACCES, as for a sysfs attribute with no
 * store method.
 *
 * A kind is a static struct synthfile_kind; a node of that kind is made
 * with synth_new() and a spec whose ops are &synthfile_ops and whose data
 * points at the kind. */
#ifndef HEARTH_VMM_FS_SYNTHFILE_H
#define HEARTH_VMM_FS_SYNTHFILE_H

#include <stddef.h>
#include <sys/types.h>

struct synth_node;

/* Writes the content of node `n` into buf (len bytes of room) and returns
 * the bytes written, or a negative errno that the open then answers.
 * Content that does not fit must be cut where a reader can tell (after a
 * whole line), never in the middle of a record. */
typedef ssize_t synthfile_gen_fn(struct synth_node *n, char *buf, size_t len);

struct synthfile_kind {
  synthfile_gen_fn *generate;
  size_t max_bytes; /* room given to generate: the bound of one snapshot */
  off_t st_size;    /* stat's st_size: 0 like /proc files, 4096 like sysfs */
  blksize_t blksize;
};

/* Vnode ops of every synthetic read-only file: stat (the kind's st_size
 * and st_blksize), access, open (-EACCES for write access; the generator's
 * errno; -ENOMEM), release. */
extern const struct vnode_ops synthfile_ops;

#endif
