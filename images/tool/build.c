/* build.c - a recipe into a signed image directory (see build.h). */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "closure.h"
#include "lib/fileio.h"
#include "lib/keys.h"
#include "lib/rmtree.h"
#include "lib/sign.h"
#include "lib/verify.h"
#include "packages.h"
#include "pycompile.h"
#include "recipe.h"
#include "stage.h"

static const char *const merged_usr[] = {"bin", "sbin", "lib", "lib64"};

/* One build in progress. */
struct job {
  const struct build_options *o;
  struct recipe r;
  struct img_seckey key;
  struct stage s;
  char work[PATH_MAX]; /* private directory beside the output */
  int workfd;
  struct build_report *rep;
  struct img_err *err;
};

static int stage_recipe_files(struct job *j) {
  for (size_t i = 0; i < j->r.nfiles; i++) {
    const struct recipe_file *f = &j->r.files[i];
    char rel[PATH_MAX];
    struct stat st;
    if (!f->src)
      continue; /* inline contents come later, stamped */
    int rc = stage_guest_path(f->dst, rel, sizeof rel, j->err);
    if (rc)
      return rc;
    if (stat(f->src, &st) < 0)
      return img_fail(j->err, -errno, "recipe file %s: %s", f->src, strerror(errno));
    rc = S_ISDIR(st.st_mode)
             ? stage_copy_tree(&j->s, f->src, rel, j->err)
             : stage_copy(&j->s, f->src, rel, f->mode >= 0 ? (mode_t)f->mode : st.st_mode,
                          STAGE_DUP_FAIL, j->err);
    if (rc)
      return rc;
  }
  return 0;
}

/* What the build makes itself, with mtime `stamp`. */
static int stage_made(struct job *j, int64_t stamp) {
  int rc = 0;
  for (size_t i = 0; !rc && j->r.merged_usr && i < sizeof merged_usr / sizeof *merged_usr; i++) {
    char dir[16]; /* "usr/bin": the directory, and the link's target */
    snprintf(dir, sizeof dir, "usr/%s", merged_usr[i]);
    rc = stage_mkdirs(&j->s, dir, j->err);
    if (!rc)
      rc = stage_symlink(&j->s, merged_usr[i], dir, stamp, j->err);
  }
  for (size_t i = 0; !rc && i < j->r.nfiles; i++) {
    const struct recipe_file *f = &j->r.files[i];
    char rel[PATH_MAX];
    if (f->content && !(rc = stage_guest_path(f->dst, rel, sizeof rel, j->err)))
      rc = stage_put(&j->s, rel, f->content, strlen(f->content), (mode_t)f->mode, stamp, j->err);
  }
  for (size_t i = 0; !rc && i < j->r.nlinks; i++) {
    char rel[PATH_MAX];
    if (!(rc = stage_guest_path(j->r.links[i].path, rel, sizeof rel, j->err)))
      rc = stage_symlink(&j->s, rel, j->r.links[i].target, stamp, j->err);
  }
  return rc;
}

static int stage_all(struct job *j) {
  int rc = 0;
  for (size_t i = 0; !rc && i < j->r.npackages; i++)
    rc = packages_stage(&j->s, j->r.packages[i], j->r.excludes, j->r.nexcludes,
                        &j->rep->package_paths, j->err);
  if (!rc)
    rc = stage_recipe_files(j);
  if (!rc && j->r.libraries)
    rc = closure_stage(&j->s, &j->rep->libraries, j->err);
  int64_t stamp = j->s.newest;
  if (!rc)
    rc = stage_made(j, stamp);
  if (!rc && j->r.python_compile)
    rc = pycompile_run(&j->s, j->r.python, j->r.compile_dirs, j->r.ncompile_dirs, stamp,
                       &j->rep->pyc_files, j->err);
  return rc;
}

/* The entrypoint's program must be an executable file of the image,
 * resolved as the guest will (absolute symlinks inside the image). */
static int check_entrypoint(struct job *j) {
  const char *prog = j->r.entrypoint[0];
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  long fd = prog[0] == '/' ? syscall(SYS_openat2, j->s.rootfd, prog, &how, sizeof how) : -1;
  struct stat st;
  int ok = fd >= 0 && fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
  if (fd >= 0)
    close((int)fd);
  return ok ? 0
            : img_fail(j->err, -ENOENT,
                       "recipe: entrypoint %s is not an executable file of the image", prog);
}

static char **copy_strings(char *const *v, size_t n) {
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!(out[i] = strdup(v[i]))) {
      for (size_t k = 0; k < i; k++)
        free(out[k]);
      free(out);
      return NULL;
    }
  return out;
}

static int manifest_head(struct job *j, struct manifest *m) {
  *m = (struct manifest){
      .sites_finder = FILESITES_FINDER_VERSION, .nentrypoint = j->r.nentrypoint, .nenv = j->r.nenv};
  m->name = strdup(j->r.name);
  m->runtime = strdup(j->r.runtime);
  m->entrypoint = copy_strings(j->r.entrypoint, j->r.nentrypoint);
  m->env = copy_strings(j->r.env, j->r.nenv);
  if (!m->name || !m->runtime || !m->entrypoint || !m->env)
    return img_fail(j->err, -ENOMEM, "out of memory");
  return 0;
}

