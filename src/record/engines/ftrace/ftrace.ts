// The ftrace engine: the kernel's own syscall tracepoints instead of ptrace. The tracee never stops, so a
// syscall-heavy program runs at close to full speed; the kernel follows forks (event-fork) and records
// every call's number and six argument registers, the return value and each exec's file name. What it
// cannot see: strings and structures in memory (paths, marker text, sockaddrs, clone3's struct).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { release } from "node:os";
import { SysfenceError } from "../../../errors.js";
import { nativeArch } from "../../../syscalls/arches.js";
import { argCount } from "../../../syscalls/args.js";
import { errnoName, signalName } from "../../../syscalls/constants.js";
import { syscallName, syscallNumber } from "../../../syscalls/table.js";
import { ProfileBuilder } from "../../builder.js";
import { refuseMarkerPhase } from "../../engine.js";
import { Ev, EventBatch, Result, StringTable } from "../../events.js";
import { traceLaunch } from "../../launched.js";
import type { RecordOptions } from "../../options.js";
import { Access } from "../../path-access.js";
import type { Profile } from "../../profile.js";
import { INTERESTING_ARGS, MAX_VALUES, VALUES_OMITTED } from "../../profile.js";

const TRACEFS = "/sys/kernel/tracing";
/** The end-of-recording mark: fixed text and a per-session secret, written by sysfence's own pid. */
const endMarkText = () => `sysfence-end-of-recording-${randomBytes(8).toString("hex")}`;

/** Where tracefs is, mounting it when needed (root); a clear error otherwise. */
function tracefs(): string {
  if (existsSync(`${TRACEFS}/events/raw_syscalls`)) return TRACEFS;
  spawnSync("mount", ["-t", "tracefs", "nodev", TRACEFS], { stdio: "ignore" });
  if (existsSync(`${TRACEFS}/events/raw_syscalls`)) return TRACEFS;
  throw new SysfenceError(
    "E_SECCOMP_UNAVAILABLE",
    `--engine ftrace needs the kernel's tracefs with syscall tracepoints at ${TRACEFS} (root, CONFIG_FTRACE_SYSCALLS); use --engine strace.`,
  );
}
/** Whether the ftrace engine can run here: root, and tracefs with syscall tracepoints (mounted if needed). */
export function tracepointsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    return existsSync(`${tracefs()}/instances`);
  } catch {
    return false;
  }
}

// "comm-TID (TGID) [CPU] flags TIME: event: body" (options/record-tgid adds the thread group id)
const LINE = /^\s*(.*?)-(\d+)\s+\(\s*(\d+|-+)\)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$/;

/** The ftrace adapter: tracepoint lines in, the decoded event model (events.ts) out, fed to the builder. */
export class FtraceAdapter {
  /** Each thread's call in progress: its number, argument registers, and (an exec) the new file's name. */
  private readonly pending = new Map<number, { nr: number; regs: string[]; exe?: string }>();
  private readonly seen = new Set<number>();
  /** The status each process's exit_group asked for (by tgid), until a new process takes the pid. */
  private readonly exitStatus = new Map<number, number>();
  private readonly exitGroupNr: number;
  /** Threads that ended while their process went on (tid → tgid): their exits wait for the process's. */
  private readonly exitedThreads = new Map<number, number>();
  private readonly exitedOf = new Map<number, Set<number>>();
  private readonly strings = new StringTable();
  private readonly out = new EventBatch(4096);
  /** Register text (hex) → the string id of its decimal value. */
  private readonly regIds = new Map<string, number>();
  private readonly sysIds = new Map<number, number>();
  lost = 0;
  constructor(
    private readonly builder: ProfileBuilder,
    private readonly endMark: { pid: number; text: string },
    private readonly arch = nativeArch(),
  ) {
    this.exitGroupNr = syscallNumber(arch, "exit_group") ?? -1;
  }

