/* init_args.c - hearth-init's command line (init_args.h). */
#include "init_args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *init_runtime_name(enum init_runtime r) {
  return r == INIT_PYTHON ? "python" : "native";
}

static int bad(char *err, size_t errlen, const char *what, const char *arg) {
  snprintf(err, errlen, "%s%s%s", what, arg ? ": " : "", arg ? arg : "");
  return -EINVAL;
}

int init_args_parse(int argc, char **argv, struct init_args *out, char *err, size_t errlen) {
  const char *runtime = NULL;
  memset(out, 0, sizeof *out);
  out->code_dir = "/code";
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "--image") && strcmp(a, "--runtime") && strcmp(a, "--code"))
      return bad(err, errlen, "unknown argument", a);
    if (i + 1 >= argc)
      return bad(err, errlen, "missing value after", a);
    const char *v = argv[++i];
    if (strcmp(a, "--image") == 0)
      out->image = v;
    else if (strcmp(a, "--runtime") == 0)
      runtime = v;
    else
      out->code_dir = v;
  }
  out->runtime_argv = argv + (i < argc ? i : argc);
  if (!out->image || !out->image[0])
    return bad(err, errlen, "--image NAME is required", NULL);
  if (!runtime)
    return bad(err, errlen, "--runtime native|python is required", NULL);
  if (strcmp(runtime, "native") == 0)
    out->runtime = INIT_NATIVE;
  else if (strcmp(runtime, "python") == 0)
    out->runtime = INIT_PYTHON;
  else
    return bad(err, errlen, "unknown runtime", runtime);
  if (out->runtime == INIT_PYTHON && !out->runtime_argv[0])
    return bad(err, errlen, "--runtime python needs -- RUNTIME_ARGV (the interpreter and shim)",
               NULL);
  if (out->runtime == INIT_NATIVE && out->runtime_argv[0])
    return bad(err, errlen, "--runtime native takes no RUNTIME_ARGV", out->runtime_argv[0]);
  return 0;
}
