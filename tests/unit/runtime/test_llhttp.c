/* test_llhttp.c - hearth_llhttp (llhttp built from Debian's node-llhttp
 * sources) parses HTTP/1.1 requests: whole, split byte by byte as a socket may
 * deliver them, pipelined, and refuses malformed ones. */
#include <llhttp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* What the callbacks saw; fields are concatenated because llhttp may deliver
 * any span in pieces. */
struct seen {
  char url[64];
  char headers[256]; /* "name=value;" per header */
  char body[64];
  int messages;
};

static int append(char *dst, size_t cap, const char *at, size_t len) {
  size_t used = strlen(dst);
  if (used + len >= cap)
    return -1; /* non-zero from a data callback stops the parser with an error */
  memcpy(dst + used, at, len);
  dst[used + len] = '\0';
  return 0;
}

static struct seen *seen_of(llhttp_t *p) { return p->data; }

static int on_url(llhttp_t *p, const char *at, size_t len) {
  return append(seen_of(p)->url, sizeof seen_of(p)->url, at, len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  return append(seen_of(p)->headers, sizeof seen_of(p)->headers, at, len);
}

static int on_header_field_complete(llhttp_t *p) {
  return append(seen_of(p)->headers, sizeof seen_of(p)->headers, "=", 1);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  return append(seen_of(p)->headers, sizeof seen_of(p)->headers, at, len);
}

static int on_header_value_complete(llhttp_t *p) {
  return append(seen_of(p)->headers, sizeof seen_of(p)->headers, ";", 1);
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  return append(seen_of(p)->body, sizeof seen_of(p)->body, at, len);
}

static int on_message_complete(llhttp_t *p) {
  seen_of(p)->messages++;
  return 0;
}

struct fixture {
  llhttp_settings_t settings;
  llhttp_t parser;
  struct seen seen;
};

static int setup(void **state) {
  static struct fixture f;
  memset(&f, 0, sizeof f);
  llhttp_settings_init(&f.settings);
  f.settings.on_url = on_url;
  f.settings.on_header_field = on_header_field;
  f.settings.on_header_field_complete = on_header_field_complete;
  f.settings.on_header_value = on_header_value;
  f.settings.on_header_value_complete = on_header_value_complete;
  f.settings.on_body = on_body;
  f.settings.on_message_complete = on_message_complete;
  llhttp_init(&f.parser, HTTP_REQUEST, &f.settings);
  f.parser.data = &f.seen;
  *state = &f;
  return 0;
}

static const char request[] = "POST /functions/echo/invoke?x=1 HTTP/1.1\r\n"
                              "Host: localhost\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 11\r\n"
                              "\r\n"
                              "{\"a\": true}";

static void assert_request_parsed(const struct fixture *f) {
  assert_int_equal(f->seen.messages, 1);
  assert_string_equal(f->seen.url, "/functions/echo/invoke?x=1");
  assert_string_equal(f->seen.headers,
                      "Host=localhost;Content-Type=application/json;Content-Length=11;");
  assert_string_equal(f->seen.body, "{\"a\": true}");
}

static void test_whole_request(void **state) {
  struct fixture *f = *state;
  assert_int_equal(llhttp_execute(&f->parser, request, strlen(request)), HPE_OK);
  assert_request_parsed(f);
  assert_int_equal(llhttp_get_method(&f->parser), HTTP_POST);
  assert_int_equal(llhttp_get_http_major(&f->parser), 1);
  assert_int_equal(llhttp_get_http_minor(&f->parser), 1);
  assert_true(llhttp_should_keep_alive(&f->parser));
}

static void test_byte_by_byte(void **state) {
  struct fixture *f = *state;
  for (size_t i = 0; i < strlen(request); i++)
    assert_int_equal(llhttp_execute(&f->parser, request + i, 1), HPE_OK);
  assert_request_parsed(f);
}

static void test_pipelined_requests(void **state) {
  struct fixture *f = *state;
  static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /b HTTP/1.1\r\nHost: y\r\n\r\n";
  assert_int_equal(llhttp_execute(&f->parser, two, strlen(two)), HPE_OK);
  assert_int_equal(f->seen.messages, 2);
  assert_string_equal(f->seen.url, "/a/b");
  assert_string_equal(f->seen.headers, "Host=x;Host=y;");
}

static void test_malformed_request(void **state) {
  struct fixture *f = *state;
  static const char bad[] = "G@T / HTTP/1.1\r\n\r\n";
  assert_int_equal(llhttp_execute(&f->parser, bad, strlen(bad)), HPE_INVALID_METHOD);
  assert_int_equal(f->seen.messages, 0);
  assert_non_null(llhttp_get_error_reason(&f->parser));
}

static void test_bad_content_length(void **state) {
  struct fixture *f = *state;
  static const char bad[] = "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n";
  assert_int_not_equal(llhttp_execute(&f->parser, bad, strlen(bad)), HPE_OK);
  assert_int_equal(f->seen.messages, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_whole_request, setup),
      cmocka_unit_test_setup(test_byte_by_byte, setup),
      cmocka_unit_test_setup(test_pipelined_requests, setup),
      cmocka_unit_test_setup(test_malformed_request, setup),
      cmocka_unit_test_setup(test_bad_content_length, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
