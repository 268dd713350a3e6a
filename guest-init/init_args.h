/* init_args.h - hearth-init's command line:
 *   hearth-init --image NAME --runtime native|python [--code DIR]
 *               [-- RUNTIME_ARGV...]
 * python needs RUNTIME_ARGV (the interpreter and the shim); native takes
 * none (it runs the bundle's handler). */
#ifndef HEARTH_INIT_ARGS_H
#define HEARTH_INIT_ARGS_H

#include <stddef.h>

enum init_runtime { INIT_NATIVE, INIT_PYTHON };

struct init_args {
  const char *image;
  enum init_runtime runtime;
  const char *code_dir; /* default "/code" */
  char **runtime_argv;  /* NULL-terminated, inside argv; empty for native */
};

/* 0, or -EINVAL with a message in err. */
int init_args_parse(int argc, char **argv, struct init_args *out, char *err, size_t errlen);

const char *init_runtime_name(enum init_runtime r);

#endif
