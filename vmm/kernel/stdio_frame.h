/* stdio_frame.h - framed stdio for native handlers (hearth_abi.h's
 * HEARTH_IOC_FRAME_STDIO): the program's fds 0/1/2 become the invocation's
 * EVENT / RESPONSE / LOG streams on a vsock connection, and its end writes
 * the RESULT frame. */
#ifndef HEARTH_VMM_KERNEL_STDIO_FRAME_H
#define HEARTH_VMM_KERNEL_STDIO_FRAME_H

#include <stdint.h>

struct vm;
struct file;

/* The ioctl on conn (a connected vsock file); arg is the guest address of
 * a struct hearth_frame_stdio. 0 or -errno (-EFAULT, -EINVAL for non-zero
 * reserved words, -ENOTCONN, -EBUSY when already framing). */
long stdio_frame_attach(struct vm *vm, struct file *conn, uint64_t arg);

/* Called once as the guest ends (vm_stop_*): when framing, ends the
 * RESPONSE and LOG streams and writes RESULT for how the VM stopped. */
void stdio_frame_finish(struct vm *vm);

#endif
