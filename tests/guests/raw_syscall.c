/* raw_syscall.c - a write(2) issued by a `syscall` instruction that no
 * function range covers: raw_write is a top-level asm block without CFI
 * directives (no FDE) and without a .size (no sized function symbol), so the
 * VMM's rewriter, which decodes only from function starts, leaves it alone
 * and the call must reach the VMM through the LSTAR stub. */
#include <stdio.h>
#include <string.h>

long raw_write(long fd, const void *buf, long len);

/* SysV passes fd, buf, len in rdi, rsi, rdx: already where write wants them. */
__asm__(".pushsection .text.raw_write, \"ax\", @progbits\n"
        ".globl raw_write\n"
        ".type raw_write, @function\n"
        "raw_write:\n"
        "  movl $1, %eax\n" /* __NR_write */
        "  syscall\n"
        "  ret\n"
        ".popsection\n");

int main(void) {
  static const char msg[] = "raw syscall ok\n";
  long n = raw_write(1, msg, (long)strlen(msg));
  printf("raw_write returned %ld\n", n);
  return n == (long)strlen(msg) ? 0 : 1;
}
