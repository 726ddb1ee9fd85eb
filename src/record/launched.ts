// What the engines that do not use ptrace (ftrace, bpf) share: start the program through the launcher
// (stopped before its exec), let the engine attach, run it to its end under the stop rules of session.ts,
// let the engine detach, and build the profile.
import { type ChildProcess, spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SysfenceError } from "../errors.js";
import { nativeArch } from "../syscalls/arches.js";
import { untilStopped } from "../util/proc-tree.js";
import type { ProfileBuilder } from "./builder.js";
import { collate } from "./builder-assembly.js";
import { nativeLauncher } from "./native-launcher.js";
import type { RecordOptions } from "./options.js";
import type { Profile } from "./profile.js";
import { exitStatus, watch } from "./session.js";

// (bundled into dist/record.bundle.mjs, this module's URL is the bundle's: the launcher is under dist/src)
const LAUNCHER = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".bundle.mjs") ? "./src/record/launch-entry.js" : "./launch-entry.js",
    import.meta.url,
  ),
);

/** An engine's part of a launch: attach to the stopped program, and detach once it has ended. */
export interface LaunchTracer {
  /**
   * Starts the program through native-launcher.ts's launcher where there is one (Node's elsewhere); an
   * engine that reads the launcher's own calls (bpftrace's, ftrace's) keeps Node's.
   */
  nativeLauncher?: boolean;
  /** Work that needs no pid (loading programs), done while the launcher starts. */
  prepare?(): void | Promise<void>;
  attach(pid: number): Promise<void>;
  /** Stops tracing and reports the engine (with what it lost). */
  detach(): Promise<Profile["engine"]>;
  /** Undoes what attach set up, on every path (also after an error). */
  close(): void;
}

/** Runs argv under `tracer`, from its first instruction to its exit; the profile and its exit status. */
export async function traceLaunch(
  argv: string[],
  options: RecordOptions,
  builder: ProfileBuilder,
  tracer: LaunchTracer,
): Promise<{ profile: Profile; status: number; builder: ProfileBuilder }> {
  const startedAt = new Date().toISOString();
  // the path is resolved here, as strace does, so no PATH search adds failed execve calls; argv is kept
  const { resolveCommand, execFailedText } = await import("../install/exec.js");
  const path = resolveCommand(argv[0]);
  // stop signals are handled from here on; one that arrives before the program runs is held and passed
  // on once it has exec'd (the launcher would otherwise die of it, and nothing would be recorded)
  let pid: number | undefined;
  let running = false;
  const session = watch(builder, options, () => (running ? pid : undefined));
  const { child, launcher, execErrno } = launch(path, argv, tracer.nativeLauncher === true);
  // (the collator of the profile's name order is made once this thread waits: for the engine's other
  // threads, or the program)
  setImmediate(() => collate("", ""));
  pid = child.pid as number;
  // (the native launcher's status pipe is read to its end: 'close' comes after it)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  const preparing = (async () => tracer.prepare?.())(); // (a throw becomes its rejection: handled below)
  try {
    await Promise.all([preparing, waitStopped(pid)]);
    await tracer.attach(pid);
    process.kill(pid, "SIGCONT");
    if (session.interrupted()) await execed(pid, launcher);
    running = true;
    session.deliverPending();
    const { code, signal } = await exited.finally(() => session.stop());
    const errno = execErrno();
    if (errno !== undefined) process.stderr.write(execFailedText(path, errno));
    const engine = await tracer.detach();
    const profile = builder.build({
      engine,
      arch: nativeArch(),
      complete: !session.interrupted() && code === 0 && !engine.lostEvents,
      exitStatus: code ?? undefined,
      signal: signal ?? undefined,
      startedAt,
      endedAt: new Date().toISOString(),
      phaseText: options.phaseText,
    });
    if (engine.lostEvents)
      process.stderr.write(
        `sysfence record: ${engine.lost}; counts are low and the profile is marked incomplete (generate refuses it without --allow-incomplete); record again with --engine strace (slower, loses nothing).\n`,
      );
    return { profile, status: exitStatus(code, signal), builder };
  } finally {
    session.stop();
    // (a launch that failed while the engine was still loading: its maps and programs are closed once the
    // load has settled, not under it)
    await preparing.catch(() => {});
    tracer.close();
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); // an error before its start
  }
}

/** Waits until the launcher has stopped itself (state T), ready for the tracer. */
async function waitStopped(pid: number): Promise<void> {
  if (await untilStopped(pid, 1000)) return;
  throw new SysfenceError("E_IO", "the program did not reach its start line; nothing was recorded.");
}

/**
 * Spawns the launcher of PATH with argv, stopped before its exec: native-launcher.ts's where asked and
 * possible (then `execErrno` is the errno of an execve that failed), else Node running launch-entry.ts.
 */
function launch(
  path: string,
  argv: string[],
  native: boolean,
): { child: ChildProcess; launcher: string; execErrno: () => number | undefined } {
  const elf = native ? nativeLauncher() : undefined;
  if (elf) {
    try {
      const child = spawn(elf.path, [path, ...argv], { stdio: ["inherit", "inherit", "inherit", "pipe"] });
      if (child.pid !== undefined) {
        const status: Buffer[] = [];
        child.stdio[3]?.on("data", (d: Buffer) => status.push(d));
        const execErrno = () => {
          const b = Buffer.concat(status);
          return b.length >= 4 ? b.readInt32LE(0) : undefined;
        };
        return { child, launcher: exeOf(child.pid) ?? elf.path, execErrno };
      }
      child.on("error", () => {}); // (refused: a memfd that may not be executed) Node's launcher
    } catch {
      // Node's launcher
    } finally {
      elf.close();
    }
  }
  const child = spawn(process.execPath, [LAUNCHER, String(process.pid), path, ...argv], { stdio: "inherit" });
  return { child, launcher: process.execPath, execErrno: () => undefined };
}

/** The program a process runs (its /proc/PID/exe); undefined once it is gone. */
function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Waits (up to 2 s) until the launcher has become the program: its exe is no longer the launcher's. */
async function execed(pid: number, launcher: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const exe = exeOf(pid);
    if (exe === undefined || exe !== launcher) return; // (gone, or the program)
    await new Promise((r) => setTimeout(r, 5));
  }
}
