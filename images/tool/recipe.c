/* recipe.c - recipe.json read, checked and expanded (see recipe.h). */
#include "recipe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"

#define STRING_MAX (1u << 20) /* one expanded string (inline contents included) */

/* The variable called name[0, len), or NULL. */
static struct recipe_var *find_var(struct recipe *r, const char *name, size_t len) {
  for (size_t i = 0; i < r->nvars; i++)
    if (strlen(r->vars[i].name) == len && memcmp(r->vars[i].name, name, len) == 0)
      return &r->vars[i];
  return NULL;
}

static size_t var_name_len(const char *s) {
  return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
}

/* Appends src[0, n) to the growing *out. */
static int grow(char **out, size_t *len, const char *src, size_t n) {
  if (*len + n + 1 > STRING_MAX)
    return -E2BIG;
  char *p = realloc(*out, *len + n + 1);
  if (!p)
    return -ENOMEM;
  memcpy(p + *len, src, n);
  *len += n;
  p[*len] = '\0';
  *out = p;
  return 0;
}

/* `s` with each "@NAME@" replaced by the variable's value; an '@' that
 * starts no such token stays as it is. */
static int expand(struct recipe *r, const char *s, char **out, struct img_err *err) {
  size_t len = 0;
  int rc = grow(out, &len, "", 0);
  while (!rc && *s) {
    const char *at = strchr(s, '@');
    if (!at) {
      rc = grow(out, &len, s, strlen(s));
      break;
    }
    size_t n = var_name_len(at + 1);
    if ((rc = grow(out, &len, s, (size_t)(at - s))) || n == 0 || at[1 + n] != '@') {
      rc = rc ? rc : grow(out, &len, "@", 1);
      s = at + 1;
      continue;
    }
    struct recipe_var *v = find_var(r, at + 1, n);
    if (!v || !v->value)
      return img_fail(err, -EINVAL, "recipe: @%.*s@ is not set (--set %.*s=VALUE)", (int)n, at + 1,
                      (int)n, at + 1);
    rc = grow(out, &len, v->value, strlen(v->value));
    s = at + n + 2;
  }
  return rc ? img_fail(err, rc, "recipe: a string longer than %u bytes", STRING_MAX) : 0;
}

static int get_string(struct recipe *r, const cJSON *obj, const char *key, bool required,
                      char **out, struct img_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = NULL;
  if (!v && !required)
    return 0;
  if (!cJSON_IsString(v))
    return img_fail(err, -EINVAL, "recipe: \"%s\" must be a string", key);
  return expand(r, v->valuestring, out, err);
}

static int get_strings(struct recipe *r, const cJSON *obj, const char *key, char ***out, size_t *n,
                       struct img_err *err) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key), *v;
  if (!arr)
    return 0;
  if (!cJSON_IsArray(arr) || (unsigned)cJSON_GetArraySize(arr) > RECIPE_MAX_ITEMS)
    return img_fail(err, -EINVAL, "recipe: \"%s\" must be an array of at most %u strings", key,
                    RECIPE_MAX_ITEMS);
  if (!(*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof **out)))
    return img_fail(err, -ENOMEM, "out of memory");
  cJSON_ArrayForEach(v, arr) {
    if (!cJSON_IsString(v))
      return img_fail(err, -EINVAL, "recipe: \"%s\" must hold strings", key);
    int rc = expand(r, v->valuestring, &(*out)[(*n)++], err);
    if (rc)
      return rc;
  }
  return 0;
}

static int get_bool(const cJSON *obj, const char *key, bool *out, struct img_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v && !cJSON_IsBool(v))
    return img_fail(err, -EINVAL, "recipe: \"%s\" must be true or false", key);
  *out = cJSON_IsTrue(v);
  return 0;
}

static int get_mode(const cJSON *obj, int *mode, struct img_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "mode");
  char *end;
  *mode = -1;
  if (!v)
    return 0;
  long m = cJSON_IsString(v) ? strtol(v->valuestring, &end, 8) : -1;
  if (m < 0 || m > 0777 || !cJSON_IsString(v) || *end || !v->valuestring[0])
    return img_fail(err, -EINVAL, "recipe: a mode is an octal string up to \"0777\"");
  *mode = (int)m;
  return 0;
}

/* A relative source is relative to the recipe directory. */
static int resolve_src(struct recipe *r, char **src, struct img_err *err) {
  if (!*src || (*src)[0] == '/')
    return 0;
  char path[PATH_MAX], *copy;
  if (img_path_join(path, sizeof path, r->dir, *src) || !(copy = strdup(path)))
    return img_fail(err, -ENAMETOOLONG, "recipe: %s: path too long", *src);
  free(*src);
  *src = copy;
  return 0;
}

