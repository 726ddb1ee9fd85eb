// record --pid: a running process tree recorded under its real traffic, never stopped or restarted. The
// tree is read from /proc; the kernel's tracepoints (root) or strace -p follow it and everything it starts
// until the duration ends, a stop signal arrives, or the process exits. Such a profile has no start-up
// phase: every call is work (merge it with a recording of a launch to start the service under `run`).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { elfOfProgram } from "../analyze/program-file.js";
import { SysfenceError } from "../errors.js";
import { nativeArch } from "../syscalls/arches.js";
import { alive, descendantsOf, procStat } from "../util/proc-tree.js";
import { type Focus, ProfileBuilder } from "./builder.js";
import { chooseEngine, type Engine, parseEngine } from "./engine.js";
import { attachBpf, bpfUnavailable } from "./engines/bpf/bpf.js";
import { attachBpftrace } from "./engines/bpf/bpftrace.js";
import { attachFtrace, ftraceEngine, tracepointsAvailable } from "./engines/ftrace/ftrace.js";
import { attachStrace } from "./engines/strace/strace.js";
import { markInterpreters } from "./interpreters.js";
import type { Profile } from "./profile.js";

/** The phase boundary an attached profile carries (generate's notes and merge read it). */
export const ATTACHED = "attached";

export interface AttachOptions {
  /** auto (default: as root bpf when the kernel has BTF, else ftrace; strace otherwise), strace, ftrace, bpf or bpftrace. */
  engine?: "auto" | Engine;
  /** Stop after this many seconds (default: until Ctrl-C, SIGTERM or the process exits). */
  durationSeconds?: number;
  focus?: Focus;
  /** Called about every 200 ms. */
  onProgress?: (p: { calls: number; distinct: number; processes: number }) => void;
  /**
   * Called once the engine sees every call of the tree (bpf: probes attached; ftrace: events on). strace
   * attaches asynchronously: a caller that needs this point (the OCI hook) must not choose strace.
   */
  onAttached?: (processes?: number) => void;
}

/** A running process as /proc shows it. */
export function processOf(pid: number): {
  exe: string;
  tids: number[];
  cmdline: string[];
  parent: number;
  cwd?: string;
} {
  const exe = (() => {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return "?";
    }
  })();
  const tids = (() => {
    try {
      return readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      return [pid];
    }
  })();
  const cmdline = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      return [exe];
    }
  })();
  // its current directory now (relative paths it names are resolved against it); unknown if removed
  const cwd = (() => {
    try {
      const dir = readlinkSync(`/proc/${pid}/cwd`);
      return dir.startsWith("/") && !dir.endsWith(" (deleted)") ? dir : undefined;
    } catch {
      return undefined;
    }
  })();
  return { exe, tids, cmdline, parent: procStat(pid)?.ppid ?? 0, cwd };
}

/** Records process `pid` and its descendants as they run; returns the profile and the engine used. */
export async function recordAttached(
  pid: number,
  options: AttachOptions = {},
): Promise<{ profile: Profile; engine: Engine; why: string; warnings: string[] }> {
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid))
    throw new SysfenceError("E_USAGE", `--pid ${pid}: no such process; give the pid of a running program.`);
  const requested = parseEngine(options.engine, "engine");
  const { engine, why } = chooseEngine({
    requested,
    phase: { kind: "none" },
    checkCounts: false,
    root: process.getuid?.() === 0,
    tracepoints: requested === "auto" && tracepointsAvailable(),
    bpfUnavailable: requested === "auto" ? bpfUnavailable() : null,
  });
  const tree = [pid, ...descendantsOf(pid)].map((p) => ({ pid: p, ...processOf(p) }));
  const builder = new ProfileBuilder(tree[0].cmdline, { kind: "none" }, options.focus);
  // (bpf counts by process image itself; the per-call engines need the processes declared)
  if (engine !== "bpf" && engine !== "bpftrace")
    for (const p of tree) builder.attach(p.pid, p.exe, p.tids, p.pid === pid ? undefined : p.parent, p.cwd);
  const startedAt = new Date().toISOString();
  const window = recordingWindow(() => alive(pid), builder, options);
  try {
    const engineField = await attachEngine(engine, builder, tree, pid, window);
    const profile = builder.build({
      engine: engineField,
      arch: nativeArch(),
      // an attached recording is a window, complete when nothing was lost and the process is still there
      complete: !engineField.lostEvents && alive(pid),
      startedAt,
      endedAt: new Date().toISOString(),
      phaseText: ATTACHED,
    });
    const warnings = checkAttachedProfile(profile, `process ${pid} or its descendants`, engine);
    return { profile, engine, why, warnings };
  } finally {
    window.close();
  }
}

