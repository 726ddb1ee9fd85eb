// The program the learning-mode tests run: a baseline of calls (recorded to make the policy), and each
// case adds one thing the baseline never did. Exits 0 when every call it makes succeeds.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;
static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "learnee: %s failed: %s\n", what, strerror(errno));
    failed = 1;
  }
}

static long per_thread;
static void *unames(void *arg) {
  (void)arg;
  struct utsname u;
  for (long i = 0; i < per_thread; i++) check(syscall(SYS_uname, &u) == 0, "uname");
  return NULL;
}

static void write_file(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(fd >= 0, "open for writing");
  if (fd >= 0) {
    check(write(fd, "x\n", 2) == 2, "write");
    close(fd);
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "base";
  if (!strcmp(mode, "child")) {
    struct utsname u;
    for (long i = argc > 2 ? atol(argv[2]) : 1; i > 0; i--) check(syscall(SYS_uname, &u) == 0, "uname");
    return failed;
  }
  // the baseline: what the recording sees
  check(fcntl(1, F_GETFD) >= 0, "fcntl F_GETFD");
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  check(s >= 0, "socket AF_INET");
  int one = 1;
  check(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "setsockopt SOL_SOCKET");
  close(s);
  if (argc > 2) write_file(argv[2], "base.txt");
  if (!strcmp(mode, "fcntl")) check(fcntl(1, F_GETFL) >= 0, "fcntl F_GETFL");
  if (!strcmp(mode, "sockopt")) {
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "setsockopt IPPROTO_TCP");
    close(t);
  }
  if (!strcmp(mode, "inet6")) {
    int t = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(t >= 0, "socket AF_INET6");
    close(t);
  }
  if (!strcmp(mode, "newdir") && argc > 3) write_file(argv[3], "new.txt");
  if (!strcmp(mode, "listen") && argc > 3) {
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    check(t >= 0 && bind(t, (struct sockaddr *)&a, sizeof a) == 0, "bind");
    check(listen(t, 1) == 0, "listen");
    close(t);
  }
  if (!strcmp(mode, "signal")) check(kill(getppid(), 0) == 0, "kill(parent, 0)");
  if (!strcmp(mode, "uname")) {
    struct utsname u;
    check(syscall(SYS_uname, &u) == 0, "uname");
  }
  if (!strcmp(mode, "calls")) {
    // 0: the baseline of this case (the fork and exec, no uname)
    long n = argc > 3 ? atol(argv[3]) : 20000;
    per_thread = n;
    unames(NULL);
    pthread_t t[4];
    per_thread = n / 4;
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, unames, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    pid_t pid = fork();
    if (pid == 0) {
      execl("/proc/self/exe", argv[0], "child", n > 0 ? "1" : "0", (char *)NULL);
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child");
  }
  return failed;
}
