/* mkgolden.c - writes the golden frames (golden_cases.h) and index.json
 * into a directory: run once when the protocol's examples change, then
 * check the files in. Usage: hearth_mkgolden DIR */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "golden_cases.h"

static int write_file(const char *dir, const char *name, const void *buf, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "mkgolden: %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  static uint8_t bytes[1024];
  static char index[1 << 16];
  if (argc != 2) {
    fprintf(stderr, "usage: hearth_mkgolden DIR\n");
    return 2;
  }
  for (size_t i = 0; i < golden_case_count; i++) {
    long n = golden_cases[i].build(bytes, sizeof bytes);
    if (n < 0) {
      fprintf(stderr, "mkgolden: %s: %s\n", golden_cases[i].file, strerror((int)-n));
      return 1;
    }
    if (write_file(argv[1], golden_cases[i].file, bytes, (size_t)n) < 0)
      return 1;
  }
  long n = golden_index(index, sizeof index);
  if (n < 0) {
    fprintf(stderr, "mkgolden: index.json: %s\n", strerror((int)-n));
    return 1;
  }
  return write_file(argv[1], "index.json", index, (size_t)n) < 0;
}
