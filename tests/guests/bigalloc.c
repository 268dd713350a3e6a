/* bigalloc.c - allocates 64 MiB, writes a pattern into every page, reads it
 * all back and compares checksums; prints OK. A failed malloc prints
 * "malloc failed" and exits 1 (the answer expected under a small --mem). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SIZE (64u << 20)
#define PAGE 4096u

static uint64_t pattern(size_t page) { return (uint64_t)page * 0x9e3779b97f4a7c15u + 1; }

int main(void) {
  volatile uint64_t *mem = malloc(SIZE);
  if (mem == NULL) {
    puts("malloc failed");
    return 1;
  }
  uint64_t sum_written = 0, sum_read = 0;
  for (size_t page = 0; page < SIZE / PAGE; page++) {
    /* first and last word of each page: catches pages mapped twice */
    mem[page * PAGE / 8] = pattern(page);
    mem[(page + 1) * PAGE / 8 - 1] = ~pattern(page);
    sum_written += pattern(page) * 3;
  }
  for (size_t page = 0; page < SIZE / PAGE; page++) {
    uint64_t first = mem[page * PAGE / 8], last = mem[(page + 1) * PAGE / 8 - 1];
    if (first != ~last) {
      printf("page %zu corrupted\n", page);
      return 1;
    }
    sum_read += first * 3;
  }
  if (sum_read != sum_written) {
    puts("checksum mismatch");
    return 1;
  }
  free((void *)mem);
  puts("OK");
  return 0;
}
