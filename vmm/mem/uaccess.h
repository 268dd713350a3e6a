/* uaccess.h - the one checked way in and out of guest memory.
 *
 * Every pointer a system call receives goes through these: they translate
 * guest-virtual addresses with the VM's page tables, reject overflow,
 * non-canonical, unmapped and (for writes) read-only addresses with -EFAULT,
 * and never hand out a host pointer that outlives the call. Guest memory can
 * change under us (it is the guest's), so callers copy in, validate the copy,
 * and copy out; they never cast a guest pointer to a struct. */
#ifndef HEARTH_VMM_UACCESS_H
#define HEARTH_VMM_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct gmem;

/* Host pointer to [gva, gva+len) when the range is mapped with the access
 * asked for and contiguous in host memory; NULL otherwise. len may be 0
 * (then gva need not be mapped, and a non-NULL dummy is returned). */
void *uaccess_ptr(const struct gmem *m, uint64_t gva, size_t len, bool write);

/* 0 or -EFAULT; nothing partial is reported as success. */
int uaccess_copy_from(const struct gmem *m, void *dst, uint64_t gva, size_t len);
int uaccess_copy_to(const struct gmem *m, uint64_t gva, const void *src, size_t len);
int uaccess_zero(const struct gmem *m, uint64_t gva, size_t len);

/* Copies a NUL-terminated string of at most cap-1 bytes into dst. Returns its
 * length, -EFAULT, or -ENAMETOOLONG when no NUL is found within cap-1. */
long uaccess_strncpy_from(const struct gmem *m, char *dst, uint64_t gva, size_t cap);

/* Describes the guest buffer [gva, gva+len) as host iovecs (adjacent pages
 * merged), at most `max` of them. Returns how many were filled and stores the
 * bytes they cover in *covered (less than len when `max` ran out: callers
 * loop), or -EFAULT when the first byte is not accessible. A fault after the
 * first page ends the description early, as Linux's short reads do. */
int uaccess_iov(const struct gmem *m, uint64_t gva, size_t len, bool write, struct iovec *iov,
                int max, size_t *covered);

#endif
