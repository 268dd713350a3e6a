/* test_mmapops.c - memory management inside a 64 MiB guest (guest
 * mmapops.c): munmap really frees, mremap, mprotect, MAP_FIXED,
 * MADV_DONTNEED, a private file mapping, brk, and requests beyond guest
 * memory refused without ending the VM. */
#include "itest.h"

#include <stdlib.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

#define PAGE 4096u
#define DATA_SIZE (3 * PAGE + 100) /* a ragged last page */

/* The guest computes the same bytes (mmapops.c data_byte). */
static unsigned char data_byte(size_t i) { return (unsigned char)(i * 7 + i / PAGE + 1); }

static void test_mmapops(void **state) {
  struct itest *t = *state;
  unsigned char *data = malloc(DATA_SIZE);
  assert_non_null(data);
  for (size_t i = 0; i < DATA_SIZE; i++)
    data[i] = data_byte(i);
  itest_put_file(t, "/data.bin", data, DATA_SIZE, 0644);
  free(data);
  itest_put_guest(t, "mmapops", "/mmapops");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--mem", "64", "--", "/mmapops"));
  assert_vmm_stdout(r, "mmapops: OK\n");
  assert_vmm_status(r, 0);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_mmapops),
};

ITEST_MAIN(tests)
