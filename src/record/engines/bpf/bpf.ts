// The bpf engine: sysfence's own eBPF programs (programs.ts, loaded by kernel.ts through bpf(2)) count
// system calls in the kernel, keyed by process, program image, thread, syscall, phase and the argument
// values the generator uses, so a syscall-heavy program pays for a map update, not for an event copied
// to user space. Forks, execs (with the file name), exits and the paths every path-taking call names stream
// (absolute: path-programs.ts walks a relative one's directory in the kernel) through a ring buffer read
// every 20 ms; the counts are read once, at the end. No bpftrace, no compiler: attaching takes
// milliseconds. What it cannot see: marker text, clone3's struct.
import { SysfenceError } from "../../../errors.js";
import { pidNamespace } from "../../../util/proc-tree.js";
import { type PhaseSpec, ProfileBuilder } from "../../builder.js";
import { refuseMarkerPhase } from "../../engine.js";
import { type LaunchTracer, traceLaunch } from "../../launched.js";
import type { RecordOptions } from "../../options.js";
import { Access, existingName, openAccess, resolveIn, rootedPath } from "../../path-access.js";
import type { Profile } from "../../profile.js";
import { bpfAvailable, bpfUnavailable, exeOf, is32bit, MAP_KEYS, pidKeys } from "./host.js";
import { type KernelEvent, KernelRecorder } from "./kernel.js";
import { EVENT, PATH_MAX } from "./layout.js";
import { BpfOutput } from "./output.js";
import { eventPath, pathEvent } from "./path-events.js";
import { DIR, DIR_DEPTH, DIR_MAX, PATH_EVENT, USE_KIND } from "./path-programs.js";
import { EEXIST, NOEXIST } from "./program-parts.js";
import { Roots } from "./roots.js";
import { type CgroupWatch, type RunningProcess, repeatedImagesLoss, traceRunning } from "./running.js";

export type { CgroupWatch, RunningProcess };
export { bpfAvailable, bpfUnavailable, is32bit, MAP_KEYS, pidKeys };

/** Runs argv with the kernel counting its calls (and its descendants'); builds the profile at the end. */
export async function recordBpf(
  argv: string[],
  options: RecordOptions = {},
): Promise<{ profile: Profile; status: number; builder: ProfileBuilder }> {
  const phase = options.phase ?? { kind: "none" };
  refuseMarkerPhase(phase, "bpf");
  const why = bpfUnavailable();
  if (why) throw new SysfenceError("E_USAGE", `--engine bpf: ${why}; use --engine ftrace or strace.`);
  const builder = new ProfileBuilder(argv, phase, options.focus);
  // the launch image (before the program's exec) is named as the command, as the other engines name it
  const tracer = new EbpfTracer(builder, phase, argv[0]);
  const onProgress = options.onProgress;
  return traceLaunch(
    argv,
    { ...options, onProgress: onProgress && (() => onProgress(tracer.progress())) },
    builder,
    tracer,
  );
}

/** The engine as a launch tracer: attached before the stopped program runs, its maps read at the end. */
export class EbpfTracer implements LaunchTracer {
  readonly nativeLauncher = true;
  private rec?: KernelRecorder;
  private out?: BpfOutput;
  private timer?: NodeJS.Timeout;
  /** Path uses by (path, access bits). */
  private readonly paths = new Map<string, number>();
  /** Counted path uses' keys (in `paths`) by the kernel's hash (path-programs.ts). */
  private readonly hashes = new Map<bigint, string>();
  /** Path events read, and path uses the kernel counted without sending them (read at detach). */
  pathEvents = 0;
  repeatedPaths = 0;
  private images = 0;
  private distinct = { at: 0, n: 0 };

  constructor(
    private readonly builder: ProfileBuilder,
    private readonly phase: PhaseSpec,
    private readonly command: string,
    /** Running processes to trace instead of one launched pid (record --pid). */
    private running?: readonly RunningProcess[],
    /** record --cgroup: the cgroup's processes instead of `running`, and how joiners are found. */
    private readonly cgroup?: CgroupWatch,
  ) {}
  /** record --cgroup v1: processes seeded by a rescan (they joined while recording). */
  joined = 0;
  private lastScan = 0;

