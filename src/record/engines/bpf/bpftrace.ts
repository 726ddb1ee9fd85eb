// The bpftrace engine (--engine bpftrace, the bpf engine before sysfence loaded its own programs): bpftrace (a subprocess) counts system calls in the kernel, keyed by process, program
// image, thread, syscall, phase and the argument values the generator uses, so a syscall-heavy program pays
// for a map update, not for an event copied to user space. Forks, execs (with the file name) and exits
// stream as events; the counts are read once, at the end. What it cannot see: paths other than executed
// files, socket addresses, clone3's struct.
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { SysfenceError } from "../../../errors.js";
import { nativeArch } from "../../../syscalls/arches.js";
import { pidNamespace, withParentDeathSignal } from "../../../util/proc-tree.js";
import { type PhaseSpec, ProfileBuilder } from "../../builder.js";
import { refuseMarkerPhase } from "../../engine.js";
import { type LaunchTracer, traceLaunch } from "../../launched.js";
import type { RecordOptions } from "../../options.js";
import type { Profile } from "../../profile.js";
import { BpfOutput, EVENT_LINE, STRLEN } from "./output.js";
import { type RunningProcess, repeatedImagesLoss, traceRunning } from "./running.js";
import { bpftraceScript } from "./script.js";

/** Whether process pid has a handler for SIGINT (SigCgt in /proc/PID/status). */
function catchesSigint(pid: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m !== null && (BigInt(`0x${m[1]}`) & 2n) !== 0n;
  } catch {
    return false;
  }
}

/** Distinct (process, image, thread, syscall, phase, values) keys the count map holds (SYSFENCE_BPF_MAP_KEYS). */
export const MAP_KEYS = Number(process.env.SYSFENCE_BPF_MAP_KEYS) || 262_144;

let version: string | null | undefined;
/** bpftrace's version, or null when it is not installed. */
export function bpftraceVersion(): string | null {
  if (version === undefined) {
    const r = spawnSync("bpftrace", ["--version"], { encoding: "utf8" });
    version = r.status === 0 ? (/v?([\d.]+)/.exec(r.stdout)?.[1] ?? r.stdout.trim()) : null;
  }
  return version;
}

/** Whether the bpf engine can run here: root and bpftrace. */
export function bpftraceAvailable(): boolean {
  return process.getuid?.() === 0 && bpftraceVersion() !== null;
}

/** Runs argv with bpftrace counting its calls (and its descendants'); builds the profile at the end. */
export async function recordBpftrace(
  argv: string[],
  options: RecordOptions = {},
): Promise<{ profile: Profile; status: number; builder: ProfileBuilder }> {
  const phase = options.phase ?? { kind: "none" };
  refuseMarkerPhase(phase, "bpftrace");
  const bpftrace = bpftraceVersion();
  if (bpftrace === null)
    throw new SysfenceError(
      "E_COMMAND_NOT_FOUND",
      "--engine bpftrace needs bpftrace (Debian/Ubuntu: apt-get install bpftrace) and root; or use --engine ftrace or strace.",
    );
  const builder = new ProfileBuilder(argv, phase, options.focus);
  // the launch image (before the program's exec) is named as the command, as the other engines name it
  return traceLaunch(argv, options, builder, new BpftraceTracer(builder, phase, argv[0], bpftrace));
}

/** bpftrace as a launch tracer: started on the stopped program's pid, asked for its maps at the end. */
class BpftraceTracer implements LaunchTracer {
  private tracer?: ChildProcessByStdio<null, Readable, Readable>;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out?: BpfOutput;
  private stdout = "";
  private stderr = "";
  private rest = "";

  constructor(
    private readonly builder: ProfileBuilder,
    private readonly phase: PhaseSpec,
    private readonly command: string,
    private readonly version: string,
    /** Running processes to trace instead of one launched pid (record --pid). */
    private readonly running?: readonly RunningProcess[],
  ) {}

  private pid?: number;

