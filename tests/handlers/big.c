/* big: a native test handler whose event is a decimal byte count N; it
 * writes N bytes of pattern.h's pattern to stdout, in 64 KiB writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pattern.h"

#define PIECE (64 * 1024)

int main(void) {
  char text[32] = {0};
  ssize_t got = read(STDIN_FILENO, text, sizeof text - 1);
  char *end;
  unsigned long long n = got > 0 ? strtoull(text, &end, 10) : 0;
  static unsigned char buf[PIECE + PATTERN_MOD];
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = PATTERN_BYTE(i);
  unsigned long long done = 0;
  while (done < n) {
    size_t off = (size_t)(done % PATTERN_MOD); /* buf + off starts at byte `done` */
    size_t len = n - done < PIECE ? (size_t)(n - done) : PIECE;
    ssize_t w = write(STDOUT_FILENO, buf + off, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      fprintf(stderr, "big: write after %llu bytes failed\n", done);
      return 1;
    }
    done += (unsigned long long)w;
  }
  fprintf(stderr, "big: wrote %llu bytes\n", done);
  return 0;
}
