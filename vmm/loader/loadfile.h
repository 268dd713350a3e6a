/* loadfile.h - the file a program (or, later, its interpreter) is loaded
 * from: opened through the guest's vfs, so it is always inside the guest
 * root, and read with the file's own pread, into host buffers or straight
 * into guest memory. */
#ifndef HEARTH_VMM_LOADER_LOADFILE_H
#define HEARTH_VMM_LOADER_LOADFILE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct file;

#define LOADFILE_IOV_MAX 16 /* host iovecs per pread into guest memory */

struct load_file {
  struct file *file; /* one reference, dropped by load_file_close */
  uint64_t size;
  const char *path; /* guest path as given, for log lines (borrowed) */
};

/* Opens the guest path `path` (relative to the working directory) for
 * loading: it must be a regular file with an execute bit. Logs one line
 * and returns the vfs's error when it cannot be opened (-ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG, -EACCES, -ENOMEM...), or -EACCES when it is not a
 * regular file with an execute bit (a directory included, as execve). */
int load_file_open(struct vm *vm, const char *path, struct load_file *out);
void load_file_close(struct load_file *lf);

/* Reads exactly len bytes at file offset off into buf. -EIO when the file
 * ends early (it changed under us) or the read fails. Logs the failure. */
int load_file_read(const struct load_file *lf, void *buf, size_t len, uint64_t off);

/* Reads [off, off+len) into a new host buffer (*out, free() it); len must
 * already be bounded by the caller. 0, -ENOMEM or -EIO. */
int load_file_read_alloc(const struct load_file *lf, uint64_t off, size_t len, uint8_t **out);

/* Reads exactly len bytes at file offset off into guest memory at gva,
 * which must be mapped writable. -EIO (logged) or -EFAULT (logged: the
 * caller did not map the range). */
int load_file_read_guest(struct vm *vm, const struct load_file *lf, uint64_t gva, size_t len,
                         uint64_t off);

#endif