  /**
   * Reads one line; returns true when it was sysfence's end marker: a trace_marker write of this
   * session's mark by sysfence's own process (a traced program can write the same text, or exec a file
   * named like it; neither ends the recording).
   */
  line(text: string): boolean {
    const m = LINE.exec(text);
    if (!m) return false;
    const tid = Number(m[2]);
    const tgid = Number(m[3]);
    const time = Number(m[4]);
    const kind = m[5];
    const body = m[6];
    // (sysfence's main thread writes it: its tid is its pid; the tgid column is unknown for untraced tasks)
    if (kind === "tracing_mark_write") return tid === this.endMark.pid && body.trim() === this.endMark.text;
    if (kind === "sched_process_exit") {
      // a traced thread ended (its tid may come back as another task's)
      if (!this.seen.delete(tid)) return false;
      this.pending.delete(tid);
      // while its process lives (a leader may end first, before a thread it made was ever seen), the exit
      // waits for the group's end, so the process is not taken as over; kernels that do not say whether
      // the group is dead give each exit at once
      if (/group_dead=false/.test(body)) {
        this.exitedThreads.set(tid, tgid);
        const group = this.exitedOf.get(tgid) ?? new Set<number>();
        this.exitedOf.set(tgid, group.add(tid));
        return false;
      }
      for (const t of this.exitedOf.get(tgid) ?? []) {
        this.exitedThreads.delete(t);
        this.exit(t, tgid, time);
      }
      this.exitedOf.delete(tgid);
      this.exit(tid, tgid, time);
      return false;
    }
    // a thread the kernel made (clone3's CLONE_THREAD is in memory, out of our sight): its group says so
    if (!this.seen.has(tid)) {
      this.seen.add(tid);
      // a tid that ended in a process still running has come back as another task's: the old one is over
      const was = this.exitedThreads.get(tid);
      if (was !== undefined) {
        this.exitedThreads.delete(tid);
        this.exitedOf.get(was)?.delete(tid);
        this.exit(tid, was, time);
      }
      // a new process (or a pid come back): no exit status yet
      if (tgid === tid) this.exitStatus.delete(tid);
      if (tgid && tgid !== tid) {
        const i = this.out.push(Ev.thread, tid, -1);
        this.out.columns.n[i] = tgid;
      }
    }
    if (kind === "sys_enter") {
      const e = /^NR (-?\d+) \(([^)]*)\)/.exec(body);
      if (!e) return false;
      const nr = Number(e[1]);
      if (nr < 0) return false;
      const regs = e[2].split(",").map((r) => r.trim());
      if (nr === this.exitGroupNr && /^[0-9a-f]+$/i.test(regs[0] ?? ""))
        this.exitStatus.set(tgid, Number(BigInt(`0x${regs[0]}`) & 0xffn));
      if (this.isExec(nr)) {
        // a row at exit, with the file name sched_process_exec reports in between
        this.pending.set(tid, { nr, regs });
        return false;
      }
      const i = this.out.push(Ev.unfinished, tid, this.sysId(nr));
      this.out.columns.time[i] = time;
      this.values(i, this.nameOf(nr), regs);
      this.pending.set(tid, { nr, regs });
    } else if (kind === "sys_exit") {
      const e = /^NR (-?\d+) = (-?\d+)/.exec(body);
      if (!e) return false;
      const p = this.pending.get(tid);
      if (!p || p.nr !== Number(e[1])) return false; // the exit of a call made before tracing started
      this.pending.delete(tid);
      const ret = Number(e[2]);
      const err = ret < 0 && ret >= -4095 ? errnoName(-ret) : undefined;
      const exec = this.isExec(p.nr);
      const i = this.out.push(exec ? Ev.call : Ev.resume, tid, this.sysId(p.nr));
      this.out.columns.time[i] = time;
      this.out.columns.result[i] = err ? Result.failed : Result.ok;
      if (err) this.out.columns.errno[i] = this.strings.id(err);
      if (exec) {
        this.values(i, this.nameOf(p.nr), p.regs);
        if (p.exe !== undefined) {
          this.out.columns.text[i] = this.out.columns.path[i] = this.strings.id(p.exe);
          this.out.columns.access[i] = Access.exec;
        }
      }
    } else if (kind === "sched_process_exec") {
      const e = /filename=(.*) pid=(\d+) old_pid=(\d+)/.exec(body);
      const p = e ? this.pending.get(Number(e[3])) : undefined;
      if (e && p) {
        p.exe = e[1];
        // a non-leader thread that execs takes over the leader's pid
        if (e[2] !== e[3]) {
          this.pending.delete(Number(e[3]));
          this.pending.set(Number(e[2]), p);
        }
      }
    } else if (kind === "signal_deliver") {
      const e = /sig=(\d+)/.exec(body);
      if (e) {
        const name = signalName(Number(e[1])) ?? `SIG${e[1]}`;
        const i = this.out.push(Ev.signal, tid, -1);
        this.out.columns.text[i] = this.strings.id(name);
        this.out.columns.time[i] = time;
      }
    }
    return false;
  }

  /** Thread tid of process tgid ended: with the status its process's exit_group asked for, if any. */
  private exit(tid: number, tgid: number, time: number): void {
    const i = this.out.push(Ev.exit, tid, -1);
    this.out.columns.time[i] = time;
    // (a process killed by a signal has no status a tracepoint shows)
    this.out.columns.n[i] = this.exitStatus.get(tgid) ?? -1;
  }

  /** Feeds the events read so far to the builder. */
  flush(): void {
    if (this.out.length === 0) return;
    this.builder.addBatch(this.out.columns, this.strings.list);
    this.out.clear();
  }

  /** The values of the registers worth filtering, in row i (clone3's flags are in memory: none). */
  private values(i: number, name: string, regs: string[]): void {
    const idx = INTERESTING_ARGS[name];
    if (!idx || name === "clone3") return;
    // only the registers the call takes (vfork's are leftovers and would look like clone flags)
    const count = argCount(name) ?? 6;
    const cols = [this.out.columns.v0, this.out.columns.v1, this.out.columns.v2];
    for (let k = 0; k < idx.length && k < 3; k++) {
      const reg = idx[k] < count ? regs[idx[k]] : undefined;
      if (reg === undefined || !/^[0-9a-f]+$/i.test(reg)) continue;
      let id = this.regIds.get(reg);
      if (id === undefined) {
        // past MAX_VALUES distinct values, new ones are not kept (the generator then allows any)
        id = this.strings.id(this.regIds.size < MAX_VALUES ? BigInt(`0x${reg}`).toString() : VALUES_OMITTED);
        if (this.regIds.size < MAX_VALUES) this.regIds.set(reg, id);
      }
      cols[k][i] = id;
    }
  }

  private isExec(nr: number): boolean {
    const name = this.nameOf(nr);
    return name === "execve" || name === "execveat";
  }

  private sysId(nr: number): number {
    let id = this.sysIds.get(nr);
    if (id === undefined) {
      id = this.strings.id(this.nameOf(nr));
      this.sysIds.set(nr, id);
    }
    return id;
  }

  private nameOf(nr: number): string {
    return syscallName(this.arch, nr) ?? `syscall_${nr}`;
  }
}

