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
import { pidNamespace } from "../../../util/proc-tree.js";
import { ProfileBuilder } from "../../builder.js";
import { refuseMarkerPhase } from "../../engine.js";
import { traceLaunch } from "../../launched.js";
import type { RecordOptions } from "../../options.js";
import type { Profile } from "../../profile.js";
import { FtraceAdapter } from "./adapter.js";

export { FtraceAdapter } from "./adapter.js";

const TRACEFS = "/sys/kernel/tracing";
/** The end-of-recording mark: fixed text and a per-session secret, written by sysfence's own pid. */
const endMarkText = () => `sysfence-end-of-recording-${randomBytes(8).toString("hex")}`;

/** Where tracefs is, mounting it when needed (root); a clear error otherwise. */
function tracefs(): string {
  // the instance's set_event_pid takes the host's pids; inside a PID namespace sysfence knows only its own
  if (pidNamespace() !== "initial")
    throw new SysfenceError(
      "E_SECCOMP_UNAVAILABLE",
      "--engine ftrace: sysfence runs in a PID namespace of its own (a container), and the kernel's trace filters name processes by the host's pids, which are not visible here; use --engine bpf or strace.",
    );
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
