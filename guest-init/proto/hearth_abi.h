/* hearth_abi.h - the binary interfaces between a guest program and
 * hearth-vmm beyond Linux's own: the AF_VSOCK address (spelled out here so
 * musl builds need no kernel headers) and the one hearth-specific ioctl. */
#ifndef HEARTH_PROTO_ABI_H
#define HEARTH_PROTO_ABI_H

#include <stdint.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define HEARTH_VMADDR_CID_ANY 0xffffffffu
#define HEARTH_VMADDR_CID_LOCAL 1u
#define HEARTH_VMADDR_CID_HOST 2u
#define HEARTH_VMADDR_PORT_ANY 0xffffffffu

/* Linux's struct sockaddr_vm (16 bytes). */
struct hearth_sockaddr_vm {
  uint16_t svm_family; /* AF_VSOCK */
  uint16_t svm_reserved1;
  uint32_t svm_port;
  uint32_t svm_cid;
  uint8_t svm_flags;
  uint8_t svm_zero[3];
};

/* ioctl(conn_fd, HEARTH_IOC_FRAME_STDIO, &arg) on a connected vsock socket
 * whose peer has just sent an INVOKE frame (PROTOCOL.md): from now on the
 * calling program's fds 0, 1 and 2 are the invocation — 0 reads the EVENT
 * stream's bytes (EOF at its END), 1 writes RESPONSE DATA frames and 2 LOG
 * DATA frames, each up to its cap — and when the program ends (exit_group,
 * a fatal signal, the VM's timeout) hearth-vmm ends both streams and writes
 * the RESULT frame. It survives execve: hearth-init calls it, then execs
 * the native handler. A kernel without it answers -ENOTTY. */
struct hearth_frame_stdio {
  uint64_t response_cap; /* bytes; 0: HF_RESPONSE_CAP_DEFAULT */
  uint64_t log_cap;      /* bytes; 0: HF_LOG_CAP_DEFAULT */
  uint64_t reserved[2];  /* must be 0 */
};
/* _IOW('H', 1, struct hearth_frame_stdio) */
#define HEARTH_IOC_FRAME_STDIO                                                                     \
  ((1u << 30) | ((uint32_t)sizeof(struct hearth_frame_stdio) << 16) | ('H' << 8) | 1u)

#endif
