// sysfence eBPF test helper: waits for one byte on stdin, then makes N getppid() calls through syscall(2)
// (no libc caching) and exits. The tests attach their programs between the start and the byte, so the
// count they read is exactly N. Built by the tests with gcc.
//
// usage: getppid-caller N
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 0;
  char c;
  if (read(0, &c, 1) != 1) return 2;
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  return 0;
}