static int parse_file(struct recipe *r, const cJSON *o, struct recipe_file *f,
                      struct img_err *err) {
  int rc = get_string(r, o, "dst", true, &f->dst, err);
  if (!rc)
    rc = get_string(r, o, "src", false, &f->src, err);
  if (!rc)
    rc = get_string(r, o, "content", false, &f->content, err);
  if (!rc && !f->src == !f->content)
    rc = img_fail(err, -EINVAL, "recipe: file %s: give exactly one of \"src\" and \"content\"",
                  f->dst);
  if (!rc)
    rc = get_mode(o, &f->mode, err);
  if (!rc && f->content && f->mode < 0)
    rc = img_fail(err, -EINVAL, "recipe: file %s: inline content needs a \"mode\"", f->dst);
  return rc ? rc : resolve_src(r, &f->src, err);
}

static int parse_files(struct recipe *r, const cJSON *root, struct img_err *err) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "files"), *v;
  int n = cJSON_GetArraySize(arr);
  if (!arr)
    return 0;
  if (!cJSON_IsArray(arr) || (unsigned)n > RECIPE_MAX_ITEMS)
    return img_fail(err, -EINVAL, "recipe: \"files\" must be an array of at most %u objects",
                    RECIPE_MAX_ITEMS);
  if (!(r->files = calloc((size_t)n + 1, sizeof *r->files)))
    return img_fail(err, -ENOMEM, "out of memory");
  cJSON_ArrayForEach(v, arr) {
    if (!cJSON_IsObject(v))
      return img_fail(err, -EINVAL, "recipe: \"files\" must hold objects");
    int rc = parse_file(r, v, &r->files[r->nfiles++], err);
    if (rc)
      return rc;
  }
  return 0;
}

static int parse_links(struct recipe *r, const cJSON *root, struct img_err *err) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "symlinks"), *v;
  int n = cJSON_GetArraySize(arr);
  if (!arr)
    return 0;
  if (!cJSON_IsArray(arr) || (unsigned)n > RECIPE_MAX_ITEMS)
    return img_fail(err, -EINVAL, "recipe: \"symlinks\" must be an array of at most %u objects",
                    RECIPE_MAX_ITEMS);
  if (!(r->links = calloc((size_t)n + 1, sizeof *r->links)))
    return img_fail(err, -ENOMEM, "out of memory");
  cJSON_ArrayForEach(v, arr) {
    struct recipe_link *l = &r->links[r->nlinks++];
    int rc = get_string(r, v, "path", true, &l->path, err);
    if (!rc)
      rc = get_string(r, v, "target", true, &l->target, err);
    if (rc)
      return rc;
  }
  return 0;
}

static int parse_env(struct recipe *r, const cJSON *root, struct img_err *err) {
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "env"), *v;
  int n = cJSON_GetArraySize(obj);
  if (!obj)
    return 0;
  if (!cJSON_IsObject(obj) || (unsigned)n > RECIPE_MAX_ITEMS)
    return img_fail(err, -EINVAL, "recipe: \"env\" must be an object of strings");
  if (!(r->env = calloc((size_t)n + 1, sizeof *r->env)))
    return img_fail(err, -ENOMEM, "out of memory");
  cJSON_ArrayForEach(v, obj) {
    char *value = NULL;
    if (!cJSON_IsString(v) || !v->string[0] || strchr(v->string, '='))
      return img_fail(err, -EINVAL, "recipe: env: want \"NAME\":\"value\" members");
    int rc = expand(r, v->valuestring, &value, err);
    if (!rc && asprintf(&r->env[r->nenv], "%s=%s", v->string, value) < 0)
      rc = img_fail(err, -ENOMEM, "out of memory");
    free(value);
    if (rc)
      return rc;
    r->nenv++;
  }
  return 0;
}

static int parse_compile(struct recipe *r, const cJSON *root, struct img_err *err) {
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "python_compile");
  char *enabled = NULL;
  if (!obj)
    return 0;
  int rc = cJSON_IsObject(obj)
               ? get_string(r, obj, "enabled", true, &enabled, err)
               : img_fail(err, -EINVAL, "recipe: \"python_compile\" must be an object");
  if (!rc && strcmp(enabled, "yes") != 0 && strcmp(enabled, "no") != 0)
    rc = img_fail(err, -EINVAL, "recipe: python_compile.enabled: want \"yes\" or \"no\"");
  if (!rc)
    r->python_compile = strcmp(enabled, "yes") == 0;
  free(enabled);
  if (!rc)
    rc = get_string(r, obj, "python", true, &r->python, err);
  if (!rc)
    rc = get_strings(r, obj, "dirs", &r->compile_dirs, &r->ncompile_dirs, err);
  return rc;
}

