/* snapfile.h - the snapshot state file (issue 6): an 8-byte magic, a format
 * version, the host CPU's identity, typed sections, and a SHA-256 over all
 * of it. Everything read is bounded: the file by SNAP_STATE_MAX, each
 * section by SNAP_SECTION_MAX, and every field by its cursor. The encoders
 * and decoders here know nothing of the VM: each subsystem writes and reads
 * its own section (snapshot.h), so the saved state stays apart from live
 * objects. Guest memory is not in this file but beside it (memfile.h). */
#ifndef HEARTH_VMM_SNAPSHOT_SNAPFILE_H
#define HEARTH_VMM_SNAPSHOT_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "HEARTHSN" /* 8 bytes, no NUL */
#define SNAP_VERSION 1u
#define SNAP_STATE_MAX (64u << 20)
#define SNAP_SECTION_MAX (32u << 20)
#define SNAP_SECTIONS_MAX 64u
#define SNAP_STATE_FILE "state.snap"
#define SNAP_MEMORY_FILE "memory.snap"

enum snap_section {
  SNAP_SEC_CONFIG = 1,  /* the vm_config a restore needs (memory size, paging, caps, image) */
  SNAP_SEC_MEMORY = 2,  /* gmem's host-side state: allocator, access table (memfile.h) */
  SNAP_SEC_VCPU = 3,    /* registers, sregs, FS/GS, XSAVE, XCRs, guest-visible MSRs */
  SNAP_SEC_MM = 4,      /* vmas (with file identities), brk, stack, mmap top, load bias */
  SNAP_SEC_PROC = 5,    /* pid/tid, tid & robust-list addresses, rlimits, AT_RANDOM, start */
  SNAP_SEC_SIGNALS = 6, /* dispositions, mask, pending queue, alternate stack */
  SNAP_SEC_VFS = 7,     /* cwd, umask, /tmp and /code trees with their contents */
  SNAP_SEC_FILES = 8,   /* the fd table and every open description (kind + state) */
  SNAP_SEC_VSOCK = 9,   /* listening sockets (connections are reset), port counters */
  SNAP_SEC_CLOCK = 10,  /* guest monotonic time at the snapshot, the vDSO's state */
};

/* The host CPU a snapshot is tied to: vendor, family/model/stepping and
 * the XSAVE features the guest may use. A restore on a CPU that differs
 * is refused. */
struct snap_cpu_id {
  char vendor[13];    /* CPUID leaf 0, NUL-terminated */
  uint32_t signature; /* CPUID leaf 1 EAX */
  uint64_t xcr0_supported;
};
int snap_cpu_identity(struct snap_cpu_id *out);

/* A growing little-endian encoder; the first failure (-ENOMEM, or
 * -EMSGSIZE past SNAP_SECTION_MAX) sticks in err and later puts do nothing. */
struct snap_buf {
  uint8_t *p;
  size_t len, cap;
  int err;
};
void snap_put_u8(struct snap_buf *b, uint8_t v);
void snap_put_u32(struct snap_buf *b, uint32_t v);
void snap_put_u64(struct snap_buf *b, uint64_t v);
void snap_put_bytes(struct snap_buf *b, const void *p, size_t n);
void snap_put_str(struct snap_buf *b, const char *s); /* u32 length + bytes; NULL as 0xffffffff */

/* A bounded decoder over one section; the first failure (-EBADMSG: past
 * the end, a length over its cap) sticks in err and later gets return 0. */
struct snap_cursor {
  const uint8_t *p;
  size_t len, off;
  int err;
};
uint8_t snap_get_u8(struct snap_cursor *c);
uint32_t snap_get_u32(struct snap_cursor *c);
uint64_t snap_get_u64(struct snap_cursor *c);
/* n bytes in place (NULL on error). */
const uint8_t *snap_get_bytes(struct snap_cursor *c, size_t n);
/* A string of at most cap-1 bytes into out, NUL-terminated; returns 1 for a
 * string, 0 for NULL (out set to ""), -EBADMSG (also in err) otherwise. */
int snap_get_str(struct snap_cursor *c, char *out, size_t cap);
/* 0 when every byte was consumed and nothing failed, else -EBADMSG. */
int snap_cursor_done(const struct snap_cursor *c);

/* Writing a state file: sections in any order, each type at most once. */
struct snap_writer;
int snap_writer_new(struct snap_writer **out);
/* The encoder of a new section, valid until the next begin or commit. */
struct snap_buf *snap_writer_section(struct snap_writer *w, uint32_t type);
/* Writes header, sections and checksum to dirfd/name through a temp file,
 * fsync and rename. 0 or -errno (a section's sticky err included). */
int snap_writer_commit(struct snap_writer *w, int dirfd, const char *name);
void snap_writer_free(struct snap_writer *w);

/* Reading one: checks size cap, magic, version, CPU identity, section
 * table and checksum; on refusal returns -errno with a one-line reason in
 * err ("not a hearth snapshot", "format version 7, this hearth reads 1",
 * "taken on another CPU (GenuineIntel 0x906ea, this is ...)", "checksum
 * mismatch: the file is corrupt", "truncated"). */
struct snap_file;
int snap_file_read(int dirfd, const char *name, struct snap_file **out, char *err, size_t errlen);
/* A cursor over the section of `type`: 0, or -ENOENT when absent. */
int snap_file_section(const struct snap_file *f, uint32_t type, struct snap_cursor *out);
void snap_file_free(struct snap_file *f);

#endif
