// Program load (BPF_PROG_LOAD). A refused program is loaded again with the verifier's log, and the error
// carries the program's name, the errno and the log's last lines. bpf_attr layout: include/uapi/linux/bpf.h
// (the BPF_PROG_LOAD member of union bpf_attr).
import { BPF_PROG_LOAD } from "../abi/ebpf.js";
import { SysfenceError } from "../errors.js";
import { checkObjectName } from "./maps.js";
import { bpfAttr, ebpfSys, errnoText } from "./sys.js";

/**
 * The license string of the programs sysfence generates: GPL-compatible, as GPL-only helpers
 * (probe_read_user_str, get_current_task_btf …) require, and offered under MIT or GPL-2.0 (see NOTICE).
 */
export const EBPF_LICENSE = "Dual MIT/GPL";

export interface LoadSpec {
  /** BPF_PROG_TYPE_* (src/abi/ebpf.ts). */
  type: number;
  code: Buffer;
  license: string;
  /** Up to 15 of [A-Za-z0-9_.]; named in errors and by bpftool. */
  name?: string;
  /** BPF_* attach type the verifier checks against (BPF_TRACE_RAW_TP for tp_btf). */
  expectedAttachType?: number;
  /** The BTF type id the program attaches to (for tp_btf: the btf_trace_<name> typedef in vmlinux). */
  attachBtfId?: number;
  /** Bytes of verifier log asked for when the first load fails (default 1 MiB). */
  logSize?: number;
}

/** How many of the verifier log's last lines an E_EBPF_VERIFIER message carries. */
export const VERIFIER_TAIL_LINES = 20;

function loadAttr(spec: LoadSpec, license: Buffer, log: Buffer | null, level: number): Buffer {
  const sys = ebpfSys();
  const attr = bpfAttr();
  attr.writeUInt32LE(spec.type, 0);
  attr.writeUInt32LE(spec.code.length / 8, 4);
  attr.writeBigUInt64LE(sys.address(spec.code), 8);
  attr.writeBigUInt64LE(sys.address(license), 16);
  if (log) {
    attr.writeUInt32LE(level, 24);
    attr.writeUInt32LE(log.length, 28);
    attr.writeBigUInt64LE(sys.address(log), 32);
  }
  checkObjectName(spec.name ?? "", "program").copy(attr, 48);
  attr.writeUInt32LE(spec.expectedAttachType ?? 0, 68);
  attr.writeUInt32LE(spec.attachBtfId ?? 0, 108);
  return attr;
}

const EAGAIN = 11;
const ENOSPC = 28;
/** Loads after the first that a pending signal may abandon (the verifier stops with EAGAIN; libbpf retries
 * too, 5 times: under a storm of signals, a test here, 5 left 5% of loads failed). */
const EAGAIN_RETRIES = 50;

/** BPF_PROG_LOAD, again while the verifier gives up for a pending signal (a child's SIGCHLD, a timer). */
function load(attr: Buffer): number {
  const sys = ebpfSys();
  // signals wait (or go to another thread) while the verifier works: each would cost it a restart
  const restore = sys.blockSignals();
  try {
    let fd = sys.bpfRaw(BPF_PROG_LOAD, attr);
    for (let i = 0; fd === -EAGAIN && i < EAGAIN_RETRIES; i++) fd = sys.bpfRaw(BPF_PROG_LOAD, attr);
    return fd;
  } finally {
    restore();
  }
}

/**
 * loadProgram with its verification on koffi's worker thread, so that this thread goes on meanwhile (a
 * long program's verification takes ~100 ms). A load that fails there (refused, or given up for a signal
 * pending on that thread) is made again here by loadProgram, which retries and explains.
 */
export async function loadProgramAsync(spec: LoadSpec): Promise<number> {
  if (spec.code.length === 0 || spec.code.length % 8 !== 0) return loadProgram(spec);
  const license = Buffer.from(`${spec.license}\0`, "latin1");
  const attr = loadAttr(spec, license, null, 0);
  const fd = await ebpfSys().bpfAsync(BPF_PROG_LOAD, attr, [spec.code, license]);
  return fd >= 0 ? fd : loadProgram(spec);
}

/** Loads a program: its fd. Throws E_EBPF_VERIFIER with the verifier's last lines when it is refused. */
export function loadProgram(spec: LoadSpec): number {
  if (spec.code.length === 0 || spec.code.length % 8 !== 0)
    throw new SysfenceError(
      "E_EBPF",
      `eBPF program "${spec.name ?? ""}" is ${spec.code.length} bytes; a program is a non-empty multiple of 8.`,
    );
  const license = Buffer.from(`${spec.license}\0`, "latin1");
  const fd = load(loadAttr(spec, license, null, 0));
  if (fd >= 0) return fd;
  // Again with the log: the verifier explains what it refused. A log that outgrows the buffer fails the load
  // with ENOSPC; since Linux 6.4 the buffer then holds the log's end (before, its start).
  const log = Buffer.alloc(spec.logSize ?? 1 << 20);
  const again = load(loadAttr(spec, license, log, 1));
  if (again >= 0) return again;
  const nul = log.indexOf(0);
  const text = log.toString("latin1", 0, nul < 0 ? log.length : nul);
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (again === -ENOSPC) lines.shift(); // the kept end starts inside a line
  const tail = lines.slice(-VERIFIER_TAIL_LINES);
  const who = `eBPF program "${spec.name ?? ""}" (type ${spec.type}, ${spec.code.length / 8} instructions)`;
  const e = new SysfenceError(
    "E_EBPF_VERIFIER",
    lines.length
      ? `The kernel refused ${who}: ${errnoText(fd)}. The verifier's last ${tail.length} of ${lines.length} lines${again === -ENOSPC ? ` (of the ${log.length} bytes of log kept; the whole log is longer)` : ""}:\n${tail.join("\n")}`
      : `The kernel refused ${who}: ${errnoText(fd)}, and the verifier wrote no log${fd === -1 ? " (loading eBPF needs root: CAP_BPF and CAP_PERFMON)" : ""}.`,
  );
  Object.assign(e, { errno: -fd, verifierLog: text });
  throw e;
}