/* The recipe's "variables", then --set's values over them. */
static int load_vars(struct recipe *r, const cJSON *root, char *const *sets, size_t nsets,
                     struct img_err *err) {
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "variables"), *v;
  if (obj && (!cJSON_IsObject(obj) || (unsigned)cJSON_GetArraySize(obj) > RECIPE_MAX_VARS))
    return img_fail(err, -EINVAL, "recipe: \"variables\" must be an object of at most %u",
                    RECIPE_MAX_VARS);
  cJSON_ArrayForEach(v, obj) {
    struct recipe_var *var = &r->vars[r->nvars++];
    if (var_name_len(v->string) != strlen(v->string) || !v->string[0] ||
        !(cJSON_IsString(v) || cJSON_IsNull(v)))
      return img_fail(err, -EINVAL, "recipe: variable %s: want [A-Z0-9_] and a string or null",
                      v->string);
    var->name = strdup(v->string);
    var->value = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
    if (!var->name || (cJSON_IsString(v) && !var->value))
      return img_fail(err, -ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < nsets; i++) {
    const char *eq = strchr(sets[i], '=');
    struct recipe_var *var = eq ? find_var(r, sets[i], (size_t)(eq - sets[i])) : NULL;
    if (!var)
      return img_fail(err, -EINVAL, "--set %s: the recipe has no such variable", sets[i]);
    free(var->value);
    if (!(var->value = strdup(eq + 1)))
      return img_fail(err, -ENOMEM, "out of memory");
  }
  return 0;
}

static int parse_lists(struct recipe *r, const cJSON *root, struct img_err *err) {
  int rc = get_strings(r, root, "packages", &r->packages, &r->npackages, err);
  if (!rc)
    rc = get_strings(r, root, "exclude", &r->excludes, &r->nexcludes, err);
  if (!rc)
    rc = get_strings(r, root, "entrypoint", &r->entrypoint, &r->nentrypoint, err);
  if (!rc)
    rc = parse_files(r, root, err);
  if (!rc)
    rc = parse_links(r, root, err);
  if (!rc)
    rc = parse_env(r, root, err);
  if (!rc)
    rc = parse_compile(r, root, err);
  if (!rc)
    rc = get_bool(root, "merged_usr", &r->merged_usr, err);
  if (!rc)
    rc = get_bool(root, "libraries", &r->libraries, err);
  return rc;
}

static int parse_recipe(struct recipe *r, const cJSON *root, char *const *sets, size_t nsets,
                        struct img_err *err) {
  int rc = cJSON_IsObject(root) ? load_vars(r, root, sets, nsets, err)
                                : img_fail(err, -EINVAL, "recipe: not a JSON object");
  if (!rc)
    rc = get_string(r, root, "name", true, &r->name, err);
  if (!rc)
    rc = get_string(r, root, "runtime", true, &r->runtime, err);
  if (!rc)
    rc = parse_lists(r, root, err);
  if (!rc && r->nentrypoint == 0)
    rc = img_fail(err, -EINVAL, "recipe: \"entrypoint\" must name the program");
  return rc;
}

int recipe_load(const char *dir, char *const *sets, size_t nsets, struct recipe *out,
                struct img_err *err) {
  *out = (struct recipe){0};
  char path[PATH_MAX], *text;
  size_t len;
  if (img_path_join(path, sizeof path, dir, RECIPE_NAME))
    return img_fail(err, -ENAMETOOLONG, "%s: path too long", dir);
  int rc = img_read_file(AT_FDCWD, path, path, RECIPE_MAX_BYTES, &text, &len, err);
  if (rc)
    return rc;
  cJSON *root = cJSON_ParseWithLength(text, len);
  free(text);
  if (!(out->dir = strdup(dir)))
    rc = img_fail(err, -ENOMEM, "out of memory");
  else if (!root)
    rc = img_fail(err, -EINVAL, "%s: not valid JSON", path);
  else
    rc = parse_recipe(out, root, sets, nsets, err);
  cJSON_Delete(root);
  if (rc)
    recipe_free(out);
  return rc;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

void recipe_free(struct recipe *r) {
  free(r->dir);
  free(r->name);
  free(r->runtime);
  free(r->python);
  free_strings(r->packages, r->npackages);
  free_strings(r->excludes, r->nexcludes);
  free_strings(r->entrypoint, r->nentrypoint);
  free_strings(r->env, r->nenv);
  free_strings(r->compile_dirs, r->ncompile_dirs);
  for (size_t i = 0; r->files && i < r->nfiles; i++) {
    free(r->files[i].src);
    free(r->files[i].content);
    free(r->files[i].dst);
  }
  free(r->files);
  for (size_t i = 0; r->links && i < r->nlinks; i++) {
    free(r->links[i].path);
    free(r->links[i].target);
  }
  free(r->links);
  for (size_t i = 0; i < r->nvars; i++) {
    free(r->vars[i].name);
    free(r->vars[i].value);
  }
  *r = (struct recipe){0};
}