  async attach(pid: number): Promise<void> {
    this.pid = pid;
    const out = new BpfOutput(this.builder);
    this.out = out;
    // in a PID namespace the running processes' pids (from its /proc) are mapped by bpftrace (script.ts)
    const where = this.running ? pidNamespace() : "initial";
    if (where === "foreign")
      throw new SysfenceError(
        "E_USAGE",
        `record --pid with --engine bpf: /proc here shows another PID namespace than sysfence's own (/proc/self is not pid ${process.pid}), so the pids read from it cannot be matched to the processes bpftrace sees. Mount /proc for this namespace (unshare --mount-proc), run sysfence where /proc is its own, or use --engine strace.`,
      );
    const namespaced = where === "own";
    if (this.running)
      for (const p of this.running)
        if (namespaced) out.expect(p.pid, p.exe, p.parent);
        else out.seed(p.pid, p.exe, p.parent);
    else out.seed(pid, this.command);
    const seed = this.running ? { tgids: this.running.map((p) => p.pid), namespaced } : undefined;
    // bpftrace dies with sysfence (its probes go with it); SIGINT makes it print the maps and exit
    const args = ["-B", "line", "-e", bpftraceScript(this.phase, nativeArch(), seed), String(pid)];
    const [cmd, cmdArgs] = withParentDeathSignal("bpftrace", args, "INT");
    const tracer = spawn(cmd, cmdArgs, {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS),
        BPFTRACE_STRLEN: String(STRLEN),
        BPFTRACE_PERF_RB_PAGES: "256",
      },
    });
    this.tracer = tracer;
    let ready!: () => void;
    const isReady = new Promise<void>((r) => {
      ready = r;
    });
    let atEnd = false;
    tracer.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (atEnd) {
        this.stdout += d;
        return;
      }
      const lines = (this.rest + d).split("\n");
      this.rest = lines.pop() ?? "";
      for (const l of lines) {
        if (l === "READY") ready();
        else if (l.startsWith("@")) {
          atEnd = true;
          this.stdout += `${l}\n`;
        } else if (atEnd && !EVENT_LINE.test(l)) this.stdout += `${l}\n`;
        // (an event bpftrace drains from its ring buffer while it prints the maps is still an event)
        else out.event(l);
      }
      // once the maps are printing, the unfinished line is theirs: the next chunk continues it
      if (atEnd && !EVENT_LINE.test(this.rest)) {
        this.stdout += this.rest;
        this.rest = "";
      }
    });
    tracer.stderr.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
      for (const l of d.split("\n")) if (/Lost \d+ events/.test(l)) out.event(l);
    });
    this.exited = new Promise((r) => tracer.once("exit", (code, signal) => r({ code, signal })));
    await Promise.race([
      isReady,
      this.exited.then(({ code }) => {
        throw new SysfenceError(
          "E_IO",
          `bpftrace exited (${code}) before it was attached: ${this.stderr.trim().slice(0, 500)}`,
        );
      }),
    ]);
  }

  async detach(): Promise<Profile["engine"]> {
    const tracer = this.tracer as NonNullable<typeof this.tracer>;
    const out = this.out as BpfOutput;
    // the launched program has exited (its parent saw it): its exit event is in bpftrace's ring buffer, and
    // is read before bpftrace is stopped (at most a second)
    if (!this.running && this.pid !== undefined) await out.exitSeen(this.pid, 1000);
    // SIGINT makes bpftrace print its maps and exit; one that lands just before it blocks in epoll_wait is
    // only seen at the next wake-up, so it is repeated — but only while bpftrace still catches SIGINT: once
    // it has acted on one it restores the default action while it prints its maps, and a second SIGINT
    // killed it half-way through them (a recording of 1000 short processes lost every count)
    tracer.kill("SIGINT");
    const nudge = setInterval(() => {
      if (tracer.pid !== undefined && catchesSigint(tracer.pid)) tracer.kill("SIGINT");
    }, 500);
    const ended = await this.exited?.finally(() => clearInterval(nudge));
    if (this.rest) out.event(this.rest);
    // a diagnostic copy of what bpftrace printed at the end (its maps)
    if (process.env.SYSFENCE_BPF_DUMP) writeFileSync(process.env.SYSFENCE_BPF_DUMP, this.stdout);
    out.maps(this.stdout);
    if (out.truncatedPaths)
      process.stderr.write(
        `sysfence record: ${out.truncatedPaths} executed file name(s) longer than ${STRLEN - 1} bytes were cut (bpftrace's limit)\n`,
      );
    // bpftrace that did not end cleanly may have printed part of its maps, or none (@n, the total, among them)
    const cut = ended?.code !== 0 || (out.counted > 0 && !out.totalSeen);
    const overflow = Math.max(cut ? 1 : 0, out.total - out.counted);
    const lost = overflow + out.lostEvents + out.repeatedImages;
    const why = [
      cut
        ? `counts: it ended (${ended?.signal ?? `exit ${ended?.code}`}) before it had printed all of them`
        : overflow
          ? `${overflow} calls past the count map's ${MAP_KEYS} keys`
          : "",
      out.lostEvents ? `${out.lostEvents} fork/exec/exit events` : "",
      repeatedImagesLoss(out.repeatedImages, MAP_KEYS),
    ]
      .filter(Boolean)
      .join(", ");
    return {
      name: "bpf",
      version: `bpftrace ${this.version}`,
      ...(lost ? { lostEvents: lost, lost: `bpftrace dropped ${why}` } : {}),
    };
  }

  close(): void {
    this.tracer?.kill("SIGKILL");
  }
}

/**
 * Counts running processes (and every task they start) in the kernel until `until` resolves; they are never
 * stopped or signalled. Every call is work (the processes' start-up is over).
 */
export async function attachBpftrace(
  builder: ProfileBuilder,
  running: readonly RunningProcess[],
  until: Promise<unknown> | (() => Promise<unknown>),
  attached?: () => void,
): Promise<Profile["engine"]> {
  const version = bpftraceVersion();
  if (version === null)
    throw new SysfenceError(
      "E_COMMAND_NOT_FOUND",
      "--engine bpftrace needs bpftrace (apt-get install bpftrace) and root.",
    );
  const tracer = new BpftraceTracer(builder, { kind: "none" }, running[0]?.exe ?? "?", version, running);
  return traceRunning(tracer, running, until, attached);
}