/* manifest.json and manifest.sig for m. */
static int write_signed(struct job *j, struct manifest *m) {
  char *text = NULL, *sig = NULL;
  size_t len, sig_len;
  int rc = manifest_check(m, j->err);
  if (!rc)
    rc = manifest_write(m, &text, &len, j->err);
  if (!rc)
    rc = img_sign(&j->key, text, len, &sig, &sig_len, j->err);
  if (!rc)
    rc = img_write_file(j->workfd, IMG_MANIFEST_NAME, IMG_MANIFEST_NAME, text, len, 0644, false,
                        j->err);
  if (!rc)
    rc = img_write_file(j->workfd, IMG_SIG_NAME, IMG_SIG_NAME, sig, sig_len, 0644, false, j->err);
  j->rep->manifest_bytes = len;
  free(text);
  free(sig);
  return rc;
}

static int pack_and_sign(struct job *j) {
  struct manifest m;
  int rc = manifest_head(j, &m);
  int tarfd = rc ? -1
                 : openat(j->workfd, IMG_ROOTFS_NAME,
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (!rc && tarfd < 0)
    rc = img_fail(j->err, -errno, IMG_ROOTFS_NAME ": %s", strerror(errno));
  if (!rc)
    rc = pack_tree(j->s.rootfd, tarfd, j->s.newest, &m, &j->rep->pack, j->err);
  struct stat st;
  if (!rc && (fsync(tarfd) < 0 || fstat(tarfd, &st) < 0))
    rc = img_fail(j->err, -errno, IMG_ROOTFS_NAME ": %s", strerror(errno));
  if (tarfd >= 0)
    close(tarfd);
  if (!rc) {
    j->rep->tar_bytes = (uint64_t)st.st_size;
    j->rep->entries = m.n;
    rc = write_signed(j, &m);
  }
  manifest_free(&m);
  return rc;
}

/* The finished image takes the output's place; an older one there is
 * swapped out (one rename) and then removed. */
static int install(struct job *j) {
  struct stat st;
  const char *out = j->o->out_dir;
  bool exists = lstat(out, &st) == 0;
  if (exists && !S_ISDIR(st.st_mode))
    return img_fail(j->err, -ENOTDIR, "%s: exists and is not a directory", out);
  if (renameat2(AT_FDCWD, j->work, AT_FDCWD, out, exists ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0)
    return img_fail(j->err, -errno, "cannot move the image to %s: %s", out, strerror(errno));
  if (exists)
    img_rmtree(AT_FDCWD, j->work); /* the old image, now here */
  return 0;
}

/* A private directory beside the output (its trailing '/'s ignored). */
static int make_work_dir(struct job *j) {
  size_t len = strlen(j->o->out_dir);
  while (len > 1 && j->o->out_dir[len - 1] == '/')
    len--;
  if (snprintf(j->work, sizeof j->work, "%.*s.tmp-XXXXXX", (int)len, j->o->out_dir) >=
      (int)sizeof j->work)
    return img_fail(j->err, -ENAMETOOLONG, "%s: path too long", j->o->out_dir);
  if (!mkdtemp(j->work)) {
    int rc = img_fail(j->err, -errno, "cannot create %s: %s", j->work, strerror(errno));
    j->work[0] = '\0';
    return rc;
  }
  j->workfd = open(j->work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (j->workfd >= 0 && fchmod(j->workfd, 0755) < 0) /* mkdtemp made it 0700 */
    return img_fail(j->err, -errno, "%s: %s", j->work, strerror(errno));
  return j->workfd < 0 ? img_fail(j->err, -errno, "%s: %s", j->work, strerror(errno)) : 0;
}

static int run(struct job *j) {
  int rc = recipe_load(j->o->recipe_dir, j->o->sets, j->o->nsets, &j->r, j->err);
  if (rc || (rc = img_load_secret(j->o->key_path, &j->key, j->err)))
    return rc;
  memcpy(j->rep->key_id, j->key.pub.id, sizeof j->rep->key_id);
  if ((rc = make_work_dir(j)) || (rc = stage_open(&j->s, j->work, j->err)))
    return rc;
  rc = stage_all(j);
  if (!rc)
    rc = check_entrypoint(j);
  if (!rc)
    rc = pack_and_sign(j);
  stage_close(&j->s);
  if (!rc && (rc = img_rmtree(j->workfd, "stage")) < 0)
    img_fail(j->err, rc, "cannot remove %s/stage: %s", j->work, strerror(-rc));
  return rc ? rc : install(j);
}

int image_build(const struct build_options *o, struct build_report *rep, struct img_err *err) {
  struct job j = {.o = o, .workfd = -1, .rep = rep, .err = err, .s = {.rootfd = -1}};
  *rep = (struct build_report){0};
  int rc = run(&j);
  if (j.workfd >= 0)
    close(j.workfd);
  if (rc && j.work[0])
    img_rmtree(AT_FDCWD, j.work);
  recipe_free(&j.r);
  img_seckey_wipe(&j.key);
  return rc;
}
