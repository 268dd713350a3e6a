/* json: a native test handler taking a JSON event and answering a JSON
 * object that wraps it with what the guest told the handler:
 * {"function":F,"greeting":$GREETING,"request_id_len":N,"event":EVENT}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENT_MAX (1 << 20)

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v ? v : fallback;
}

int main(void) {
  static char event[EVENT_MAX];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof event && (n = read(STDIN_FILENO, event + len, sizeof event - len)) > 0)
    len += (size_t)n;
  if (len == 0) {
    fprintf(stderr, "json: empty event\n");
    return 2;
  }
  /* The names come from the test: plain words, no escaping needed. */
  printf("{\"function\":\"%s\",\"greeting\":\"%s\",\"request_id_len\":%zu,\"event\":%.*s}",
         env_or("HEARTH_FUNCTION", ""), env_or("GREETING", ""),
         strlen(env_or("HEARTH_REQUEST_ID", "")), (int)len, event);
  return fflush(stdout) == 0 ? 0 : 1;
}
