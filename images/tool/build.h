/* build.h - `hearth-image build`: a recipe (recipe.h) made into a signed
 * image directory. The tree is staged in a private directory beside the
 * output (stage.h): the recipe's packages, its files, the shared-library
 * closure, the merged-/usr links, its inline files and symlinks, then the
 * .pyc files; then packed (pack.h), the manifest written and signed. The
 * finished image replaces the output directory in one rename (an older
 * image there is swapped out, then removed), so a reader never sees half
 * an image. What the build makes itself (directories, inline files, the
 * merged-/usr links, .pyc files) gets the newest mtime of the host files
 * it copied, so the same inputs make the same image. */
#ifndef HEARTH_IMAGES_TOOL_BUILD_H
#define HEARTH_IMAGES_TOOL_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/imgerr.h"
#include "pack.h"

struct build_options {
  const char *recipe_dir, *key_path, *out_dir;
  char *const *sets; /* "NAME=VALUE" for the recipe's variables */
  size_t nsets;
};

struct build_report {
  struct pack_report pack;
  size_t entries, package_paths, libraries, pyc_files;
  uint64_t tar_bytes, manifest_bytes;
  char key_id[17];
};

int image_build(const struct build_options *o, struct build_report *rep, struct img_err *err);

#endif
