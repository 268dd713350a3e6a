/* pathset.c - an open-addressing set of path hashes (pathset.h). */
#include "pathset.h"

#include <errno.h>
#include <stdlib.h>

#define INITIAL_CAP 64

/* FNV-1a, with 0 (the empty slot) moved aside. */
static uint64_t hash(const char *p, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)p[i];
    h *= 0x100000001b3ull;
  }
  return h ? h : 1;
}

void pathset_init(struct pathset *s) { *s = (struct pathset){0}; }

void pathset_free(struct pathset *s) {
  free(s->slots);
  *s = (struct pathset){0};
}

static size_t find(const uint64_t *slots, size_t cap, uint64_t h) {
  size_t i = (size_t)h & (cap - 1);
  while (slots[i] != 0 && slots[i] != h)
    i = (i + 1) & (cap - 1);
  return i;
}

static int grow(struct pathset *s) {
  size_t cap = s->cap ? s->cap * 2 : INITIAL_CAP;
  uint64_t *slots = calloc(cap, sizeof *slots);
  if (slots == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i])
      slots[find(slots, cap, s->slots[i])] = s->slots[i];
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return 0;
}

int pathset_add(struct pathset *s, const char *path, size_t len) {
  if ((s->count + 1) * 2 > s->cap && grow(s) < 0) /* at most half full */
    return -ENOMEM;
  uint64_t h = hash(path, len);
  size_t i = find(s->slots, s->cap, h);
  if (s->slots[i] == h)
    return 0;
  s->slots[i] = h;
  s->count++;
  return 1;
}

bool pathset_has(const struct pathset *s, const char *path, size_t len) {
  if (s->cap == 0)
    return false;
  uint64_t h = hash(path, len);
  return s->slots[find(s->slots, s->cap, h)] == h;
}
