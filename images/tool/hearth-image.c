/* hearth-image.c - hearth's image tool:
 *   hearth-image keygen --out DIR
 *   hearth-image build RECIPE_DIR --key DIR/hearth.key --out IMAGE_DIR [--set NAME=VALUE]...
 *   hearth-image verify --trust DIR IMAGE_DIR
 * Exit status: 0 done, 1 failed (the image does not verify, the build
 * failed), 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "lib/keys.h"
#include "lib/verify.h"
#include "recipe.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

static void usage(FILE *to) {
  fprintf(to, "usage: hearth-image keygen --out DIR\n"
              "       hearth-image build RECIPE_DIR --key KEYFILE --out IMAGE_DIR "
              "[--set NAME=VALUE]...\n"
              "       hearth-image verify --trust DIR IMAGE_DIR\n"
              "\n"
              "keygen: a new ed25519 key pair, DIR/hearth.key (secret, 0600) and DIR/hearth.pub.\n"
              "build: the image of RECIPE_DIR/recipe.json, signed with KEYFILE, into IMAGE_DIR\n"
              "  (rootfs.tar, manifest.json, manifest.sig); --set gives a recipe variable.\n"
              "verify: exit 0 when IMAGE_DIR is signed by a key of DIR/*.pub and its rootfs.tar\n"
              "  matches its manifest; otherwise a message naming what failed, exit 1.\n");
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "hearth-image: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  usage(stderr);
  return EXIT_USAGE;
}

static int failed(const char *command, const struct img_err *err) {
  fprintf(stderr, "hearth-image: %s: %s\n", command, err->msg[0] ? err->msg : "failed");
  return EXIT_FAILED;
}

/* getopt_long over argv (argv[0] is the command); 0 or EXIT_USAGE. */
static int parse(int argc, char **argv, const struct option *opts, int (*take)(int, void *),
                 void *ctx) {
  optind = 1;
  opterr = 0;
  for (int opt; (opt = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    if (opt == '?' || opt == ':')
      return usage_error("%s: unknown option or missing value", argv[optind - 1]);
    if (take(opt, ctx))
      return EXIT_USAGE;
  }
  return 0;
}

static int take_out(int opt, void *ctx) {
  *(const char **)ctx = optarg;
  return 0;
}

static int cmd_keygen(int argc, char **argv) {
  static const struct option opts[] = {{"out", required_argument, NULL, 'o'}, {0}};
  const char *out = NULL;
  struct img_err err = {{0}};
  int rc = parse(argc, argv, opts, take_out, &out);
  if (rc)
    return rc;
  if (!out || optind != argc)
    return usage_error("%s: want --out DIR and nothing else", "keygen");
  if (img_keygen(out, &err) < 0)
    return failed("keygen", &err);
  printf("%s/" IMG_SECRET_NAME " and %s/" IMG_PUBLIC_NAME "\n", out, out);
  return 0;
}

struct build_args {
  struct build_options o;
  char *sets[RECIPE_MAX_VARS];
};

static int take_build(int opt, void *ctx) {
  struct build_args *b = ctx;
  if (opt == 'k')
    b->o.key_path = optarg;
  else if (opt == 'o')
    b->o.out_dir = optarg;
  else if (b->o.nsets == RECIPE_MAX_VARS || !strchr(optarg, '='))
    return usage_error("--set %s: want NAME=VALUE (at most 64)", optarg);
  else
    b->sets[b->o.nsets++] = optarg;
  return 0;
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void report(const char *out, const struct build_report *r, double seconds) {
  fprintf(stderr,
          "hearth-image: built %s in %.1f s (key %s): %zu entries (%zu files, %zu directories, "
          "%zu symlinks), %.1f MiB of files, rootfs.tar %.1f MiB, manifest.json %.0f KiB; "
          "%zu ELF files with %zu syscall sites, %zu libraries from the closure, %zu .pyc files\n",
          out, seconds, r->key_id, r->entries, r->pack.files, r->pack.dirs, r->pack.symlinks,
          (double)r->pack.bytes / 1048576.0, (double)r->tar_bytes / 1048576.0,
          (double)r->manifest_bytes / 1024.0, r->pack.elf_files, r->pack.sites, r->libraries,
          r->pyc_files);
}

static int cmd_build(int argc, char **argv) {
  static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"set", required_argument, NULL, 's'},
                                       {0}};
  struct build_args b = {0};
  struct build_report rep;
  struct img_err err = {{0}};
  int rc = parse(argc, argv, opts, take_build, &b);
  if (rc)
    return rc;
  if (!b.o.key_path || !b.o.out_dir || optind != argc - 1)
    return usage_error("%s: want RECIPE_DIR --key KEYFILE --out IMAGE_DIR", "build");
  b.o.recipe_dir = argv[optind];
  b.o.sets = b.sets;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (image_build(&b.o, &rep, &err) < 0)
    return failed("build", &err);
  report(b.o.out_dir, &rep, seconds_since(&t0));
  return 0;
}

static int cmd_verify(int argc, char **argv) {
  static const struct option opts[] = {{"trust", required_argument, NULL, 't'}, {0}};
  const char *trust = NULL;
  struct img_err err = {{0}};
  int rc = parse(argc, argv, opts, take_out, &trust);
  if (rc)
    return rc;
  if (!trust || optind != argc - 1)
    return usage_error("%s: want --trust DIR IMAGE_DIR", "verify");
  struct manifest m;
  if (img_verify(argv[optind], trust, NULL, &m, &err) < 0)
    return failed("verify", &err);
  printf("%s: verified: image %s (%s), %zu entries, %llu bytes of files\n", argv[optind], m.name,
         m.runtime, m.n, (unsigned long long)m.total_bytes);
  manifest_free(&m);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage_error("%s", "no command given");
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("hearth-image %s\n", HEARTH_VERSION);
    return 0;
  }
  if (strcmp(cmd, "keygen") == 0)
    return cmd_keygen(argc - 1, argv + 1);
  if (strcmp(cmd, "build") == 0)
    return cmd_build(argc - 1, argv + 1);
  if (strcmp(cmd, "verify") == 0)
    return cmd_verify(argc - 1, argv + 1);
  return usage_error("unknown command '%s'", cmd);
}