  /**
   * Creates the maps, loads the programs and attaches them (for a launch: while the launcher starts; a
   * process is traced only once seeded, so nothing is counted before attach). Once, however often called.
   */
  prepare(): Promise<void> {
    this.preparing ??= this.load();
    return this.preparing;
  }
  private preparing?: Promise<void>;
  private async load(): Promise<void> {
    this.out = new BpfOutput(this.builder);
    const where = pidNamespace(); // (a launch in a container: seeded by its pid there, mapped at its first call)
    if (where === "foreign")
      throw new SysfenceError(
        "E_USAGE",
        `record ${this.cgroup ? "--cgroup" : this.running ? "--pid" : "-- COMMAND"} with --engine bpf: /proc here shows another PID namespace than sysfence's own (/proc/self is not pid ${process.pid}), so the pids read from it cannot be matched to the processes the kernel reports. Mount /proc for this namespace (unshare --mount-proc)${this.cgroup ? " or" : ","} run sysfence where /proc is its own${this.cgroup ? "" : ", or use --engine strace"}.`,
      );
    this.namespaced = where !== "initial";
    this.pidKeys = pidKeys();
    this.rec = new KernelRecorder({
      phase: this.phase,
      mapKeys: MAP_KEYS,
      pidKeys: this.pidKeys,
      namespaced: this.namespaced,
      cgroup: this.cgroup?.filter,
    });
    await this.rec.attach();
  }
  private namespaced = false;
  private pidKeys = MAP_KEYS;

  async attach(pid: number): Promise<void> {
    await this.prepare();
    if (this.cgroup) {
      this.running = this.cgroup.processes();
      this.lastScan = Date.now();
    }
    if (this.running) for (const p of this.running) this.seedRunning(p);
    else this.seedRunning({ pid, exe: this.command }, 6); // (a launch: its launcher's main thread, state 6)
    this.rec?.startClock();
    this.images = this.running?.length ?? 1;
    this.timer = setInterval(() => this.poll(), 20);
  }

  /** The number of processes traced from the start (record --pid, --cgroup). */
  get seeded(): number {
    return this.running?.length ?? 0;
  }

  /**
   * Traces a running process from now on (every call work). record --cgroup: one the kernel traces already
   * (it joined, or was forked by a traced process, since the attach or the last reading) keeps its state,
   * and its fork or exec event names it; false then. STATE: 3 (work), 6 for a launch.
   */
  private seedRunning(p: Pick<RunningProcess, "pid" | "exe" | "parent">, state = 3): boolean {
    const out = this.out as BpfOutput;
    const rec = this.rec as KernelRecorder;
    if (this.namespaced) {
      out.expect(p.pid, p.exe, p.parent);
      rec.want(p.pid, state);
      return true;
    }
    try {
      rec.seed(p.pid, state, this.cgroup ? NOEXIST : 0);
    } catch (e) {
      if ((e as { errno?: number }).errno !== EEXIST) throw e;
      return false;
    }
    out.seed(p.pid, p.exe, p.parent);
    if (this.running) this.roots.seed(p.pid); // (a launch's root is sysfence's own)
    return true;
  }

  /** record --cgroup v1: seeds the processes that joined the cgroup since the last reading. */
  private rescan(): void {
    const every = this.cgroup?.rescanMs;
    if (!every || Date.now() - this.lastScan < every) return;
    this.lastScan = Date.now();
    const out = this.out as BpfOutput;
    for (const p of this.cgroup?.processes() ?? [])
      if (!out.knows(p.pid, this.namespaced)) {
        if (!this.seedRunning(p)) continue;
        this.joined++;
        this.images++;
      }
  }

