// sysfence eBPF test helper: waits for one byte on stdin, then makes N getppid() calls through syscall(2)
// (no libc caching) and exits. The tests attach their programs between the start and the byte, so the
// count they read is exactly N. Built by the tests with gcc.
//
// usage: getppid-caller N [PATH]   (with PATH: then opens PATH once, read-only, and closes it)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 0;
  char c;
  if (read(0, &c, 1) != 1) return 2;
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  if (argc > 2) {
    int fd = open(argv[2], O_RDONLY);
    if (fd >= 0) close(fd);
  }
  return 0;
}
