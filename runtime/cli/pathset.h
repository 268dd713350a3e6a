/* pathset.h - the directories a code bundle has so far, as 64-bit hashes of
 * their normal-form paths: enough for the packer to list each parent once
 * and count it the way hearth-init counts the directories it creates.
 * Bounded by the caller (one entry per counted directory, and those are
 * capped by code_limits' max_files). A hash collision can only make the
 * packer skip a parent; hearth-init would then create and count it. */
#ifndef HEARTH_CLI_PATHSET_H
#define HEARTH_CLI_PATHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pathset {
  uint64_t *slots; /* 0: empty */
  size_t cap, count;
};

void pathset_init(struct pathset *s);
void pathset_free(struct pathset *s);

/* Adds path[0..len). 1 when added, 0 when already there, -ENOMEM. */
int pathset_add(struct pathset *s, const char *path, size_t len);

bool pathset_has(const struct pathset *s, const char *path, size_t len);

#endif