/** How long an attached recording lasts, and what the engine calls once it sees every call. */
export interface RecordingWindow {
  /** Resolves at the end: the duration, a stop signal (the process is left running), or the process's exit. */
  until: Promise<void>;
  /** Starts the --duration clock (once; strace, which has no attach point, starts it at once). */
  start: () => void;
  /** The engine sees every call from now (of this many processes): the clock starts and the caller is told. */
  attached: (processes?: number) => void;
  close: () => void;
}

/**
 * The window of an attached recording, ended early when `alive` turns false. The duration counts from the
 * moment the engine sees every call (bpftrace takes seconds to attach on a busy machine: counted from
 * before, a 3 s recording kept a fraction of a second); progress is reported every 200 ms.
 */
export function recordingWindow(
  alive: () => boolean,
  builder: ProfileBuilder,
  options: AttachOptions,
): RecordingWindow {
  let onSignal: () => void = () => {};
  let start: () => void = () => {};
  const timers: NodeJS.Timeout[] = [];
  const until = new Promise<void>((resolve) => {
    onSignal = () => resolve();
    let started = false;
    start = () => {
      if (started || options.durationSeconds === undefined) return;
      started = true;
      timers.push(setTimeout(resolve, options.durationSeconds * 1000));
    };
    timers.push(
      setInterval(() => {
        options.onProgress?.({
          calls: builder.calls,
          distinct: builder.distinct(),
          processes: builder.processCount(),
        });
        if (!alive()) resolve();
      }, 200),
    );
  });
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
  return {
    until,
    start,
    attached: (processes?: number) => {
      start();
      options.onAttached?.(processes);
    },
    close: () => {
      for (const t of timers) clearTimeout(t);
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(s, onSignal);
    },
  };
}

/** Records the running tree with `engine` until the window ends; the profile's engine field. */
async function attachEngine(
  engine: Engine,
  builder: ProfileBuilder,
  tree: readonly { pid: number; exe: string; tids: number[]; parent?: number }[],
  pid: number,
  window: RecordingWindow,
): Promise<Profile["engine"]> {
  if (engine === "bpf" || engine === "bpftrace")
    return (engine === "bpf" ? attachBpf : attachBpftrace)(
      builder,
      tree.map((p) => ({
        pid: p.pid,
        exe: p.exe,
        tids: p.tids,
        parent: p.pid === pid ? undefined : p.parent,
      })),
      window.until,
      window.attached,
    );
  if (engine === "ftrace") {
    const { lost } = await attachFtrace(
      builder,
      tree.flatMap((p) => p.tids),
      window.until,
      window.attached,
    );
    return ftraceEngine(lost);
  }
  window.start();
  const { version } = await attachStrace(
    builder,
    tree.map((p) => p.pid),
    window.until,
  );
  return { name: "strace", version };
}

/**
 * The attached profile's warnings (it is marked incomplete when nothing was seen), and its processes'
 * build ids and interpreters.
 */
export function checkAttachedProfile(profile: Profile, what: string, engine: Engine): string[] {
  // nothing seen from a process that was running is never a complete recording: it was idle the whole
  // window, or the engine did not see it (the bpf engine once missed processes in a PID namespace)
  const warnings: string[] = [];
  const calls = Object.values(profile.syscalls).reduce((n, c) => n + c.setup + c.work, 0);
  if (calls === 0) {
    profile.complete = false;
    warnings.push(
      `no calls were seen from ${what} (${engine} engine): it made none in the window, or the engine could not see it. The profile is marked incomplete; record for longer, while the process works, or with another --engine.`,
    );
  }
  for (const proc of profile.processes) {
    const ran = proc.exe.startsWith("/") ? elfOfProgram(proc.exe) : undefined;
    if (ran?.buildId) proc.buildId = ran.buildId;
    if (ran && ran.elf !== proc.exe) proc.elf = ran.elf;
  }
  markInterpreters(profile);
  return warnings;
}