  /** Reads the ring buffer's events into the adapter. */
  private poll(): void {
    const out = this.out as BpfOutput;
    this.rec?.poll((e: KernelEvent) => {
      const [a, b, c, d] = e.f;
      switch (e.kind) {
        case EVENT.fork:
          // (record --cgroup: a parent that joined the cgroup without an exec is named as /proc says)
          if (this.cgroup && d === 0 && !out.knows(a)) out.name(a, exeOf(a));
          out.fork(a, b, c, d);
          this.roots.fork(a, b, c, d);
          this.images++;
          break;
        case EVENT.exec: {
          const root = this.roots.exec(a, c);
          const file = e.text ?? "?";
          this.images++;
          // a relative file waits for its directory (the path program's event at the exec's return)
          if (this.rec?.wholePaths && e.text !== undefined && !file.startsWith("/"))
            this.execs.set(a, (base) => {
              if (base === undefined) this.unresolved++;
              const path = base === undefined ? file : resolveIn(root, base, file);
              out.exec(a, c, path, e.cut, is32bit(path));
            });
          else {
            // a chroot'ed process's file is under its root (the image is named as the process named it, as
            // strace's engine names it)
            const path = e.text === undefined ? file : rootedPath(root, file);
            out.exec(a, c, file, e.cut, e.text !== undefined && is32bit(path), path);
          }
          break;
        }
        case EVENT.exit:
          out.exit(a, c | 0, d);
          this.roots.exit(a, d);
          break;
        case EVENT.seed: {
          const fresh = !out.mapped.has(a);
          out.seeded(a, b);
          // (record --pid, --cgroup: its root read by its pid in sysfence's namespace)
          if (this.running && fresh && out.mapped.get(a) === b) this.roots.seed(b, a);
          break;
        }
        case PATH_EVENT:
          if (e.raw) this.pathUse(e.raw);
          break;
        case EVENT.path: {
          if (!e.text) break;
          const access = openAccess(`0x${e.flags.toString(16)}`);
          const rel = e.text.startsWith("/") ? 0 : Access.relative;
          const k = `${access | rel}:${e.text}`;
          this.paths.set(k, (this.paths.get(k) ?? 0) + 1);
          break;
        }
      }
    });
    this.rescan();
  }

  /** Each process's root, where a chroot moved it. */
  private readonly roots = new Roots();
  /** Execs of a relative file, by tgid, waiting for their directory. */
  private readonly execs = new Map<number, (file?: string) => void>();
  /** Relative paths whose directory could not be walked (too deep, a name unreadable). */
  private unresolved = 0;

  /** A path-programs.ts event: a path use made absolute, or a successful exec's directory. */
  private pathUse(raw: Buffer): void {
    const e = pathEvent(raw);
    if (!e) return;
    this.pathEvents++;
    if (e.kind === USE_KIND.exec && e.result === 0 && e.bytes.length === 0) {
      const exec = this.execs.get(e.tgid);
      this.execs.delete(e.tgid);
      exec?.(e.base);
      return;
    }
    const root = this.roots.of(e.tgid, e.image);
    const p = eventPath(e, root);
    // a successful chroot: the process (and the ones it forks) now has this root
    if (e.kind === USE_KIND.chroot && e.result === 0 && typeof p === "string")
      this.roots.chroot(e.tgid, e.image, p);
    if (p === undefined) return;
    if (typeof p !== "string") {
      // a directory fd that is not open names nothing (the call failed: EBADF); else the walk gave up
      if (e.dir !== DIR.badFd) this.unresolved++;
      return;
    }
    const asked = e.access === 0 ? openAccess(`0x${e.flags.toString(16)}`) : e.access;
    // a call that failed with EEXIST only found the name (path-access.ts existingName)
    const access = e.result === -EEXIST ? existingName(asked) : asked;
    const k = `${access}:${p}`;
    this.paths.set(k, (this.paths.get(k) ?? 0) + 1);
    if (e.hash !== undefined) this.hashes.set(e.hash, k);
  }

  /** calls, distinct syscalls and processes so far (distinct read from the maps at most once a second). */
  progress(): { calls: number; distinct: number; processes: number } {
    const calls = this.rec?.totals().calls ?? 0;
    const now = Date.now();
    if (this.rec && now - this.distinct.at >= 1000)
      this.distinct = { at: now, n: this.rec.distinctSyscalls() };
    return { calls, distinct: this.distinct.n, processes: this.images };
  }

