// `sysfence dump --pid PID`: every seccomp filter of a running process's threads, read from the kernel
// through ptrace, and its text, JSON and raw forms. Returns results; prints nothing.
import { encodeProgram } from "../bpf/insn.js";
import type { Dump } from "../observe/dump.js";

export type { Dump };

/** Reads every filter of the threads of `pid` (needs CAP_SYS_ADMIN; each thread stopped only while read). */
export async function dumpPid(pid: number): Promise<Dump> {
  const { dumpProcess } = await import("../observe/dump.js");
  const { loadPtrace } = await import("../install/ptrace-ffi.js");
  return dumpProcess(pid, loadPtrace());
}

/** A dump as text: disasm listings per distinct stack (`sysfence diff` reads it back). */
export async function dumpText(d: Dump): Promise<string> {
  return (await import("../observe/dump-format.js")).formatDumpText(d);
}

/** A dump as JSON-ready data: every stack with its filters (`sysfence diff` reads it back). */
export async function dumpJsonOf(d: Dump): Promise<unknown> {
  return (await import("../observe/dump-format.js")).dumpJson(d);
}

/** One filter of a dump as raw BPF bytes: of thread `tid` (default the main thread), stack index `index`. */
export async function dumpFilterBytes(d: Dump, tid?: number, index?: number): Promise<Buffer> {
  const f = await import("../observe/dump-format.js");
  return encodeProgram(f.pickFilter(d, tid, index));
}
