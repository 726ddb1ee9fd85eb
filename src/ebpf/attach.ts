// Attaching loaded programs. Every attachment is a file descriptor (a BPF link, or a perf event holding
// the program): closing it detaches, and so does the end of the process that holds it — a crashed or
// killed sysfence leaves no probe behind. Attributes: include/uapi/linux/bpf.h (raw_tracepoint member of
// union bpf_attr) and include/uapi/linux/perf_event.h (struct perf_event_attr).
import { existsSync, readFileSync } from "node:fs";
import {
  BPF_RAW_TRACEPOINT_OPEN,
  PERF_ATTR_SIZE,
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  PERF_FLAG_FD_CLOEXEC,
  PERF_TYPE_TRACEPOINT,
} from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";
import { bpfAttr, bpfCall, callError, ebpfSys } from "./sys.js";

/** An attached program; close() detaches it. The fd also dies with the process. */
export interface EbpfLink {
  readonly fd: number;
  /** "raw_tp", "tp_btf" or "tracepoint". */
  readonly kind: string;
  /** The hook: "sys_enter", "syscalls/sys_enter_getppid". */
  readonly target: string;
  close(): void;
}

function link(fd: number, kind: string, target: string, before?: () => void): EbpfLink {
  let open = true;
  return {
    fd,
    kind,
    target,
    close() {
      if (!open) return;
      open = false;
      before?.();
      ebpfSys().close(fd);
    },
  };
}

function rawTracepointOpen(progFd: number, name: string | null, what: string): number {
  const sys = ebpfSys();
  const attr = bpfAttr();
  const text = name === null ? null : Buffer.from(`${name}\0`, "latin1");
  if (text) attr.writeBigUInt64LE(sys.address(text), 0);
  attr.writeUInt32LE(progFd, 8);
  const fd = bpfCall(BPF_RAW_TRACEPOINT_OPEN, attr, what);
  text?.length; // keeps the name alive across the call
  return fd;
}

/** Attaches a BPF_PROG_TYPE_RAW_TRACEPOINT program to raw tracepoint `name` ("sys_enter"). */
export function attachRawTracepoint(progFd: number, name: string): EbpfLink {
  return link(rawTracepointOpen(progFd, name, `attaching to raw tracepoint "${name}"`), "raw_tp", name);
}

/**
 * Attaches a tp_btf program: BPF_PROG_TYPE_TRACING loaded with expected attach type BPF_TRACE_RAW_TP and
 * attach_btf_id the id of vmlinux's btf_trace_<name> typedef (btfTraceId()); the kernel knows the hook
 * from that id, so the name passed is null. `name` only labels the link.
 */
export function attachTpBtf(progFd: number, name = ""): EbpfLink {
  return link(
    rawTracepointOpen(progFd, null, `attaching tp_btf program${name ? ` "${name}"` : ""}`),
    "tp_btf",
    name,
  );
}

const TRACEFS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/** The id of tracepoint category/name from tracefs (events/<category>/<name>/id). */
export function tracepointId(category: string, name: string): number {
  if (!/^\w+$/.test(category) || !/^\w+$/.test(name))
    throw new SysfenceError("E_EBPF", `Tracepoint "${category}/${name}" is not two words (category/name).`);
  for (const root of TRACEFS) {
    const path = `${root}/events/${category}/${name}/id`;
    if (existsSync(path)) return Number(readFileSync(path, "utf8").trim());
  }
  const mounted = TRACEFS.find((root) => existsSync(`${root}/events`));
  throw new SysfenceError(
    "E_EBPF",
    mounted
      ? `Tracepoint "${category}/${name}" is not in ${mounted}/events; this kernel does not have it.`
      : `Tracefs is not mounted (neither ${TRACEFS.join(" nor ")} has events/); mount it with: mount -t tracefs nodev /sys/kernel/tracing`,
  );
}

/**
 * Attaches a BPF_PROG_TYPE_TRACEPOINT program to classic tracepoint category/name: a perf event of type
 * PERF_TYPE_TRACEPOINT (one, on CPU 0: the program runs on every CPU), PERF_EVENT_IOC_SET_BPF, ENABLE.
 */
export function attachTracepoint(progFd: number, category: string, name: string): EbpfLink {
  const id = tracepointId(category, name);
  const sys = ebpfSys();
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  attr.writeUInt32LE(PERF_TYPE_TRACEPOINT, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(BigInt(id), 8);
  const target = `${category}/${name}`;
  const fd = sys.perfEventOpenRaw(attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) throw callError("perf_event_open", fd, `for tracepoint "${target}" (id ${id})`);
  for (const [request, arg, what] of [
    [PERF_EVENT_IOC_SET_BPF, progFd, "PERF_EVENT_IOC_SET_BPF"],
    [PERF_EVENT_IOC_ENABLE, 0, "PERF_EVENT_IOC_ENABLE"],
  ] as const) {
    const r = sys.ioctlRaw(fd, request, arg);
    if (r < 0) {
      sys.close(fd);
      throw callError(`ioctl(${what})`, r, `on tracepoint "${target}"`);
    }
  }
  return link(fd, "tracepoint", target, () => sys.ioctlRaw(fd, PERF_EVENT_IOC_DISABLE, 0));
}
