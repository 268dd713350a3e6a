/* tarbuild.c - the test tar writer (tarbuild.h). */
#include "tarbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *grow(struct tarbuild *tb, size_t n) {
  if (tb->len + n > tb->cap) {
    tb->cap = (tb->len + n) * 2;
    tb->p = realloc(tb->p, tb->cap);
    if (!tb->p)
      abort();
  }
  uint8_t *at = tb->p + tb->len;
  memset(at, 0, n);
  tb->len += n;
  return at;
}

static void octal(uint8_t *field, size_t n, uint64_t v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%0*llo", (int)(n - 1), (unsigned long long)v);
  memcpy(field, tmp, n - 1);
  field[n - 1] = '\0';
}

static void base256(uint8_t *field, size_t n, uint64_t v) {
  memset(field, 0, n);
  field[0] = 0x80;
  for (size_t i = n - 1; i > 0 && v; i--, v >>= 8)
    field[i] = (uint8_t)v;
}

void tb_header(struct tarbuild *tb, const struct tb_entry *e) {
  uint8_t *h = grow(tb, 512);
  size_t nlen = strlen(e->name);
  if (nlen > 100) { /* POSIX: split at a slash into prefix (155) and name */
    const char *cut = e->name + nlen - 100;
    while (*cut && *cut != '/')
      cut++;
    memcpy(h + 345, e->name, (size_t)(cut - e->name));
    memcpy(h, cut + 1, strlen(cut + 1));
  } else {
    memcpy(h, e->name, nlen);
  }
  octal(h + 100, 8, e->mode);
  octal(h + 108, 8, 1000);
  octal(h + 116, 8, 1000);
  if (e->base256)
    base256(h + 124, 12, e->size);
  else
    octal(h + 124, 12, e->size);
  octal(h + 136, 12, 1700000000);
  h[156] = (uint8_t)e->type;
  if (e->link)
    memcpy(h + 157, e->link, strlen(e->link));
  memcpy(h + 257,
         e->gnu ? "ustar  \0"
                : "ustar\0"
                  "00",
         8);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

void tb_data(struct tarbuild *tb, const void *data, size_t len) {
  uint8_t *at = grow(tb, (len + 511) / 512 * 512);
  memcpy(at, data, len);
}

void tb_file(struct tarbuild *tb, const char *name, const char *data, unsigned mode) {
  struct tb_entry e = {.type = '0', .name = name, .mode = mode, .size = strlen(data)};
  tb_header(tb, &e);
  tb_data(tb, data, strlen(data));
}

void tb_dir(struct tarbuild *tb, const char *name) {
  struct tb_entry e = {.type = '5', .name = name, .mode = 0755};
  tb_header(tb, &e);
}

void tb_symlink(struct tarbuild *tb, const char *name, const char *target) {
  struct tb_entry e = {.type = '2', .name = name, .link = target, .mode = 0777};
  tb_header(tb, &e);
}

void tb_pax(struct tarbuild *tb, char type, const char *key, const char *value) {
  /* "%d %s=%s\n" where %d counts the whole record, itself included. */
  size_t body = 1 + strlen(key) + 1 + strlen(value) + 1, digits = 1;
  while ((size_t)snprintf(NULL, 0, "%zu", digits + body) > digits)
    digits++;
  size_t total = digits + body;
  char *rec = malloc(total + 1);
  snprintf(rec, total + 1, "%zu %s=%s\n", total, key, value);
  struct tb_entry e = {.type = type, .name = "PaxHeaders/x", .mode = 0644, .size = total};
  tb_header(tb, &e);
  tb_data(tb, rec, total);
  free(rec);
}

void tb_gnu_long(struct tarbuild *tb, char type, const char *value) {
  size_t n = strlen(value) + 1;
  struct tb_entry e = {.type = type, .name = "././@LongLink", .mode = 0644, .size = n, .gnu = 1};
  tb_header(tb, &e);
  tb_data(tb, value, n);
}

void tb_end(struct tarbuild *tb) { grow(tb, 1024); }

void tb_free(struct tarbuild *tb) {
  free(tb->p);
  tb->p = NULL;
  tb->len = tb->cap = 0;
}
