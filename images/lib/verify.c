/* verify.c - an image directory checked whole (see verify.h). */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "sign.h"

int img_signed_manifest(int imgfd, const struct img_trust *trust, char **bytes, size_t *len,
                        struct img_err *err) {
  char *sig;
  size_t sig_len;
  int rc = img_read_file(imgfd, IMG_MANIFEST_NAME, IMG_MANIFEST_NAME, MANIFEST_MAX_BYTES, bytes,
                         len, err);
  if (rc)
    return rc;
  rc = img_read_file(imgfd, IMG_SIG_NAME, IMG_SIG_NAME, IMG_SIG_MAX_BYTES, &sig, &sig_len, err);
  if (!rc) {
    rc = img_sign_check(trust, *bytes, *len, sig, sig_len, err);
    free(sig);
  }
  if (rc) {
    free(*bytes);
    *bytes = NULL;
  }
  return rc;
}

/* rootfs.tar, a regular file (O_NONBLOCK: a FIFO there must not have
 * open() wait for a writer; a device, even through a symlink, is refused). */
static int open_rootfs(int imgfd, struct img_err *err) {
  int fd = openat(imgfd, IMG_ROOTFS_NAME, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return img_fail(err, -errno, IMG_ROOTFS_NAME ": %s", strerror(errno));
  struct stat st;
  int rc = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
  if (rc == 0 && fcntl(fd, F_SETFL, 0) < 0)
    rc = -errno;
  if (rc < 0) {
    close(fd);
    return img_fail(err, rc, IMG_ROOTFS_NAME ": %s",
                    rc == -EINVAL ? "not a regular file" : strerror(-rc));
  }
  return fd;
}

int img_verify_tar(int imgfd, const struct manifest *m, const struct tar_sink *sink,
                   struct img_err *err) {
  int fd = open_rootfs(imgfd, err);
  if (fd < 0)
    return fd;
  int rc = tarcheck_stream(fd, m, sink, err);
  close(fd);
  return rc;
}

static int verify_in(int imgfd, const struct img_trust *trust, const struct tar_sink *sink,
                     struct manifest *m, struct img_err *err) {
  char *bytes = NULL;
  size_t len;
  int rc = img_signed_manifest(imgfd, trust, &bytes, &len, err);
  if (!rc)
    rc = manifest_parse(bytes, len, m, err);
  free(bytes);
  if (!rc && (rc = img_verify_tar(imgfd, m, sink, err)))
    manifest_free(m);
  return rc;
}

int img_verify(const char *image_dir, const char *trust_dir, const struct tar_sink *sink,
               struct manifest *m, struct img_err *err) {
  *m = (struct manifest){0};
  struct img_trust *trust = malloc(sizeof *trust);
  int rc = trust ? img_load_trust(trust_dir, trust, err) : img_fail(err, -ENOMEM, "out of memory");
  if (rc) {
    free(trust);
    return rc;
  }
  int imgfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  rc = imgfd < 0 ? img_fail(err, -errno, "%s", strerror(errno))
                 : verify_in(imgfd, trust, sink, m, err);
  if (imgfd >= 0)
    close(imgfd);
  free(trust);
  if (rc)
    img_err_prefix(err, image_dir);
  return rc;
}
