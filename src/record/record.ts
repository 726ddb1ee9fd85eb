// Recording a command, engine chosen as `sysfence record` chooses it: the CLI and the library both call this.
import { resolve } from "node:path";
import { elfOfProgram } from "../analyze/program-file.js";
import { SysfenceError } from "../errors.js";
import { type ProfileBuilder, parsePhase } from "./builder.js";
import { chooseEngine, type Engine, parseEngine } from "./engine.js";
import { bpfUnavailable, recordBpf } from "./engines/bpf/bpf.js";
import { recordBpftrace } from "./engines/bpf/bpftrace.js";
import { recordFtrace, tracepointsAvailable } from "./engines/ftrace/ftrace.js";
import type { StraceLog } from "./engines/strace/strace.js";
import { record as recordStrace } from "./engines/strace/strace.js";
import { markInterpreters } from "./interpreters.js";
import type { Profile } from "./profile.js";

/** What to record and how. */
export interface RecordCommandOptions {
  /** auto (default), strace, ftrace, bpf or bpftrace. */
  engine?: "auto" | Engine;
  /** Where the work phase begins: listen, accept, first:SYSCALL, ready, marker:TEXT, delay:SECONDS. */
  after?: string;
  /** Count only processes running these programs (paths or names). */
  onlyExe?: string[];
  /** Do not count processes running these programs. */
  excludeExe?: string[];
  /** Pin strace and the program to one CPU (default true; strace engine). */
  pin?: boolean;
  /** Also let strace count (-C) (strace engine). */
  checkCounts?: boolean;
  /** Called about every 200 ms. */
  onProgress?: (p: { calls: number; distinct: number; processes: number }) => void;
  /** Seconds the program gets after a stop signal before it is killed (default 10). */
  graceSeconds?: number;
}

/** The profile, the program's exit status, and the engine that recorded it and why. */
export interface RecordCommandResult {
  profile: Profile;
  status: number;
  engine: Engine;
  why: string;
  builder: ProfileBuilder;
  /** strace's own counts (--check-counts with the strace engine), by syscall. */
  straceSummary?: ReadonlyMap<string, number>;
}

/**
 * Runs argv (argv[0] looked up in PATH) under the chosen engine and returns its profile, with the
 * executables' build-ids (generate --static analyses the same binaries, or says they changed).
 * A program that exits non-zero still gives a profile (marked incomplete) and its status.
 */
export async function recordCommand(
  argv: readonly string[],
  options: RecordCommandOptions = {},
): Promise<RecordCommandResult> {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string"))
    throw new SysfenceError(
      "E_USAGE",
      "record(): give the command as an array of strings, e.g. ['ls', '/'].",
    );
  const requested = parseEngine(options.engine, "engine");
  if ((requested === "ftrace" || requested === "bpf" || requested === "bpftrace") && options.checkCounts)
    throw new SysfenceError(
      "E_USAGE",
      "--check-counts compares with strace's own counts; it needs --engine strace.",
    );
  const { resolveCommand } = await import("../install/exec.js");
  resolveCommand(argv[0]); // a missing program is an error before anything starts
  const phase = parsePhase(options.after);
  const { engine, why } = chooseEngine({
    requested,
    phase,
    checkCounts: !!options.checkCounts,
    root: process.getuid?.() === 0,
    tracepoints: requested === "auto" && tracepointsAvailable(),
    bpfUnavailable: requested === "auto" ? bpfUnavailable() : null,
  });
  const run =
    engine === "ftrace"
      ? recordFtrace
      : engine === "bpf"
        ? recordBpf
        : engine === "bpftrace"
          ? recordBpftrace
          : recordStrace;
  const r = await run([...argv], {
    phase,
    phaseText: options.after,
    focus: { only: options.onlyExe, exclude: options.excludeExe },
    pin: options.pin !== false,
    checkCounts: options.checkCounts,
    onProgress: options.onProgress,
    graceSeconds: options.graceSeconds,
  });
  for (const proc of r.profile.processes) {
    // the launched command given as a relative path (./server) was exec'd from this directory
    if (!proc.exe.startsWith("/") && proc.exe.includes("/") && proc.exe === argv[0])
      proc.exe = resolve(proc.exe);
    const ran = proc.exe.startsWith("/") ? elfOfProgram(proc.exe) : undefined;
    if (ran?.buildId) proc.buildId = ran.buildId;
    if (ran && ran.elf !== proc.exe) proc.elf = ran.elf;
  }
  markInterpreters(r.profile);
  const straceSummary = "log" in r ? (r.log as StraceLog).summary : undefined;
  return { profile: r.profile, status: r.status, builder: r.builder, engine, why, straceSummary };
}
