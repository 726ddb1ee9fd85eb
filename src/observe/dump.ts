// `sysfence dump`: every seccomp filter of a running process's threads, read from the kernel with
// ptrace(PTRACE_SECCOMP_GET_FILTER). The kernel hands filters out only to a caller with CAP_SYS_ADMIN that
// is not itself under seccomp, for a thread it has ptrace-stopped; so each thread with filters is seized,
// interrupted, read and detached at once (a stop of a few system calls). Index 0 is the oldest filter
// (kernel/seccomp.c get_nth_filter counts from the first installed; test/observe/dump.test.ts checks it).
import { readdirSync, readFileSync } from "node:fs";
import { decodeProgram, type Insn } from "../bpf/insn.js";
import { SysfenceError } from "../errors.js";
import type { PtraceCalls } from "../install/ptrace-ffi.js";

/** One filter of a thread's stack. */
export interface DumpedFilter {
  /** 0 = the oldest (the first installed). */
  index: number;
  /** SECCOMP_FILTER_FLAG_* the filter was installed with, as the kernel keeps them (only LOG is kept). */
  flags: string[];
  program: Insn[];
}

/** Threads that have the same filter stack. */
export interface ThreadStack {
  tids: number[];
  /** /proc's Seccomp field: disabled (no filter), strict (mode 1) or filter. */
  mode: "disabled" | "strict" | "filter";
  /** Oldest first. */
  filters: DumpedFilter[];
}

/** A process's filters. */
export interface Dump {
  pid: number;
  command: string;
  stacks: ThreadStack[];
  /** Threads that ended while being read. */
  gone: number[];
}

const SECCOMP_FILTER_FLAG_LOG = 2;
const CAP_SYS_ADMIN = 21;
const EPERM = 1;
const ESRCH = 3;
const ENOENT = 2;
const EIO = 5;
const EACCES = 13;
const EINVAL = 22;
const EMEDIUMTYPE = 124;
/** PTRACE_EVENT_STOP: the stop PTRACE_INTERRUPT asks for. */
const PTRACE_EVENT_STOP = 128;

/** The "Key:\tvalue" lines of a /proc status file. */
export function statusFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** A precondition failed: exit 2, never 1 (a finding). */
const fail = (message: string) => new SysfenceError("E_DUMP", message, { exitStatus: 2 });

/** The caller's own preconditions: CAP_SYS_ADMIN and no seccomp filter of its own. */
export function checkCaller(selfStatus: string): void {
  const f = statusFields(selfStatus);
  const caps = BigInt(`0x${f.get("CapEff") ?? "0"}`);
  const problems: string[] = [];
  if (((caps >> BigInt(CAP_SYS_ADMIN)) & 1n) === 0n)
    problems.push(
      "this process lacks CAP_SYS_ADMIN, which the kernel requires to hand out seccomp filters (run sysfence dump as root)",
    );
  if ((f.get("Seccomp") ?? "0") !== "0")
    problems.push(
      `this process is itself under seccomp (Seccomp: ${f.get("Seccomp")} in /proc/self/status), and the kernel refuses filters to such a caller (run sysfence dump outside the container or sandbox)`,
    );
  if (problems.length) throw fail(`cannot read seccomp filters: ${problems.join("; and ")}.`);
}

/** The errors PTRACE_SECCOMP_GET_FILTER gives, as the precondition that failed. */
function filterError(errno: number, pid: number, tid: number): SysfenceError {
  switch (errno) {
    case EIO:
      return fail(
        "this kernel does not know PTRACE_SECCOMP_GET_FILTER (EIO: built without CONFIG_CHECKPOINT_RESTORE, or older than 4.4); its filters cannot be read.",
      );
    case EACCES:
      return fail(
        `the kernel refused to hand out thread ${tid}'s filters (EACCES): the caller needs CAP_SYS_ADMIN in the initial user namespace and must not be under seccomp itself; run sysfence dump as root on the host.`,
      );
    case EMEDIUMTYPE:
      return fail(
        `thread ${tid} of process ${pid} has a filter that was not loaded as classic BPF (EMEDIUMTYPE); the kernel cannot hand it out.`,
      );
    default:
      return fail(`PTRACE_SECCOMP_GET_FILTER on thread ${tid} of process ${pid} failed with errno ${errno}.`);
  }
}

