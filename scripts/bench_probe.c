// sysfence bench's measuring program: installs a raw seccomp filter (or none, with "-"), then times
// system calls. Built by `sysfence bench` with gcc.
//   bench_probe FILTER.bpf|- ITERATIONS NR:A0:A1:A2 ...
// prints one line per call: the median over 7 rounds of the nanoseconds per call.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call, not filtered
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// The filter may deny anything, even write and exit: measure in a child, report through shared memory.
struct shared {
  volatile int done;
  volatile double ns[64];
};

int main(int argc, char **argv) {
  if (argc < 4 || argc - 3 > 64) return 2;
  long iterations = atol(argv[2]);
  static struct sock_filter insns[4096];
  struct shared *shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid_t pid = fork();
  if (pid > 0) {
    for (int i = 0; i < 600000 && !shm->done; i++) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      usleep(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (!shm->done) return 6;
    for (int q = 3; q < argc; q++) printf("%.1f\n", shm->ns[q - 3]);
    return 0;
  }
  if (strcmp(argv[1], "-") != 0) {
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 3;
    size_t n = fread(insns, sizeof insns[0], 4096, f);
    fclose(f);
    struct sock_fprog prog = {(unsigned short)n, insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 4;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return 5;
  }
  for (int q = 3; q < argc; q++) {
    unsigned long v[4] = {0};
    char *end = argv[q];
    for (int i = 0; i < 4 && *end; i++) {
      v[i] = strtoul(end, &end, 0);
      if (*end == ':') end++;
    }
    double rounds[7];
    for (long i = 0; i < iterations / 10; i++) syscall(v[0], v[1], v[2], v[3]);  // warm up
    for (int r = 0; r < 7; r++) {
      double t0 = now_ns();
      for (long i = 0; i < iterations; i++) syscall(v[0], v[1], v[2], v[3]);
      rounds[r] = (now_ns() - t0) / iterations;
    }
    qsort(rounds, 7, sizeof rounds[0], cmp);
    shm->ns[q - 3] = rounds[3];
  }
  shm->done = 1;
  for (;;) {
  }
}
