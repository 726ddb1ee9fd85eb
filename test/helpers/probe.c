// sysfence test probe: installs a raw seccomp filter in a child process and makes one system call per
// query, reporting what the real kernel did. Built by the tests with gcc.
//
// usage: probe FILTER.bpf QUERY...
//   QUERY = [i386/]NR:A0:A1:A2:A3:A4:A5   (numbers in decimal or 0x hex; i386/ uses int $0x80)
// prints one line per query: "ret R errno E" | "signal S" | "trap DATA" | "timeout"
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef EXPORTED_INSTALL
int EXPORTED_INSTALL(void);
#endif

struct shared {
  volatile int done;
  volatile int trapped;
  volatile long ret;
  volatile int err;
  volatile int trap_data;
};
static struct shared *shm;

static void on_sigsys(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  shm->trap_data = info->si_errno;  // SECCOMP_RET_DATA of a SECCOMP_RET_TRAP (seccomp(2))
  shm->trapped = 1;
  shm->done = 1;
  for (;;) {
  }  // no system call may be allowed now; the parent kills us
}

static long int80(unsigned long nr, const unsigned long long *a) {
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"((uint32_t)a[0]), "c"((uint32_t)a[1]), "d"((uint32_t)a[2]), "S"((uint32_t)a[3]),
                     "D"((uint32_t)a[4])
                   : "memory");
  return ret;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: probe FILTER.bpf QUERY...\n");
    return 2;
  }
  static struct sock_filter insns[4096];
  size_t n = 0;
  FILE *f = fopen(argv[1], "rb");
  if (f) {
    n = fread(insns, sizeof(struct sock_filter), 4096, f);
    fclose(f);
  }
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
  shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (int q = 2; q < argc; q++) {
    const char *s = argv[q];
    int i386 = strncmp(s, "i386/", 5) == 0;
    if (i386) s += 5;
    unsigned long long v[7] = {0};
    char *end = (char *)s;
    for (int i = 0; i < 7 && *end; i++) {
      v[i] = strtoull(end, &end, 0);
      if (*end == ':') end++;
    }
    memset((void *)shm, 0, sizeof *shm);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_sigaction = on_sigsys;
      sa.sa_flags = SA_SIGINFO | SA_NODEFER;
      sigaction(SIGSYS, &sa, NULL);
#ifdef EXPORTED_INSTALL
      // an exported install function (libseccomp-c or bpf-c) is linked in instead of the filter file
      (void)prog;
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
      if (EXPORTED_INSTALL() != 0) _exit(91);
#else
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(91);
#endif
      long r;
      if (i386) {
        r = int80(v[0], &v[1]);
        shm->ret = r < 0 && r > -4096 ? -1 : r;
        shm->err = r < 0 && r > -4096 ? (int)-r : 0;
      } else {
        r = syscall((long)v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        shm->ret = r;
        shm->err = r == -1 ? errno : 0;
      }
      shm->done = 1;
      for (;;) {
      }
    }
    int status = 0;
    int reaped = 0;
    for (int spin = 0; spin < 20000 && !reaped; spin++) {
      if (shm->done) break;
      if (waitpid(pid, &status, WNOHANG) == pid) reaped = 1;
      else {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
      }
    }
    if (!reaped) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    if (shm->trapped) printf("trap %d\n", shm->trap_data);
    else if (shm->done) printf("ret %ld errno %d\n", shm->ret, shm->err);
    else if (WIFSIGNALED(status)) printf("signal %d\n", WTERMSIG(status));
    else if (WIFEXITED(status)) printf("exit %d\n", WEXITSTATUS(status));
    else printf("timeout\n");
  }
  return 0;
}
