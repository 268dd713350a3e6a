/* init_listen.c - the vsock listener of hearth-init (init_listen.h). */
#include "init_listen.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init_log.h"
#include "proto/hearth_abi.h"

int init_listen(uint32_t port) {
  int ls = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) {
    int err = -errno;
    init_log("socket(AF_VSOCK): %s", strerror(-err));
    return err;
  }
  struct hearth_sockaddr_vm addr = {
      .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = HEARTH_VMADDR_CID_ANY};
  const char *step = "bind";
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) == 0) {
    step = "listen";
    if (listen(ls, 1) == 0)
      return ls;
  }
  int err = -errno;
  close(ls);
  init_log("vsock port %u: %s: %s", port, step, strerror(-err));
  return err;
}
