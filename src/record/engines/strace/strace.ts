import { spawn, spawnSync } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SysfenceError } from "../../../errors.js";
import { nativeArch } from "../../../syscalls/arches.js";
import { systemErrorText } from "../../../util/errno.js";
import { firstChild, withParentDeathSignal } from "../../../util/proc-tree.js";
import { type Focus, type PhaseSpec, ProfileBuilder } from "../../builder.js";
import type { RecordOptions } from "../../options.js";
import type { Profile } from "../../profile.js";
import { exitStatus, watch } from "../../session.js";
import { type SliceResult, StraceAdapter } from "./adapter.js";
import { ScannerOutOfMemory, scanFileParallel } from "./parallel.js";
import { notStrace } from "./parse.js";
import { forEachChunkOfLines } from "./scan.js";

/** strace's version, or a clear error saying how to install it. */
export function straceVersion(): string {
  const r = spawnSync("strace", ["-V"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new SysfenceError(
      "E_COMMAND_NOT_FOUND",
      "strace is not installed; install it (Debian/Ubuntu: apt-get install strace; Fedora: dnf install strace) and run again.",
    );
  }
  return /version\s+([\d.]+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

export type { RecordOptions } from "../../options.js";

/**
 * The strace command line: follow forks and threads, numeric constants (-X raw), fds' paths (-y), raw
 * argument values (-e raw=) for every call except those whose strings matter (paths; clone3's flags;
 * buffers when a marker is searched), output into a FIFO we read as a stream.
 */
export function straceArgs(
  fifo: string,
  argv: string[],
  phase: PhaseSpec,
  checkCounts = false,
  attach: readonly number[] = [],
): string[] {
  // fchdir: its fd's path (-y) is the new current directory; openat2: its struct open_how's flags (decoded
  // and dereferenced below: it came as an address)
  const decoded = ["%file", "openat2", "fchdir", "clone3", "connect", "bind"];
  if (phase.kind === "marker") decoded.push("write", "writev", "sendto", "sendmsg");
  return [
    "-f",
    ...(checkCounts ? ["-C"] : []),
    // timestamps only where the phase is a time (they cost a fifth of a syscall-heavy run); otherwise the
    // builder takes the time a line is read, which a live recording reads as it is written
    ...(phase.kind === "delay" ? ["-ttt"] : []),
    "-q",
    // the paths of the fds the decoded calls take (an *at call's directory, AT_FDCWD's current directory)
    "-y",
    "-X",
    "raw",
    "-e",
    `raw=!${decoded.join(",")}`,
    // structures are dereferenced only where the profile reads them (stat buffers cost a read each)
    "-e",
    "verbose=clone3,connect,bind,openat2",
    "-s",
    "256",
    "-o",
    fifo,
    // attached (record --pid): every thread of every process, nothing launched
    ...(attach.length ? attach.flatMap((p) => ["-p", String(p)]) : ["--", ...argv]),
  ];
}

/** A private directory with the FIFO strace writes its output into (the directory removed if that fails). */
function straceFifo(): { dir: string; fifo: string } {
  const dir = mkdtempSync(join(tmpdir(), "sysfence-record-"));
  const fifo = join(dir, "trace");
  if (spawnSync("mkfifo", [fifo]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new SysfenceError("E_IO", `cannot create a FIFO in ${dir}.`);
  }
  return { dir, fifo };
}

/**
 * Attaches strace to running processes (all their threads, and every task they start) until `until`
 * resolves, then detaches (SIGINT: strace leaves the processes running as they were).
 */
export async function attachStrace(
  builder: ProfileBuilder,
  pids: readonly number[],
  until: Promise<unknown>,
): Promise<{ version: string; log: StraceLog }> {
  const version = straceVersion();
  const { dir, fifo } = straceFifo();
  try {
    const args = straceArgs(fifo, [], { kind: "none" }, false, pids);
    // strace detaches (SIGINT) when sysfence's process ends
    const [cmd, cmdArgs] = withParentDeathSignal("strace", args, "INT");
    const child = spawn(cmd, cmdArgs, { stdio: ["ignore", "ignore", "inherit"] });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const log = new StraceLog("strace's output", builder);
    const reading = log.read(createReadStream(fifo, { highWaterMark: 1 << 20 }));
    await Promise.race([until, exited]);
    child.kill("SIGINT"); // detach
    await exited;
    await reading;
    return { version, log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs argv under strace and builds its profile while it runs. Never buffers the whole log. */
export async function record(
  argv: string[],
  options: RecordOptions = {},
): Promise<{ profile: Profile; status: number; builder: ProfileBuilder; log: StraceLog }> {
  const version = straceVersion();
  const phase = options.phase ?? { kind: "none" };
  const { dir, fifo } = straceFifo();
  const builder = new ProfileBuilder(argv, phase, options.focus, () => Date.now() / 1000);
  builder.startIn(process.cwd()); // strace runs the program here
  const startedAt = new Date().toISOString();
  let cmd = "strace";
  let args = straceArgs(fifo, argv, phase, options.checkCounts);
  if (options.pin && spawnSync("taskset", ["-V"]).status === 0) {
    args = ["-c", "0", cmd, ...args]; // strace and the program (and its children) share CPU 0
    cmd = "taskset";
  }
  // strace dies with sysfence (even a SIGKILLed one); the session's reaper takes its tracees
  const [launcher, launcherArgs] = withParentDeathSignal(cmd, args, "KILL");
  const child = spawn(launcher, launcherArgs, { stdio: "inherit" });
  // the program is strace's first child; stop signals go to it, not to strace (which blocks them)
  let programPid: number | undefined;
  const program = () => {
    if (programPid === undefined && child.pid !== undefined) programPid = firstChild(child.pid);
    return programPid;
  };
  const session = watch(builder, options, program);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (e) =>
      reject(new SysfenceError("E_COMMAND_NOT_FOUND", `cannot start strace: ${e.message}`, { cause: e })),
    ),
  );
  const log = new StraceLog("strace's output", builder);
  try {
    const reading = log.read(createReadStream(fifo, { highWaterMark: 1 << 20 }));
    await Promise.race([reading, spawnError]);
    const { code, signal } = await exited;
    const status = exitStatus(code, signal);
    const profile = builder.build({
      engine: { name: "strace", version },
      arch: nativeArch(),
      complete: !session.interrupted() && code === 0,
      exitStatus: code ?? undefined,
      signal: signal ?? undefined,
      startedAt,
      endedAt: new Date().toISOString(),
      phaseText: options.phaseText,
    });
    return { profile, status, builder, log };
  } finally {
    session.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Differences between our counts and strace's own -c/-C summary from the same run: strace counts only calls
 * that returned, so calls that never did (exit_group, a call a thread died in) are left out of the comparison.
 */
export function countMismatches(
  profile: Profile,
  builder: ProfileBuilder,
  summary: ReadonlyMap<string, number>,
): { syscall: string; sysfence: number; strace: number }[] {
  const never = builder.neverReturned();
  const out: { syscall: string; sysfence: number; strace: number }[] = [];
  const names = new Set([...Object.keys(profile.syscalls), ...summary.keys()]);
  for (const n of names) {
    const c = profile.syscalls[n];
    const ours = (c ? c.setup + c.work : 0) - (never.get(n) ?? 0);
    const theirs = summary.get(n) ?? 0;
    if (ours !== theirs) out.push({ syscall: n, sysfence: ours, strace: theirs });
  }
  return out;
}

/** Logs from this size on are scanned by several threads (smaller ones are not worth starting them). */
const PARALLEL_FROM = 16 << 20;

/**
 * strace's text fed to a builder: slices (chunks of a stream, or a file's slices from scanner threads) in
 * order, with line numbers for the first line that is not strace output, and strace's own summary.
 */
export class StraceLog {
  private lineNo = 0;
  private good = 0;
  private bad = 0;
  private firstBad?: [number, string];
  private fatal?: SysfenceError;
  private adapter?: StraceAdapter;
  private readonly strings: string[] = [];
  private slice = 0;
  /** strace's own -c/-C summary, by syscall (to check counts against). */
  readonly summary = new Map<string, number>();

  constructor(
    private readonly file: string,
    readonly builder: ProfileBuilder,
  ) {}

  /** Reads a stream of strace output on this thread (each chunk a slice). */
  read(input: NodeJS.ReadableStream): Promise<void> {
    return forEachChunkOfLines(input, (buf, start, end) => this.chunk(buf, start, end));
  }

  /** Scans whole lines buf[start, end) on this thread. */
  chunk(buf: Buffer, start: number, end: number): void {
    if (this.fatal) return;
    this.adapter ??= new StraceAdapter(this.builder.eventNeeds());
    this.adapter.scan(buf, start, end, this.slice, true);
    const r = this.adapter.endSlice(this.slice++);
    for (const s of r.strings) this.strings.push(s);
    this.take(r, this.strings);
  }

  /** Feeds one slice's result (the next in order); false once the input proved not to be strace output. */
  take(r: SliceResult, strings: readonly string[]): boolean {
    if (this.fatal) return false;
    if (r.firstBad) {
      const line = this.lineNo + r.firstBad.line;
      this.firstBad ??= [line, r.firstBad.text];
      // a stray line inside a real log is tolerated; a file that starts with nonsense is not strace output
      if (this.good + r.firstBad.goodBefore === 0) {
        this.fatal = notStrace(this.file, line, r.firstBad.text);
        return false;
      }
    }
    this.lineNo += r.lines;
    this.good += r.good;
    this.bad += r.bad;
    for (const { name, calls } of r.summary) this.summary.set(name, (this.summary.get(name) ?? 0) + calls);
    this.builder.addBatch(r.events, strings);
    if (r.pathsOmitted) this.builder.omitPaths(r.pathsOmitted);
    return true;
  }

  /** Whether every line was strace output; throws when the input was not strace output at all. */
  finish(): boolean {
    if (this.fatal) throw this.fatal;
    if (this.good === 0)
      throw this.firstBad
        ? notStrace(this.file, this.firstBad[0], this.firstBad[1])
        : new SysfenceError("E_USAGE", `${this.file} is empty; nothing to read.`);
    return this.bad === 0;
  }
}

/** Builds a profile from an existing strace log (-f or not, -t/-tt/-ttt, -T, -y, -X, unfinished/resumed). */
export async function profileFromLog(
  file: string,
  options: {
    phase?: PhaseSpec;
    phaseText?: string;
    focus?: Focus;
    /** Scanner threads for large files (1: scan on this thread). */
    threads?: number;
    /** Tests: scan in parallel from this size on, in slices of this size. */
    parallelFrom?: number;
    sliceBytes?: number;
    /** Tests: every call an event of its own (nothing folded into tallies): the reference reading. */
    unfolded?: boolean;
    /** Told when the parallel scan gave up (a scanner ran out of heap) and the log is read in one thread. */
    onDegrade?: (why: string) => void;
  } = {},
): Promise<{ profile: Profile; builder: ProfileBuilder; log: StraceLog }> {
  const input = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  const opened = new Promise<void>((resolve, reject) => {
    if (file === "-") resolve();
    else {
      input.once("open", () => resolve());
      input.once("error", (e: Error) =>
        reject(
          new SysfenceError("E_IO", `cannot read ${file}: ${systemErrorText(e)}.`, {
            cause: e,
          }),
        ),
      );
    }
  });
  await opened;
  const start = () => {
    const builder = new ProfileBuilder([], options.phase ?? { kind: "none" }, options.focus);
    if (options.unfolded) builder.foldNothing();
    return new StraceLog(file === "-" ? "standard input" : file, builder);
  };
  let log = start();
  const size = file === "-" ? 0 : statSync(file).size;
  if (size >= (options.parallelFrom ?? PARALLEL_FROM) && options.threads !== 1) {
    input.destroy();
    try {
      await scanFileParallel(
        file,
        size,
        log.builder.eventNeeds(),
        (r, strings) => log.take(r, strings),
        options.threads,
        options.sliceBytes,
      );
    } catch (e) {
      if (!(e instanceof ScannerOutOfMemory)) throw e;
      // degrade: the whole log again on this thread, from a fresh start (slower, never wrong)
      log = start();
      options.onDegrade?.(e.message);
      await log.read(createReadStream(file, { highWaterMark: 1 << 20 }));
    }
  } else {
    await log.read(input);
  }
  const clean = log.finish();
  const profile = log.builder.build({
    engine: { name: "strace-log" },
    arch: nativeArch(),
    complete: clean,
    phaseText: options.phaseText,
  });
  return { profile, builder: log.builder, log };
}
