// The kernel calls of the eBPF toolkit, and its only koffi binding: bpf(2), perf_event_open(2), ioctl,
// close, mmap and munmap, bound on first use (createRequire, as src/install/ffi.ts does), so the pure
// parts of src/ebpf load on any OS without koffi's native module. Failures throw E_EBPF naming the call
// and the errno.
import { createRequire } from "node:module";
import { getSystemErrorName } from "node:util";
import { BPF_ATTR_SIZE, BPF_CMD_NAMES } from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";
import { errnoDescription } from "../util/errno.js";

/** __NR_bpf and __NR_perf_event_open per Node arch (arch/x86/entry/syscalls/syscall_64.tbl, asm-generic/unistd.h). */
const NR: Record<string, { bpf: number; perfEventOpen: number }> = {
  x64: { bpf: 321, perfEventOpen: 298 },
  arm64: { bpf: 280, perfEventOpen: 241 },
  riscv64: { bpf: 280, perfEventOpen: 241 },
};

// mmap(2) arguments, include/uapi/asm-generic/mman-common.h and mman.h.
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;

/** An mmapped region: its address as koffi gives it, and its length. */
export interface Mapping {
  readonly pointer: unknown;
  readonly length: number;
}

export interface EbpfSys {
  /** bpf(cmd, attr, attr.length): the result (an fd or 0), or -errno. Never throws. */
  bpfRaw(cmd: number, attr: Buffer): number;
  /**
   * bpf(cmd, attr) on koffi's worker thread (this one goes on meanwhile): the result, or -1 when it failed
   * (the errno stays on that thread). `keep`: the buffers attr points to, kept alive until it is done.
   */
  bpfAsync(cmd: number, attr: Buffer, keep?: readonly Buffer[]): Promise<number>;
  /**
   * Blocks this thread's asynchronous signals (all but the synchronous faults) until the returned function
   * is called: a signal pending during BPF_PROG_LOAD makes the verifier give up with EAGAIN, and a long
   * program's work is lost (a launcher's stop sends its parent SIGCHLD right then). A signal sent meanwhile
   * goes to another thread or waits, and is delivered when the mask is restored.
   */
  blockSignals(): () => void;
  perfEventOpenRaw(attr: Buffer, pid: number, cpu: number, groupFd: number, flags: number): number;
  ioctlRaw(fd: number, request: number, arg: number): number;
  close(fd: number): void;
  /** mmap(NULL, length, prot, MAP_SHARED, fd, offset); -errno as a number on failure. */
  mmapRaw(length: number, prot: number, fd: number, offset: number): Mapping | number;
  munmap(m: Mapping): void;
  /** The mapping's memory as an ArrayBuffer (no copy; valid until munmap). */
  view(m: Mapping): ArrayBuffer;
  /** The address of a buffer's memory, for the pointers inside bpf_attr (stable while the buffer lives). */
  address(buf: Buffer): bigint;
  /** sysconf(_SC_PAGESIZE). */
  pageSize(): number;
  /** An epoll instance watching each fd for input (EPOLLIN); its fd, or -errno. */
  epollFor(fds: number[]): number;
  /** A non-blocking eventfd (counter 0); its fd, or -errno. */
  eventFd(): number;
  /** Adds 1 to an eventfd's counter: it becomes readable, waking an epoll_wait on it. */
  signalEventFd(fd: number): void;
  /** epoll_wait(epfd, 1 event, timeoutMs) on koffi's worker thread: events ready (0: timeout or interrupted). */
  epollWait(epfd: number, timeoutMs: number): Promise<number>;
}

// epoll, include/uapi/linux/eventpoll.h: EPOLL_CTL_ADD, EPOLLIN, EPOLL_CLOEXEC (= O_CLOEXEC).
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 0x1;
const EPOLL_CLOEXEC = 0o2000000;
// eventfd, include/uapi/linux/eventfd.h: EFD_CLOEXEC (= O_CLOEXEC), EFD_NONBLOCK (= O_NONBLOCK).
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