  async detach(): Promise<Profile["engine"]> {
    const rec = this.rec as KernelRecorder;
    const out = this.out as BpfOutput;
    // the launched program has exited (its parent saw it): its exit event is in the ring buffer already
    rec.detach();
    clearInterval(this.timer);
    this.poll();
    // an exec whose directory never came (its event lost): its file as the kernel named it
    for (const exec of this.execs.values()) exec();
    this.execs.clear();
    // the uses the kernel counted after their first event (a hash is in `seen` once the ring buffer took it)
    for (const [h, n] of rec.pathRepeats()) {
      const k = this.hashes.get(h);
      if (k === undefined) continue;
      this.paths.set(k, (this.paths.get(k) ?? 0) + n);
      this.repeatedPaths += n;
    }
    for (const [k, n] of this.paths) {
      const at = k.indexOf(":");
      out.usePath(k.slice(at + 1), Number(k.slice(0, at)), n);
    }
    const totals = rec.totals();
    const { counts, errors, signals } = rec.counts();
    out.counts(counts, errors, signals);
    if (rec.pathRefused)
      process.stderr.write(
        `sysfence record: the kernel refused the bpf engine's path program, so only the open family's paths are recorded (relative ones without their directory) and generate makes no file layer from this profile; record with --engine strace for one. ${rec.pathRefused}\n`,
      );
    if (out.truncatedPaths)
      process.stderr.write(
        `sysfence record: ${out.truncatedPaths} executed file name(s) of ${PATH_MAX - 1} bytes or more may be cut\n`,
      );
    const lost =
      totals.lostCalls +
      totals.lostEvents +
      totals.unreadPaths +
      this.unresolved +
      out.repeatedImages +
      out.compatCalls +
      this.joined;
    const why = [
      totals.lostCalls ? `${totals.lostCalls} calls past the count map's ${MAP_KEYS} keys` : "",
      totals.lostEvents ? `${totals.lostEvents} fork/exec/exit/path events (the ring buffer was full)` : "",
      totals.unreadPaths ? `${totals.unreadPaths} paths it could not read` : "",
      this.unresolved
        ? `${this.unresolved} relative path(s) whose directory it could not name (more than ${DIR_DEPTH} names and mounts up to the root or ${DIR_MAX - 256} bytes of names, or a name it could not read)`
        : "",
      out.compatCalls
        ? `${out.compatCalls} calls of ${out.compatImages} 32-bit (compat) program image(s), whose syscall numbers are another architecture's table (record them with --engine strace)`
        : "",
      this.joined
        ? `the calls ${this.joined} process(es) made between joining the cgroup (v1: it has no id the kernel can filter by) and the next reading of its processes (every ${this.cgroup?.rescanMs} ms)`
        : "",
      repeatedImagesLoss(out.repeatedImages, this.pidKeys),
    ]
      .filter(Boolean)
      .join(", ");
    return {
      name: "bpf",
      version: "sysfence eBPF",
      ...(rec.wholePaths ? { wholePaths: true } : {}),
      ...(lost ? { lostEvents: lost, lost: `the bpf engine lost ${why}` } : {}),
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.rec?.close();
    this.rec = undefined;
  }
}

/**
 * Counts running processes (and every task they start) in the kernel until `until` resolves; they are never
 * stopped or signalled. Every call is work (the processes' start-up is over). `attached` is called the
 * moment the programs are attached: every call from then on is counted.
 */
export async function attachBpf(
  builder: ProfileBuilder,
  running: readonly RunningProcess[] | CgroupWatch,
  until: Promise<unknown> | (() => Promise<unknown>),
  attached?: (processes: number) => void,
): Promise<Profile["engine"]> {
  const why = bpfUnavailable();
  if (why) throw new SysfenceError("E_USAGE", `--engine bpf: ${why}; use --engine ftrace or strace.`);
  const list = "processes" in running ? undefined : running;
  const cgroup = "processes" in running ? running : undefined;
  const tracer = new EbpfTracer(builder, { kind: "none" }, list?.[0]?.exe ?? "?", list, cgroup);
  return traceRunning(tracer, list ?? [], until, () => attached?.(tracer.seeded));
}
