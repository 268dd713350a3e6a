/* spin: a native test handler that never finishes (for timeouts). */
int main(void) {
  volatile unsigned long n = 0;
  for (;;)
    n++;
}
