// record: a program → its profile, four ways: launch a command, attach to a running process (or a
// container's), follow every process of a cgroup, or read an existing `strace -f` log. The recording modules do the work; this is the one
// entry that chooses among them and returns what the caller reports.
import { readlinkSync } from "node:fs";
import { SysfenceError } from "../errors.js";
import type { AttachOptions } from "../record/attach.js";
import type { Engine } from "../record/engine.js";
import type { Profile } from "../record/profile.js";
import { type RecordCommandOptions, recordCommand } from "../record/record.js";

/** What to record: exactly one of argv, pid, container, cgroup and fromLog. */
export interface RecordRequest extends RecordCommandOptions {
  /** Launch this command (argv[0] looked up in PATH). */
  argv?: readonly string[];
  /** Attach to this running process and its descendants; it is never stopped or restarted. */
  pid?: number;
  /** Attach to a running container's init (looked up with podman, docker or runc), as pid does. */
  container?: string;
  /**
   * Record every process in this cgroup's directory (and the cgroups under it), those that join it later,
   * and their descendants (the bpf engine only; cgroup v2 followed in the kernel, v1 read every 100 ms).
   */
  cgroup?: string;
  /** With container: podman, docker or runc (default: the first that knows it). */
  runtime?: string;
  /**
   * With pid, container or cgroup: stop after this many seconds (default: Ctrl-C, SIGTERM, the process's
   * exit or the cgroup's removal).
   */
  durationSeconds?: number;
  /** Build the profile from an existing `strace -f -o FILE` log instead of running anything. */
  fromLog?: string;
  /** Called with what the caller may show as it happens (the container's pid, a slower reading of a log). */
  onMessage?: (line: string) => void;
  /**
   * With pid, container or cgroup: called once the engine sees every call (the recording is live from
   * then), with the number of processes traced from the start when the engine knows it.
   */
  onAttached?: (processes?: number) => void;
}

/** How the recording went. */
export interface RecordResult {
  profile: Profile;
  /** The launched program's exit status (0 for an attachment or a log). */
  status: number;
  /** The engine that recorded (`strace-log` for a log read). */
  engine: Engine | "strace-log";
  /** Why that engine (auto's choice), when one was chosen. */
  why?: string;
  /** The pid recorded (pid or the container's init). */
  pid?: number;
  /** The cgroup recorded (its absolute directory) and its version. */
  cgroup?: { path: string; version: 1 | 2 };
  /** What the recording could not see or keep. */
  warnings: string[];
  /**
   * With checkCounts: the syscalls whose counts differ from strace's own (-C), and how many syscalls
   * strace counted (0: nothing to compare).
   */
  counts?: { differences: { syscall: string; sysfence: number; strace: number }[]; compared: number };
}

/** The program a running process runs (its /proc/PID/exe), or "process" when it cannot be read. */
export function processExe(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return "process"; // recording says what is wrong
  }
}

/** The pid of a running container's init, and the runtime that knows it. */
export async function containerInit(
  name: string,
  runtime?: string,
): Promise<{ pid: number; runtime: string }> {
  const { containerPid } = await import("../record/container.js");
  return containerPid(name, runtime);
}

/** record's pid, container or cgroup: running processes, recorded until the window ends. */
async function recordRunning(request: RecordRequest, options: AttachOptions): Promise<RecordResult> {
  const { pid, container, cgroup, runtime } = request;
  if (cgroup !== undefined) {
    const { recordCgroup } = await import("../record/cgroup.js");
    const r = await recordCgroup(cgroup, options);
    const { path, version } = r.target;
    return {
      profile: r.profile,
      status: 0,
      engine: r.engine,
      why: r.why,
      cgroup: { path, version },
      warnings: r.warnings,
    };
  }
  const target = pid ?? (await containerInit(container as string, runtime)).pid;
  const { recordAttached } = await import("../record/attach.js");
  const r = await recordAttached(target, options);
  return { profile: r.profile, status: 0, engine: r.engine, why: r.why, pid: target, warnings: r.warnings };
}

/**
 * Records a program into a profile: `argv` launches it (the engine chosen as `sysfence record` chooses),
 * `pid`/`container` attach to it, `cgroup` follows a cgroup's processes, `fromLog` reads a strace log. A program that exits non-zero still gives
 * its profile (marked incomplete) and its status; nothing is printed or written.
 */
export async function recordProgram(request: RecordRequest): Promise<RecordResult> {
  const {
    argv,
    pid,
    container,
    cgroup,
    runtime: _runtime,
    durationSeconds,
    fromLog,
    onMessage = () => {},
    onAttached,
    ...o
  } = request;
  const modes = [argv, pid, container, cgroup, fromLog].filter((x) => x !== undefined).length;
  if (modes !== 1)
    throw new SysfenceError(
      "E_USAGE",
      "record(): give exactly one of argv, pid, container, cgroup and fromLog.",
    );
  const focus = { only: o.onlyExe, exclude: o.excludeExe };
  if (pid !== undefined || container !== undefined || cgroup !== undefined)
    return recordRunning(request, {
      engine: o.engine,
      durationSeconds,
      focus,
      onProgress: o.onProgress,
      onAttached,
    });
  const strace = await import("../record/engines/strace/strace.js");
  if (fromLog !== undefined) {
    const { parsePhase } = await import("../record/builder.js");
    const read = await strace.profileFromLog(fromLog, {
      phase: parsePhase(o.after),
      phaseText: o.after,
      focus,
      onDegrade: (why) => onMessage(`${why}; reading ${fromLog} in one thread instead`),
    });
    const summary = read.log.summary;
    return {
      profile: read.profile,
      status: 0,
      engine: "strace-log",
      warnings: [],
      ...(o.checkCounts
        ? {
            counts: {
              differences: strace.countMismatches(read.profile, read.builder, summary),
              compared: summary.size,
            },
          }
        : {}),
    };
  }
  const r = await recordCommand(argv as readonly string[], o);
  const summary = r.straceSummary ?? new Map<string, number>();
  return {
    profile: r.profile,
    status: r.status,
    engine: r.engine,
    why: r.why,
    warnings: [],
    ...(o.checkCounts
      ? {
          counts: {
            differences: strace.countMismatches(r.profile, r.builder, summary),
            compared: summary.size,
          },
        }
      : {}),
  };
}

export { parsePhase } from "../record/builder.js";
export { parseEngine } from "../record/engine.js";
export { imageCount } from "../record/profile.js";
export { signalName } from "../syscalls/constants.js";
export { checkOutputFile } from "../util/output-file.js";
