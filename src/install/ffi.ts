// The only code in sysfence that talks to the kernel. Loaded lazily (await import) so that compile,
// export and emulate work on any OS and without koffi's native module.
import { createRequire } from "node:module";
import { SysfenceError } from "../errors.js";

// From include/uapi/linux/prctl.h and include/uapi/linux/seccomp.h.
export const PR_GET_SECCOMP = 21;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
// From asm-generic/fcntl.h.
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** __NR_seccomp per Node arch (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h). */
const NR_SECCOMP: Record<string, number> = {
  x64: 317,
  arm64: 277,
  riscv64: 277,
  ppc64: 358,
  s390x: 348,
  ia32: 354,
  arm: 383,
};

/** libc entry points sysfence calls; bound once, before any filter is installed. */
export interface Libc {
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  seccomp(op: number, flags: number, prog: { len: number; filter: Buffer } | null): number;
  /** seccomp(SECCOMP_GET_ACTION_AVAIL): 0 when the kernel knows the action, -1 (errno) otherwise. */
  actionAvailable(action: number): number;
  /** Makes syscall `nr` with no arguments: the errno it fails with, or 0 when it returns >= 0. */
  probe(nr: number): number;
  execve(path: string, argv: (string | null)[], envp: (string | null)[]): number;
  /** execve with caller-built memory: the pointers the kernel sees are these buffers' addresses. */
  execveBuffers(path: Buffer, argv: Buffer, envp: Buffer): number;
  /** The address of a buffer's memory (stable while the buffer lives). */
  address(buf: Buffer): bigint;
  fcntl(fd: number, cmd: number, arg: number): number;
  resetSignal(sig: number): void;
  /** raise(3): send a signal to the calling thread (SIGSTOP: wait for a tracer to attach). */
  raise(sig: number): number;
  errno(): number;
  /** landlock_create_ruleset(2): a ruleset fd, or the ABI version with LANDLOCK_CREATE_RULESET_VERSION; -1 on error. */
  landlockCreateRuleset(attr: Buffer | null, size: number, flags: number): number;
  /** landlock_add_rule(2): 0, or -1 (errno). */
  landlockAddRule(fd: number, type: number, attr: Buffer): number;
  /** landlock_restrict_self(2): 0, or -1 (errno). */
  landlockRestrictSelf(fd: number, flags: number): number;
  exit(code: number): never;
  writeStderr(text: string): void;
}

let libc: Libc | undefined;

/** Binds libc through koffi (once). Throws E_SECCOMP_UNAVAILABLE off Linux. */
export function loadLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== "linux")
    throw new SysfenceError("E_SECCOMP_UNAVAILABLE", `seccomp needs Linux; this is ${process.platform}.`);
  const nr = NR_SECCOMP[process.arch];
  if (nr === undefined)
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      `sysfence does not know the seccomp syscall number on ${process.arch}.`,
    );
  const require = createRequire(import.meta.url);
  const koffi = require("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  // struct sock_fprog, registered by name for the syscall prototype below
  koffi.struct("sysfence_sock_fprog", { len: "uint16_t", filter: "void *" });
  const prctl = lib.func(
    "int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)",
  );
  // seccomp(2) has no glibc wrapper; call syscall(2) with a fixed prototype (integer arguments only).
  const syscall4 = lib.func(
    "long syscall(long nr, unsigned int op, unsigned int flags, const sysfence_sock_fprog *prog)",
  );
  const syscallPtr = lib.func("long syscall(long nr, unsigned int op, unsigned int flags, void *arg)");
  const syscall0 = lib.func("long syscall(long nr)");
  // The Landlock calls have one number on every architecture (include/uapi/asm-generic/unistd.h: 444-446).
  const llCreate = lib.func("long syscall(long nr, void *attr, unsigned long size, unsigned int flags)");
  const llAdd = lib.func("long syscall(long nr, int fd, int type, void *attr, unsigned int flags)");
  const llRestrict = lib.func("long syscall(long nr, int fd, unsigned int flags)");
  const execve = lib.func("int execve(const char *path, const char **argv, const char **envp)");
  const execveRaw = lib.func("int execve(void *path, void *argv, void *envp)");
  const fcntl = lib.func("int fcntl(int fd, int cmd, int arg)");
  const signal = lib.func("void *signal(int sig, void *handler)");
  const raise = lib.func("int raise(int sig)");
  const errnoLoc = lib.func("int *__errno_location()");
  const exit = lib.func("void _exit(int code)");
  const write = lib.func("long write(int fd, const char *buf, unsigned long n)");
  libc = {
    prctl: (o, a, b, c, d) => prctl(o, a, b, c, d) as number,
    seccomp: (op, flags, prog) => Number(syscall4(nr, op, flags, prog)),
    actionAvailable: (action) => {
      const word = Buffer.alloc(4);
      word.writeUInt32LE(action >>> 0, 0);
      return Number(syscallPtr(nr, SECCOMP_GET_ACTION_AVAIL, 0, word));
    },
    probe: (n) => {
      const r = Number(syscall0(n));
      return r < 0 ? (koffi.decode(errnoLoc(), "int") as number) : 0;
    },
    execve: (path, argv, envp) => execve(path, argv, envp) as number,
    execveBuffers: (path, argv, envp) => execveRaw(path, argv, envp) as number,
    address: (buf) => koffi.address(buf) as bigint,
    fcntl: (fd, cmd, arg) => fcntl(fd, cmd, arg) as number,
    resetSignal: (sig) => {
      signal(sig, null);
    },
    raise: (sig) => raise(sig) as number,
    errno: () => koffi.decode(errnoLoc(), "int") as number,
    landlockCreateRuleset: (attr, size, flags) => Number(llCreate(444, attr, size, flags)),
    landlockAddRule: (fd, type, attr) => Number(llAdd(445, fd, type, attr, 0)),
    landlockRestrictSelf: (fd, flags) => Number(llRestrict(446, fd, flags)),
    exit: (code) => {
      exit(code);
      throw new Error("unreachable");
    },
    writeStderr: (text) => {
      const b = Buffer.from(text);
      write(2, text, b.length);
    },
  };
  // Warm every binding once so no lazy work (and no unexpected syscall) happens after a filter is in.
  libc.errno();
  libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  libc.fcntl(0, F_GETFD, 0);
  libc.actionAvailable(0x7fff0000);
  return libc;
}

/** Clears close-on-exec on fds 0–2: Node sets it, and an exec'd target would write into closed fds. */
export function inheritStdio(c: Libc): void {
  for (const fd of [0, 1, 2]) {
    const flags = c.fcntl(fd, F_GETFD, 0);
    if (flags >= 0 && flags & FD_CLOEXEC) c.fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}
