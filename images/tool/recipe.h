/* recipe.h - an image recipe: RECIPE_DIR/recipe.json, what `hearth-image
 * build` puts in an image (images/README.md documents the format):
 *
 *   {"name":S, "runtime":"native"|"python",
 *    "variables":{"NAME":"default" | null (must be --set)},
 *    "packages":[S...],            Debian packages whose installed files go in
 *    "exclude":[S...],             fnmatch patterns of guest paths left out
 *    "files":[{"src":S,"dst":S,"mode":"0755"}     a host file or directory tree
 *            |{"content":S,"dst":S,"mode":"0644"}],  inline text
 *    "symlinks":[{"path":S,"target":S}],
 *    "merged_usr":B,               /bin /sbin /lib /lib64 as symlinks into /usr
 *    "libraries":B,                the shared-library closure of every ELF file
 *    "python_compile":{"enabled":"yes"|"no","python":S,"dirs":[S...]},
 *    "entrypoint":[S...], "env":{S:S}}
 *
 * "@NAME@" in any string is replaced by the variable's value (`--set
 * NAME=VALUE`, else the recipe's default); a relative "src" is relative to
 * the recipe directory. Everything read is bounded (RECIPE_MAX_*). */
#ifndef HEARTH_IMAGES_TOOL_RECIPE_H
#define HEARTH_IMAGES_TOOL_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/imgerr.h"

#define RECIPE_NAME "recipe.json"
#define RECIPE_MAX_BYTES (1u << 20)
#define RECIPE_MAX_ITEMS 1024u /* of each list */
#define RECIPE_MAX_VARS 64u

struct recipe_file {
  char *src;     /* host path (absolute), or NULL for inline content */
  char *content; /* inline content, or NULL */
  char *dst;     /* guest path */
  int mode;      /* permission bits; -1: the source's own */
};

struct recipe_link {
  char *path, *target;
};

struct recipe_var {
  char *name, *value; /* value NULL: not set */
};

struct recipe {
  char *dir;
  char *name, *runtime;
  char **packages, **excludes, **entrypoint, **env, **compile_dirs;
  size_t npackages, nexcludes, nentrypoint, nenv, ncompile_dirs;
  struct recipe_file *files;
  size_t nfiles;
  struct recipe_link *links;
  size_t nlinks;
  bool merged_usr, libraries, python_compile;
  char *python; /* the interpreter that compiles .pyc files */
  struct recipe_var vars[RECIPE_MAX_VARS];
  size_t nvars;
};

/* Loads dir/recipe.json with `sets` ("NAME=VALUE", nsets of them) applied. */
int recipe_load(const char *dir, char *const *sets, size_t nsets, struct recipe *out,
                struct img_err *err);

void recipe_free(struct recipe *r);

#endif
