/* imgerr.h - how the image library reports a failure: a negative errno
 * for the program, and one sentence for the person, naming the file or
 * entry and what was wrong with it ("rootfs.tar: usr/bin/python3.11: the
 * SHA-256 of its data differs from the manifest"). The library never
 * prints; the command or hearth-vmm prints the sentence once. */
#ifndef HEARTH_IMAGES_IMGERR_H
#define HEARTH_IMAGES_IMGERR_H

#define IMG_ERR_MAX 512

struct img_err {
  char msg[IMG_ERR_MAX];
};

/* Sets err's message (when err is not NULL) and returns rc, so a failure
 * is reported and propagated in one statement. The first message wins: an
 * error already set is kept (the innermost caller knows most). */
int img_fail(struct img_err *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with "<what>: ". */
void img_err_prefix(struct img_err *err, const char *what);

#endif
