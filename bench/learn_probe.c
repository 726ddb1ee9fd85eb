// npm run bench:learn's program: N calls of a call the policy allows (getppid) and N of one it does not
// (uname), each loop timed inside the program; prints "allowed_ns notified_ns" per call.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  struct utsname u;
  double t0 = now();
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  double t1 = now();
  for (long i = 0; i < n; i++) syscall(SYS_uname, &u);
  double t2 = now();
  printf("%.1f %.1f\n", (t1 - t0) / n, (t2 - t1) / n);
  return 0;
}