/**
 * One tracing instance of sysfence's (instances/sysfence-PID): events on for a set of tids and their
 * future children, a reader draining trace_pipe into the builder, and the end mark that proves the
 * reader has seen everything. close() removes it on every path.
 */
export class FtraceSession {
  private readonly inst: string;
  private reading?: Promise<void>;
  private endBy?: number;
  private readonly endMark = { pid: process.pid, text: endMarkText() };
  private readonly reaper: ChildProcess | undefined;

  constructor(private readonly builder: ProfileBuilder) {
    const root = tracefs();
    removeStaleInstances(root);
    this.inst = `${root}/instances/sysfence-${process.pid}`;
    mkdirSync(this.inst);
    this.reaper = startInstanceReaper(this.inst);
    // room for every event of a short, busy run: the reader drains it while the program runs
    for (const kb of ["131072", "65536", "32768", "8192"]) {
      try {
        this.set("buffer_size_kb", kb);
        break;
      } catch {
        // smaller
      }
    }
    this.set("options/event-fork", "1");
    this.set("options/record-tgid", "1");
  }

  private set(file: string, value: string): void {
    writeFileSync(`${this.inst}/${file}`, value);
  }

  /** Starts tracing these tids (and every task they start), and reading. */
  start(tids: readonly number[]): void {
    this.set("set_event_pid", tids.join(" "));
    for (const ev of [
      "raw_syscalls/sys_enter",
      "raw_syscalls/sys_exit",
      "sched/sched_process_exec",
      "sched/sched_process_exit",
      "signal/signal_deliver",
    ])
      this.set(`events/${ev}/enable`, "1");
    const adapter = new FtraceAdapter(this.builder, this.endMark);
    // non-blocking reads, polled: a blocking read of trace_pipe would hold a libuv thread (and exit) forever
    const fd = openSync(`${this.inst}/trace_pipe`, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    this.reading = drain(fd, adapter, () => this.endBy).finally(() => closeSync(fd));
  }

  /** Events off, the end mark written, and every event before it read. Returns the events lost. */
  async stop(): Promise<number> {
    this.set("events/enable", "0");
    this.set("trace_marker", this.endMark.text);
    this.endBy = Date.now() + 10_000; // once the end mark is written, it must arrive within 10 s
    await this.reading;
    return overruns(this.inst);
  }

  close(): void {
    try {
      this.set("events/enable", "0");
      rmdirSync(this.inst);
    } catch {
      // best effort: removed by the next sysfence start (removeStaleInstances) when it stays
    }
    this.reaper?.stdin?.end("done\n");
  }
}

/** The engine field of a profile this engine recorded. */
export function ftraceEngine(lost: number): Profile["engine"] {
  return {
    name: "ftrace",
    version: release(),
    ...(lost
      ? { lostEvents: lost, lost: `the kernel's trace buffer overflowed: ${lost} events dropped` }
      : {}),
  };
}

/** Runs argv with the kernel's syscall tracepoints on it and its descendants; builds the profile as it runs. */
export async function recordFtrace(
  argv: string[],
  options: RecordOptions = {},
): Promise<{ profile: Profile; status: number; builder: ProfileBuilder }> {
  const phase = options.phase ?? { kind: "none" };
  refuseMarkerPhase(phase, "ftrace");
  const builder = new ProfileBuilder(argv, phase, options.focus);
  const tracing = new FtraceSession(builder);
  return traceLaunch(argv, options, builder, {
    attach: async (pid) => tracing.start([pid]),
    detach: async () => ftraceEngine(await tracing.stop()),
    close: () => tracing.close(),
  });
}

/**
 * Records running processes (and every task they start) with the tracepoints until `until` resolves; the
 * processes are never stopped or signalled.
 */
export async function attachFtrace(
  builder: ProfileBuilder,
  tids: readonly number[],
  until: Promise<unknown>,
  attached?: () => void,
): Promise<{ lost: number }> {
  const tracing = new FtraceSession(builder);
  try {
    tracing.start(tids);
    attached?.();
    await until;
    return { lost: await tracing.stop() };
  } finally {
    tracing.close();
  }
}

/** Reads trace_pipe into the adapter until it saw the end marker. */
async function drain(fd: number, adapter: FtraceAdapter, endBy: () => number | undefined): Promise<void> {
  const buf = Buffer.allocUnsafe(1 << 20);
  let rest = "";
  for (;;) {
    const deadline = endBy();
    if (deadline !== undefined && Date.now() > deadline)
      throw new SysfenceError(
        "E_IO",
        "the kernel's trace did not deliver sysfence's end mark; the recording is lost.",
      );
    let n = 0;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    if (n === 0) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const text = rest + buf.toString("utf8", 0, n);
    const lines = text.split("\n");
    rest = lines.pop() ?? "";
    let end = false;
    for (const l of lines) {
      end = adapter.line(l);
      if (end) break;
    }
    adapter.flush();
    if (end) return;
  }
}

function overruns(inst: string): number {
  let n = 0;
  try {
    for (const cpu of readdirSync(`${inst}/per_cpu`)) {
      const stats = readFileSync(`${inst}/per_cpu/${cpu}/stats`, "utf8");
      n += Number(/^overrun: (\d+)/m.exec(stats)?.[1] ?? 0);
    }
  } catch {
    // unknown
  }
  return n;
}

/**
 * A reaper for one instance that outlives a SIGKILLed sysfence (as session.ts's reaper does for the
 * recorded program): a small shell in its own process group waits on a pipe from sysfence; when the pipe
 * closes without "done" (sysfence died), it turns the instance's events off and removes it with its buffer
 * (retrying while the dead process's trace_pipe is still being released). Undefined when there is no sh:
 * then the next recording's removeStaleInstances() removes it.
 */
function startInstanceReaper(dir: string): ChildProcess | undefined {
  const script =
    'while read -r l; do [ "$l" = done ] && exit 0; done; echo 0 > "$1/events/enable"; echo > "$1/set_event_pid"; i=0; while [ $i -lt 100 ]; do rmdir "$1" 2>/dev/null && exit 0; [ -d "$1" ] || exit 0; sleep 0.1; i=$((i+1)); done; exit 0';
  try {
    const child = spawn("sh", ["-c", script, "sysfence-ftrace-reaper", dir], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    });
    child.on("error", () => {});
    child.stdin?.on("error", () => {});
    child.unref();
    return child;
  } catch {
    return undefined;
  }
}

/**
 * Removes the tracing instances of sysfence processes that are gone (a SIGKILLed sysfence cannot clean up
 * after itself): events off, then the instance with its buffers. An instance of a live sysfence stays.
 */
export function removeStaleInstances(root = TRACEFS): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(`${root}/instances`);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^sysfence-(\d+)$/.exec(name);
    if (!m || isSysfence(Number(m[1]))) continue;
    const dir = `${root}/instances/${name}`;
    try {
      writeFileSync(`${dir}/events/enable`, "0");
      writeFileSync(`${dir}/set_event_pid`, "");
      rmdirSync(dir);
      removed.push(name);
    } catch {
      // busy (a reader still open) or already gone: tried again next time
    }
  }
  return removed;
}

/**
 * True while pid exists: only the instances of processes that are gone are removed. (A reused pid keeps a
 * stale instance until that process ends too; telling a live sysfence from another program by its name is
 * not reliable enough to risk removing a recording in progress.)
 */
function isSysfence(pid: number): boolean {
  return pid === process.pid || existsSync(`/proc/${pid}`);
}
