/* golden_cases.h - the golden frames of golden/<name>.bin, as code: each case
 * builds its bytes with the C encoder (frame.h, json.h) or, for the bad
 * ones, by hand. mkgolden writes them (and index.json) once; the unit test
 * rebuilds them and compares with the checked-in files, so the files pin
 * both the encoder and the decoder, and the Python codec is tested against
 * the same bytes. */
#ifndef HEARTH_PROTO_GOLDEN_CASES_H
#define HEARTH_PROTO_GOLDEN_CASES_H

#include <stddef.h>
#include <stdint.h>

/* What a reader must make of a golden file (index.json's "expect"). */
enum golden_expect {
  GOLDEN_OK,          /* "ok": one valid frame; control JSON valid */
  GOLDEN_BAD_MAGIC,   /* "bad_magic": byte 0 is not 0x68 */
  GOLDEN_BAD_VERSION, /* "bad_version": byte 1 is not 1 */
  GOLDEN_BAD_TYPE,    /* "bad_type": unknown type */
  GOLDEN_BAD_STREAM,  /* "bad_stream": stream not allowed for the type */
  GOLDEN_OVERSIZED,   /* "oversized": length over the type's limit */
  GOLDEN_TRUNCATED,   /* "truncated": the bytes end inside the frame */
  GOLDEN_BAD_JSON,    /* "bad_json": a valid frame whose JSON json.h refuses */
  GOLDEN_BAD_VALUE,   /* "bad_value": valid JSON, member `member` out of range */
};

struct golden_case {
  const char *file;
  enum golden_expect expect;
  int c_error;        /* hf_header_decode / json's -errno for bad cases */
  const char *member; /* GOLDEN_BAD_VALUE: the member */
  const char *note;   /* one line: what it holds */
  /* Writes the file's bytes into out[cap]: their length, or -errno. */
  long (*build)(uint8_t *out, size_t cap);
};

extern const struct golden_case golden_cases[];
extern const size_t golden_case_count;

const char *golden_expect_name(enum golden_expect e);

/* index.json: every case with its header fields, payload (hex, and the
 * JSON itself for valid control frames) and expected outcome. Its length
 * in out[cap] (NUL-terminated), or -ENOSPC. */
long golden_index(char *out, size_t cap);

#endif
