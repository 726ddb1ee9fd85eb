import { sockFilterLines } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import { execGuardPolicy } from "../install/run-policy.js";
import { formatAction } from "../policy/actions.js";
import type { Action, Policy } from "../policy/model.js";

// Placeholders for the exec's three pointers in the guard's BPF: each 64-bit comparison becomes two 32-bit
// ones, and the C program writes the real halves over these before loading it. The values cannot be an
// architecture, a syscall number or an action, so no other instruction carries them.
const MAGIC = [0x5f5e0001n, 0x5f5e0002n, 0x5f5e0003n].map((lo, i) => ((0x5f5e0010n + BigInt(i)) << 32n) | lo);

/** The exec guard as a sock_filter array with placeholder pointers, for the bpf-c launcher. */
function guardArray(policy: Policy, answer: Action): string {
  const { program } = compile(execGuardPolicy(policy.architectures, MAGIC, answer), { stats: false });
  return sockFilterLines(program);
}

/** The part every C launcher shares: PATH search, the check that a filter really went in, main(). */
function launcherMain(o: { installGuard: string; installPolicy: string; answer?: Action }): string {
  return `
/* ---- the launcher: sysfence-launch COMMAND [ARG...] ---------------------------------------------------
 * Finds COMMAND as execvp does (PATH, or a path with a slash), installs ${o.answer ? "the exec guard and then " : ""}the policy on
 * this single-threaded process, and execs COMMAND with this argv (argv[0] as given) and environment: what
 * \`sysfence run --policy\` does, without Node. ${
   o.answer
     ? `The guard lets through exactly one execve, this one (its path,
 * argv and envp pointers); every other execve or execveat gets the policy's answer (${formatAction(o.answer)}), so the program
 * itself still cannot exec.`
     : "The policy allows execve, so the program can exec too."
 }
 * Exit status: the program's; 125 usage; 126 the filter could not be installed or the exec failed; 127 not found. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern char **environ;

static int sysfence_find(const char *cmd, char *out, size_t size) {
  if (strchr(cmd, '/') != NULL) {
    if (strlen(cmd) >= size) return -1;
    strcpy(out, cmd);
    return access(out, X_OK) == 0 ? 0 : -1;
  }
  const char *path = getenv("PATH");
  if (path == NULL || *path == '\\0') path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; ; p++) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0 && len + 1 + strlen(cmd) < size) {
      struct stat st;
      memcpy(out, p, len);
      out[len] = '/';
      strcpy(out + len + 1, cmd);
      if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
    }
    if (end == NULL) return -1;
    p = end;
  }
}

/* Seccomp_filters in /proc/self/status (Linux >= 5.9); -1 when the kernel does not say. */
static long sysfence_filter_count(void) {
  char line[256];
  long n = -1;
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "Seccomp_filters:", 16) == 0) n = strtol(line + 16, NULL, 10);
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  static char path[PATH_MAX];
  if (argc < 2) {
    fprintf(stderr, "usage: %s COMMAND [ARG...]\\n", argv[0]);
    return 125;
  }
  if (sysfence_find(argv[1], path, sizeof path) != 0) {
    fprintf(stderr, "%s: %s: command not found or not executable; nothing was run\\n", argv[0], argv[1]);
    return 127;
  }
  char **args = argv + 1;
  char **envp = environ;
  long before = sysfence_filter_count();
${o.installGuard}
${o.installPolicy}
  execve(path, args, envp);
  /* only the filter decides what reaches stderr now */
  return errno == ENOENT ? 127 : 126;
}
`;
}

/**
 * What turns an exported C filter (with its install function `fn`) into a complete C launcher: the exec
 * guard (compiled by sysfence, as `sysfence run` installs it, with the exec's pointers written in at run
 * time; none when `answer` is undefined, i.e. the policy allows exec) and main().
 */
export function cLauncher(policy: Policy, fn: string, answer: Action | undefined): string {
  const guard = answer
    ? `
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The exec guard: execve passes only with this launcher's path, argv and envp pointers; any other execve or
   execveat, on every architecture of the policy, gets ${formatAction(answer)}. Placeholders stand for the pointers. */
static struct sock_filter sysfence_guard[] = {
${guardArray(policy, answer)}
};
static const uint32_t sysfence_magic[6] = { ${MAGIC.flatMap((m) => [m & 0xffffffffn, m >> 32n])
        .map((v) => `0x${v.toString(16)}u`)
        .join(", ")} };

static int sysfence_install_guard(const void *path, char *const *argv, char *const *envp) {
  const uint64_t ptr[3] = { (uint64_t)(uintptr_t)path, (uint64_t)(uintptr_t)argv, (uint64_t)(uintptr_t)envp };
  size_t n = sizeof sysfence_guard / sizeof sysfence_guard[0], patched = 0;
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < 6; j++)
      if (sysfence_guard[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && sysfence_guard[i].k == sysfence_magic[j]) {
        sysfence_guard[i].k = (uint32_t)(j % 2 == 0 ? ptr[j / 2] : ptr[j / 2] >> 32);
        patched++;
      }
  if (patched < 6) { errno = EINVAL; return -1; }
  struct sock_fprog prog = { (unsigned short)n, sysfence_guard };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -1;
}
`
    : "\n#include <errno.h>\n#include <unistd.h>\n";
  return `${guard}${launcherMain({
    answer,
    installGuard: answer
      ? `  if (sysfence_install_guard(path, args, envp) != 0) {
    perror("sysfence: installing the exec guard");
    return 126;
  }
  /* a neighbour's filter could answer seccomp() with 0 without installing anything: count the filters */
  if (before >= 0 && sysfence_filter_count() != before + 1) {
    fprintf(stderr, "%s: the kernel did not take the filter (Seccomp_filters did not grow); nothing was run\\n", argv[0]);
    return 126;
  }`
      : "  (void)before;",
    installPolicy: `  if (${fn}() != 0) {
    fprintf(stderr, "%s: installing the policy failed; nothing was run\\n", argv[0]);
    return 126;
  }`,
  })}`;
}
