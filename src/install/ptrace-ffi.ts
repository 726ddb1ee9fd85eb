// The kernel calls of `sysfence dump`: ptrace(2) to seize and briefly stop one thread, read its seccomp
// filters and their flags, and let it go. Bound through koffi on first use, like ffi.ts. Constants from
// include/uapi/linux/ptrace.h and include/uapi/linux/wait.h (the same numbers on every architecture).
import { createRequire } from "node:module";
import { SysfenceError } from "../errors.js";

export const PTRACE_DETACH = 17;
export const PTRACE_SEIZE = 0x4206;
export const PTRACE_INTERRUPT = 0x4207;
export const PTRACE_SECCOMP_GET_FILTER = 0x420c;
export const PTRACE_SECCOMP_GET_METADATA = 0x420d;
/** waitpid(2): wait for any child, thread or not (a seized thread is a "clone" child of the tracer). */
const WALL = 0x40000000;
/** sizeof(struct seccomp_metadata): { __u64 filter_off; __u64 flags; }. */
const METADATA_SIZE = 16;

/** A call's result: the value, or -1 and the errno. */
export interface CallResult {
  value: number;
  errno: number;
}

/** The ptrace calls a dump makes. */
export interface PtraceCalls {
  /** PTRACE_SEIZE without options: the thread keeps running. */
  seize(tid: number): CallResult;
  /** PTRACE_INTERRUPT: the seized thread stops at the next chance (a group-stop or PTRACE_EVENT_STOP). */
  interrupt(tid: number): CallResult;
  /** waitpid(tid, &status, __WALL): the status word, or -1. */
  wait(tid: number): CallResult & { status: number };
  /** PTRACE_SECCOMP_GET_FILTER with no buffer: the filter's instruction count. */
  filterLength(tid: number, index: number): CallResult;
  /** PTRACE_SECCOMP_GET_FILTER into a buffer of 8 × length bytes. */
  readFilter(tid: number, index: number, buf: Buffer): CallResult;
  /** PTRACE_SECCOMP_GET_METADATA: the filter's flags (SECCOMP_FILTER_FLAG_LOG …). */
  filterFlags(tid: number, index: number): CallResult & { flags: number };
  /** PTRACE_DETACH, passing `signal` on (0: none) — a signal the stop intercepted is delivered after all. */
  detach(tid: number, signal: number): CallResult;
}

let bound: PtraceCalls | undefined;

/** Binds ptrace and waitpid through koffi (once). */
export function loadPtrace(): PtraceCalls {
  if (bound) return bound;
  if (process.platform !== "linux")
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      `reading seccomp filters needs Linux; this is ${process.platform}.`,
    );
  const require = createRequire(import.meta.url);
  const koffi = require("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  const ptrace = lib.func("long ptrace(int request, int pid, unsigned long addr, void *data)");
  const ptraceSig = lib.func("long ptrace(int request, int pid, unsigned long addr, unsigned long data)");
  const waitpid = lib.func("int waitpid(int pid, _Out_ int *status, int options)");
  const errnoLoc = lib.func("int *__errno_location()");
  const errno = () => koffi.decode(errnoLoc(), "int") as number;
  const call = (request: number, tid: number, addr: number, data: Buffer | null): CallResult => {
    const value = Number(ptrace(request, tid, addr, data));
    return { value, errno: value < 0 ? errno() : 0 };
  };
  bound = {
    seize: (tid) => call(PTRACE_SEIZE, tid, 0, null),
    interrupt: (tid) => call(PTRACE_INTERRUPT, tid, 0, null),
    wait: (tid) => {
      const status = [0];
      const value = waitpid(tid, status, WALL) as number;
      return { value, errno: value < 0 ? errno() : 0, status: status[0] };
    },
    filterLength: (tid, index) => call(PTRACE_SECCOMP_GET_FILTER, tid, index, null),
    readFilter: (tid, index, buf) => call(PTRACE_SECCOMP_GET_FILTER, tid, index, buf),
    filterFlags: (tid, index) => {
      const md = Buffer.alloc(METADATA_SIZE);
      md.writeBigUInt64LE(BigInt(index), 0);
      const r = call(PTRACE_SECCOMP_GET_METADATA, tid, METADATA_SIZE, md);
      return { ...r, flags: r.value < 0 ? 0 : Number(md.readBigUInt64LE(8)) };
    },
    detach: (tid, signal) =>
      Number(ptraceSig(PTRACE_DETACH, tid, 0, signal)) < 0
        ? { value: -1, errno: errno() }
        : { value: 0, errno: 0 },
  };
  return bound;
}