let bound: EbpfSys | undefined;

type Koffi = typeof import("koffi");

/** The epoll and eventfd calls of EbpfSys, bound in `lib`; `failed` turns a result into -errno, `close` is close(2). */
function eventCalls(
  lib: ReturnType<Koffi["load"]>,
  failed: (r: number | bigint) => number,
  close: (fd: number) => unknown,
): Pick<EbpfSys, "epollFor" | "eventFd" | "signalEventFd" | "epollWait"> {
  const epollCreate = lib.func("int epoll_create1(int flags)");
  const epollCtl = lib.func("int epoll_ctl(int epfd, int op, int fd, void *event)");
  const epollWait = lib.func("int epoll_wait(int epfd, void *events, int maxevents, int timeout)");
  const eventfd = lib.func("int eventfd(unsigned int initval, int flags)");
  const write = lib.func("long write(int fd, void *buf, unsigned long n)");
  return {
    epollFor: (fds) => {
      const epfd = failed(epollCreate(EPOLL_CLOEXEC));
      if (epfd < 0) return epfd;
      // struct epoll_event: u32 events, then u64 data (packed on x86_64: 12 bytes; 16 elsewhere)
      const event = Buffer.alloc(16);
      event.writeUInt32LE(EPOLLIN, 0);
      for (const fd of fds) {
        const r = failed(epollCtl(epfd, EPOLL_CTL_ADD, fd, event));
        if (r < 0) {
          close(epfd);
          return r;
        }
      }
      return epfd;
    },
    eventFd: () => failed(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
    signalEventFd: (fd) => {
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      write(fd, one, 8);
    },
    epollWait: (epfd, timeoutMs) =>
      new Promise((resolve) => {
        const events = Buffer.alloc(16);
        epollWait.async(epfd, events, 1, timeoutMs, (err: unknown, r: number) => {
          // a failure (EINTR: a signal reached that thread) counts as nothing ready: the caller looks again
          resolve(err ? 0 : Math.max(r, 0));
          events.length; // the buffer lives until the call is done
        });
      }),
  };
}

/** glibc's sigset_t (1024 bits) and pthread_sigmask's how (bits/sigaction.h). */
const SIGSET_BYTES = 128;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** Every signal but the synchronous faults (SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11), 1–64. */
const ASYNC_SIGNALS = (() => {
  const set = Buffer.alloc(SIGSET_BYTES);
  for (let sig = 1; sig <= 64; sig++)
    if (![4, 5, 7, 8, 11].includes(sig)) set[(sig - 1) >> 3] |= 1 << ((sig - 1) & 7);
  return set;
})();

/** Binds the calls (once per thread: koffi functions are not shared between worker threads). */
export function ebpfSys(): EbpfSys {
  if (bound) return bound;
  const nr = process.platform === "linux" ? NR[process.arch] : undefined;
  if (!nr)
    throw new SysfenceError(
      "E_EBPF",
      `eBPF needs Linux on x86_64, arm64 or riscv64; this is ${process.platform} on ${process.arch}.`,
    );
  const require = createRequire(import.meta.url);
  const koffi = require("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  const bpf = lib.func("long syscall(long nr, long cmd, void *attr, unsigned long size)");
  const perf = lib.func(
    "long syscall(long nr, void *attr, long pid, long cpu, long group, unsigned long flags)",
  );
  const ioctl = lib.func("int ioctl(int fd, unsigned long request, unsigned long arg)");
  const close = lib.func("int close(int fd)");
  const mmap = lib.func("void *mmap(void *addr, unsigned long len, int prot, int flags, int fd, long off)");
  const munmap = lib.func("int munmap(void *addr, unsigned long len)");
  const sysconf = lib.func("long sysconf(int name)");
  const sigmask = lib.func("int pthread_sigmask(int how, void *set, void *old)");
  /** _SC_PAGESIZE in glibc's bits/confname.h. */
  const SC_PAGESIZE = 30;
  let page: number | undefined;
  const failed = (r: number | bigint) => (Number(r) < 0 ? -koffi.errno() : Number(r));
  bound = {
    bpfRaw: (cmd, attr) => failed(bpf(nr.bpf, cmd, attr, attr.length)),
    bpfAsync: (cmd, attr, keep = []) =>
      new Promise((resolve) => {
        bpf.async(nr.bpf, cmd, attr, attr.length, (err: unknown, r: number | bigint) => {
          resolve(err ? -1 : Math.max(Number(r), -1));
          attr.length + keep.length; // the buffers live until the call is done
        });
      }),
    blockSignals: () => {
      const old = Buffer.alloc(SIGSET_BYTES);
      if (sigmask(SIG_BLOCK, ASYNC_SIGNALS, old) !== 0) return () => {};
      return () => {
        sigmask(SIG_SETMASK, old, null);
      };
    },
    perfEventOpenRaw: (attr, pid, cpu, group, flags) =>
      failed(perf(nr.perfEventOpen, attr, pid, cpu, group, flags)),
    ioctlRaw: (fd, request, arg) => failed(ioctl(fd, request, arg)),
    close: (fd) => {
      close(fd);
    },
    mmapRaw: (length, prot, fd, offset) => {
      const pointer = mmap(null, length, prot, MAP_SHARED, fd, offset);
      const at = koffi.address(pointer) as bigint;
      if (at === 0xffffffffffffffffn || at === 0n) return -koffi.errno();
      return { pointer, length };
    },
    munmap: (m) => {
      munmap(m.pointer, m.length);
    },
    view: (m) => koffi.view(m.pointer, m.length),
    address: (buf) => koffi.address(buf) as bigint,
    pageSize: () => {
      page ??= Number(sysconf(SC_PAGESIZE));
      return page;
    },
    ...eventCalls(lib, failed, close),
  };
  return bound;
}

/** The kernel's internal "not supported" (include/linux/errno.h ENOTSUPP), which bpf(2) returns as is. */
const ENOTSUPP = 524;

/** "EPERM (operation not permitted)" for 1 or -1. */
export function errnoText(errno: number): string {
  const n = Math.abs(errno);
  if (n === ENOTSUPP) return "ENOTSUPP (operation not supported by this kernel)";
  let name: string;
  try {
    name = getSystemErrorName(-n);
  } catch {
    return `errno ${n}`;
  }
  const text = errnoDescription(name);
  return text ? `${name} (${text})` : name;
}

/** The errno name of -errno or errno ("EPERM"). */
export function errnoName(errno: number): string {
  if (Math.abs(errno) === ENOTSUPP) return "ENOTSUPP";
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return `errno ${Math.abs(errno)}`;
  }
}

/** An E_EBPF error for a failed call: "bpf(BPF_MAP_CREATE) failed: EPERM (operation not permitted) …". */
export function callError(call: string, errno: number, context = "", hint = ""): SysfenceError {
  const e = new SysfenceError(
    "E_EBPF",
    `${call} failed${context ? ` ${context}` : ""}: ${errnoText(errno)}.${hint ? ` ${hint}` : ""}`,
  );
  Object.assign(e, { errno: Math.abs(errno) });
  return e;
}

const PERMISSION_HINT = "Loading eBPF needs root (CAP_BPF and CAP_PERFMON).";

/** bpf(cmd, attr): the result, or throws E_EBPF naming the command and errno (and `context`). */
export function bpfCall(cmd: number, attr: Buffer, context = ""): number {
  const r = ebpfSys().bpfRaw(cmd, attr);
  if (r < 0) {
    const name = BPF_CMD_NAMES[cmd] ?? `command ${cmd}`;
    throw callError(`bpf(${name})`, r, context, r === -1 || r === -13 ? PERMISSION_HINT : "");
  }
  return r;
}

/** A zeroed union bpf_attr. */
export function bpfAttr(): Buffer {
  return Buffer.alloc(BPF_ATTR_SIZE);
}