/** Reads one stopped thread's filters, oldest first. */
function readStack(calls: PtraceCalls, pid: number, tid: number): DumpedFilter[] {
  const filters: DumpedFilter[] = [];
  for (let index = 0; ; index++) {
    const len = calls.filterLength(tid, index);
    if (len.value < 0) {
      // ENOENT: past the newest filter; EINVAL: the thread is not in filter mode (no filter at all)
      if (len.errno === ENOENT || len.errno === EINVAL) return filters;
      throw filterError(len.errno, pid, tid);
    }
    const buf = Buffer.alloc(len.value * 8);
    const r = calls.readFilter(tid, index, buf);
    if (r.value < 0) throw filterError(r.errno, pid, tid);
    const md = calls.filterFlags(tid, index);
    const flags = md.value >= 0 && md.flags & SECCOMP_FILTER_FLAG_LOG ? ["log"] : [];
    filters.push({ index, flags, program: decodeProgram(buf.subarray(0, r.value * 8), `filter ${index}`) });
  }
}

/**
 * Seizes one thread, stops it, reads its filters and detaches — always, whatever failed in between.
 * undefined when the thread ended first.
 */
export function dumpThread(calls: PtraceCalls, pid: number, tid: number): DumpedFilter[] | undefined {
  const seized = calls.seize(tid);
  if (seized.value < 0) {
    if (seized.errno === ESRCH) return undefined;
    throw fail(
      seized.errno === EPERM
        ? `cannot ptrace thread ${tid} of process ${pid} (EPERM): it is already traced (a debugger or strace; see TracerPid in /proc/${pid}/task/${tid}/status), or kernel.yama.ptrace_scope forbids it. Detach the other tracer and retry.`
        : `PTRACE_SEIZE of thread ${tid} of process ${pid} failed with errno ${seized.errno}.`,
    );
  }
  let signal = 0;
  try {
    if (calls.interrupt(tid).value < 0) return undefined;
    const w = calls.wait(tid);
    if (w.value < 0 || (w.status & 0xff) !== 0x7f) return undefined; // ended, not stopped
    // a signal-delivery stop (not the interrupt's event stop) holds a signal: pass it on when detaching
    if (w.status >>> 16 !== PTRACE_EVENT_STOP) signal = (w.status >> 8) & 0xff;
    return readStack(calls, pid, tid);
  } finally {
    calls.detach(tid, signal);
  }
}

const key = (filters: readonly DumpedFilter[]) =>
  filters
    .map((f) => `${f.flags.join(",")}:${f.program.map((i) => `${i.code},${i.jt},${i.jf},${i.k}`).join(";")}`)
    .join("|");

/** The /proc reads a dump makes (tests pass their own). */
export interface ProcReader {
  exists(pid: number): boolean;
  threads(pid: number): number[];
  status(pid: number, tid?: number): string | undefined;
  comm(pid: number): string;
}

export const procReader: ProcReader = {
  exists: (pid) => {
    try {
      readFileSync(`/proc/${pid}/stat`);
      return true;
    } catch {
      return false;
    }
  },
  threads: (pid) =>
    readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .sort((a, b) => a - b),
  status: (pid, tid) => {
    try {
      return readFileSync(
        tid === undefined ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`,
        "utf8",
      );
    } catch {
      return undefined;
    }
  },
  comm: (pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      return "?";
    }
  },
};

/** Every thread's filters, threads with the same stack together. */
export function dumpProcess(pid: number, calls: PtraceCalls, proc: ProcReader = procReader): Dump {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new SysfenceError("E_USAGE", `--pid '${pid}': give a process id (a positive integer).`);
  if (pid === process.pid)
    throw new SysfenceError("E_USAGE", `--pid ${pid} is sysfence itself; a process cannot ptrace itself.`);
  if (!proc.exists(pid))
    throw new SysfenceError("E_USAGE", `no process ${pid} (/proc/${pid} does not exist).`);
  checkCaller(proc.status(process.pid) ?? "");
  const command = proc.comm(pid);
  const stacks = new Map<string, ThreadStack>();
  const gone: number[] = [];
  for (const tid of proc.threads(pid)) {
    const status = proc.status(pid, tid);
    if (status === undefined) {
      gone.push(tid);
      continue;
    }
    const f = statusFields(status);
    // a zombie has no filters left to read (and cannot be seized)
    if ((f.get("State") ?? "").startsWith("Z")) {
      gone.push(tid);
      continue;
    }
    const mode = f.get("Seccomp") === "2" ? "filter" : f.get("Seccomp") === "1" ? "strict" : "disabled";
    let filters: DumpedFilter[] = [];
    if (mode === "filter") {
      const read = dumpThread(calls, pid, tid);
      if (read === undefined) {
        gone.push(tid);
        continue;
      }
      filters = read;
    }
    const k = `${mode}/${key(filters)}`;
    const s = stacks.get(k);
    if (s) s.tids.push(tid);
    else stacks.set(k, { tids: [tid], mode, filters });
  }
  if (stacks.size === 0) throw fail(`process ${pid} ended before its filters could be read.`);
  return { pid, command, stacks: [...stacks.values()], gone };
}
