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
}

let bound: EbpfSys | undefined;

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
  /** _SC_PAGESIZE in glibc's bits/confname.h. */
  const SC_PAGESIZE = 30;
  let page: number | undefined;
  const failed = (r: number | bigint) => (Number(r) < 0 ? -koffi.errno() : Number(r));
  bound = {
    bpfRaw: (cmd, attr) => failed(bpf(nr.bpf, cmd, attr, attr.length)),
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
  };
  return bound;
}

/** "EPERM (operation not permitted)" for 1 or -1. */
export function errnoText(errno: number): string {
  const n = Math.abs(errno);
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
