/* lib_sites.c - a small shared library for the site-list tests: functions
 * making system calls with `syscall`, built with -shared -fPIC like the
 * libraries ld.so maps (e_entry 0, text in its own PT_LOAD), linked at a
 * base of 0x40000 so that no address equals its file offset, and a constant
 * that holds the bytes 0f 05. */
long lib_getpid(void);
long lib_write(long fd, const void *buf, long len);
long lib_constant(void);

long lib_getpid(void) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory");
  return r;
}

long lib_write(long fd, const void *buf, long len) {
  long r;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "a"(1L), "D"(fd), "S"(buf), "d"(len)
                   : "rcx", "r11", "memory");
  return r;
}

long lib_constant(void) { return 0x050f050f050fL; } /* 0f 05 inside an immediate */
