import { byKey } from "../util/order.js";
import { Assembly } from "./builder-assembly.js";
import { type Group, inFocus, Processes, type Thread } from "./builder-groups.js";
import { PathUses, resolved } from "./builder-paths.js";
import { EXECS, enterWork, Phase } from "./builder-phase.js";
import { type Counter, countArg, countCombo } from "./counter.js";
import { Ev, type EventColumns, Result, TallyPhase } from "./events.js";
import type { EventNeeds, Focus, PhaseSpec } from "./phase-spec.js";
import { comboKey, type Profile, type RecordingEngine } from "./profile.js";

export { type EventNeeds, type Focus, type PhaseSpec, parsePhase } from "./phase-spec.js";

/** A thread's counter for a syscall, made on first use. */
function counterOf(t: Thread, name: string): Counter {
  let c = t.counts.get(name);
  if (!c) {
    c = { setup: 0, work: 0, errors: 0 };
    t.counts.set(name, c);
  }
  return c;
}

/** Builds a profile from trace events, streaming: memory grows with distinct values, not with the log. */
export class ProfileBuilder {
  private readonly procs: Processes;
  private readonly phase: Phase;
  private readonly pathUses = new PathUses();
  private readonly assembly = new Assembly();
  private readonly signals = new Map<string, number>();
  calls = 0;

  constructor(
    private readonly command: string[],
    phase: PhaseSpec = { kind: "none" },
    private readonly focus: Focus = {},
    /**
     * The time (epoch seconds) for events that carry none: a live recording reads each line as it is
     * written, so the time it is read is the time the work phase began, without asking strace to stamp
     * every line (-ttt costs a fifth of a syscall-heavy run's time).
     */
    private readonly clock?: () => number,
  ) {
    this.procs = new Processes(command);
    this.phase = new Phase(phase);
  }

  /** Uses of paths not kept (more than MAX_PATHS distinct ones, or dropped by an adapter at its limit). */
  get pathsOmitted(): number {
    return this.pathUses.omitted;
  }

  /**
   * What an adapter must keep apart when it folds calls into tallies, and which times the builder reads
   * (builder-phase.ts).
   */
  eventNeeds(): EventNeeds {
    return this.phase.needs(this.unfolded);
  }

  private unfolded = false;
  /** Asks adapters for every call as an event of its own (tests: the reference reading of a log). */
  foldNothing(): void {
    this.unfolded = true;
  }

  /**
   * The directory the launched program starts in: its relative paths are resolved against it (and
   * against the directories it changes to). Without it (an imported log), they are kept as written.
   */
  startIn(cwd: string): void {
    this.procs.launchCwd = cwd;
  }

  /** n uses of paths an adapter left out (past its limit of distinct paths). */
  omitPaths(n: number): void {
    this.pathUses.omitted += n;
  }

  /**
   * Feeds a batch of decoded events (events.ts), in order; `strings` resolves its string ids (the
   * producer's table, at least as long as the batch needs).
   */
  addBatch(b: EventColumns, strings: readonly string[]): void {
    const str = (id: number) => (id < 0 ? undefined : strings[id]);
    for (let i = 0; i < b.length; i++) {
      const kind = b.kind[i];
      const tid = b.tid[i];
      if (kind === Ev.thread) {
        this.procs.adopt(tid, b.n[i]);
        continue;
      }
      if (kind === Ev.superseded) {
        this.supersede(tid, b.n[i]);
        continue;
      }
      if (kind === Ev.process) {
        this.procs.declare(tid, strings[b.text[i]], b.aux[i] < 0 ? undefined : b.aux[i]);
        continue;
      }
      if (tid < 0) {
        // a signal or path use attributed to no thread in particular
        if (kind === Ev.signal) this.countSignal(strings[b.text[i]], b.n[i]);
        else if (kind === Ev.paths) this.countPath(undefined, strings[b.path[i]], b.access[i], b.n[i]);
        continue;
      }
      const time = b.time[i];
      if (!Number.isNaN(time)) this.phase.firstTime ??= time;
      const t = this.procs.threads.get(tid) ?? this.procs.thread(tid);
      if (kind === Ev.signal) {
        this.countSignal(strings[b.text[i]], b.n[i]);
        continue;
      }
      if (kind === Ev.exit) {
        const g = t.group;
        g.exitStatus = b.n[i] < 0 ? undefined : b.n[i];
        g.killedBy = str(b.text[i]);
        if (!t.exited) {
          t.exited = true;
          g.exited = (g.exited ?? 0) + 1;
          if (g.exited === g.threads.size && !this.procs.cloning(g)) this.freeze(g);
        }
        continue;
      }
      const name = strings[b.sys[i]];
      if (kind === Ev.pending) {
        t.pending = { name };
        continue;
      }
      if (kind === Ev.paths) {
        if (this.isCounted(t.group)) this.countPath(t, strings[b.path[i]], b.access[i], b.n[i]);
        continue;
      }
      if (kind === Ev.tally) {
        this.addTally(t, name, b, i, strings);
        continue;
      }
      if (this.phase.delayOver(time)) enterWork(this.procs.open(), time);
      if (kind === Ev.resume) {
        const p = t.pending;
        t.pending = undefined;
        if (p && p.name === name) {
          if (p.cwd !== undefined && b.result[i] === Result.ok) t.group.cwd = p.cwd ?? undefined;
          if (p.root !== undefined && b.result[i] === Result.ok) t.group.root = p.root;
          this.complete(t, name, b.result[i], p.text ?? str(b.text[i]));
        }
        continue;
      }
      this.calls++;
      const cwd = this.count(t, name, b, i, strings);
      const text = str(b.text[i]);
      // chroot: the directory that becomes the process's root (its absolute paths are under it)
      const root = name === "chroot" && b.path[i] >= 0 ? this.chdirTarget(t, name, b, i, strings) : null;
      if (kind === Ev.unfinished) t.pending = { name, text, cwd, root: root ?? undefined };
      else {
        if (cwd !== undefined && b.result[i] === Result.ok) t.group.cwd = cwd ?? undefined;
        if (root !== null && b.result[i] === Result.ok) t.group.root = root;
        this.complete(t, name, b.result[i], text);
      }
    }
  }

  /** n calls of one thread with the same name and values (a tally row; their paths come as paths rows), with their errors. */
  private addTally(t: Thread, name: string, b: EventColumns, i: number, strings: readonly string[]): void {
    const n = b.n[i];
    this.calls += n;
    const g = t.group;
    if (!this.isCounted(g)) return;
    const noReturn = b.noReturn[i];
    if (noReturn > 0) this.neverReturn(name, noReturn);
    if (n > 0) {
      const c = counterOf(t, name);
      const phase = b.phase[i];
      const work = phase === TallyPhase.process ? g.work : phase === TallyPhase.work;
      if (work) c.work += n;
      else c.setup += n;
      const info = this.phase.nameInfo(name);
      if (info.interesting) countValues(c, info.interesting, b, i, strings, work, n);
    }
    const c = t.counts.get(name);
    if (b.errors[i] > 0 && c) c.errors += b.errors[i];
  }

  /**
   * Declares a process that was already running when an attached recording began (record --pid): its
   * exe and threads are known from /proc, and every call it makes is work (its start-up is over).
   */
  attach(pid: number, exe: string, tids: readonly number[], parent?: number, cwd?: string): void {
    this.procs.attach(pid, exe, tids, parent, cwd);
  }

  private isCounted(g: Group): boolean {
    if (g.counted === undefined) g.counted = inFocus(this.focus, g);
    return g.counted;
  }

  /**
   * Counts a call row. For a chdir or fchdir, returns the directory it goes to if it succeeds (null: one
   * the recording cannot know); undefined for other calls.
   */
  private count(
    t: Thread,
    name: string,
    b: EventColumns,
    i: number,
    strings: readonly string[],
  ): string | null | undefined {
    const info = this.phase.nameInfo(name);
    if (info.fork) this.procs.forked(t, b.aux[i] === 1);
    const g = t.group;
    const wasWork = g.work;
    // The phase switches after the matching call, in every process (focus decides only what is counted).
    if (!wasWork && (info.first || (info.write && this.phase.isMarker(b.text[i], strings)))) {
      const time = b.time[i];
      enterWork([g], Number.isNaN(time) ? this.clock?.() : time);
    }
    const cwd = info.chdir ? this.chdirTarget(t, name, b, i, strings) : undefined;
    if (!this.isCounted(g)) return cwd;
    const c = counterOf(t, name);
    if (wasWork) c.work++;
    else c.setup++;
    if (info.interesting) countValues(c, info.interesting, b, i, strings, wasWork, 1);
    if (b.path[i] >= 0) this.countPath(t, strings[b.path[i]], b.access[i], 1);
    return cwd;
  }

  /**
   * The directory a chdir or chroot (its path) or fchdir (its fd's path, in the text column when the
   * engine knew it) goes to; null when the recording cannot know it.
   */
  private chdirTarget(
    t: Thread,
    name: string,
    b: EventColumns,
    i: number,
    strings: readonly string[],
  ): string | null {
    if (name === "fchdir") return b.text[i] < 0 ? null : strings[b.text[i]];
    if (b.path[i] < 0) return null;
    const dir = resolved(t.group.cwd, strings[b.path[i]], b.access[i], t.group.root);
    return dir.startsWith("/") ? dir : null;
  }

  /** n deliveries of a signal. */
  private countSignal(signal: string, n: number): void {
    this.signals.set(signal, (this.signals.get(signal) ?? 0) + n);
  }

  /** n more uses of a path by thread t (undefined: by no thread in particular), with access bits. */
  private countPath(t: Thread | undefined, named: string | undefined, bits: number, n: number): void {
    this.pathUses.count(t?.group.cwd, named, bits, n, t?.group.root);
  }

  /** The end of a call: never returned, failed, or an exec that made a new process image (file: its name). */
  private complete(t: Thread, name: string, result: number, file: string | undefined): void {
    const counted = this.isCounted(t.group);
    if (result === Result.noReturn && counted) this.neverReturn(name, 1);
    const exec = EXECS.includes(name);
    if (!counted && !exec) return;
    if (result === Result.failed) {
      const c = t.counts.get(name);
      if (c) c.errors++;
    }
    // A new process image: the old one (with this thread's calls so far, execve included) is finished;
    // execve ended its other threads, and this thread goes on as the new image's leader.
    if (exec && result === Result.ok) this.freeze(this.procs.exec(t, file));
  }

  /**
   * Thread `by` exec'd while it was not its process's leader: the kernel gave it the leader's tid, under
   * which its exec ends (a resume row). The leader's own unfinished call never returns.
   */
  private supersede(leaderTid: number, by: number): void {
    const t = this.procs.threads.get(by);
    if (!t || by === leaderTid) return;
    const leader = this.procs.threads.get(leaderTid);
    if (leader?.pending && this.isCounted(leader.group)) this.neverReturn(leader.pending.name, 1);
    this.procs.takeOver(leaderTid, by, t, leader);
  }

  /** An image that is over (builder-assembly.ts): its tids are free for new processes. */
  private freeze(g: Group): void {
    this.assembly.freeze(g, this.procs.threads);
  }

  private readonly noReturn = new Map<string, number>();
  private neverReturn(name: string, n: number): void {
    this.noReturn.set(name, (this.noReturn.get(name) ?? 0) + n);
  }

  /**
   * Calls that never returned (exit_group; a call the thread died in, "= ?"; one still pending at the
   * end), by name, in name order. strace -c counts only calls that returned; sysfence counts every call made.
   */
  neverReturned(): Map<string, number> {
    const out = new Map(this.noReturn);
    for (const [n, k] of this.assembly.frozenPending) out.set(n, (out.get(n) ?? 0) + k);
    // (a frozen image's pending calls are in frozenPending; images an engine declared have none)
    for (const t of this.procs.threads.values())
      if (t.pending) out.set(t.pending.name, (out.get(t.pending.name) ?? 0) + 1);
    // by name: the order threads and frozen images were met in depends on folding and slicing
    return new Map([...out].sort(byKey));
  }

  /** Distinct syscalls seen so far. */
  distinct(): number {
    return this.assembly.distinct(this.procs.threads.values());
  }

  /** Processes (thread groups) seen so far. */
  processCount(): number {
    return this.assembly.processCount(this.procs.open().size);
  }

  /** The profile so far. */
  build(meta: {
    engine: RecordingEngine;
    arch: string;
    complete: boolean;
    exitStatus?: number;
    signal?: string;
    startedAt?: string;
    endedAt?: string;
    phaseText?: string;
  }): Profile {
    const { processes, syscalls } = this.assembly.processes(this.procs.open());
    return {
      format: "sysfence-profile",
      version: 1,
      command: this.command,
      engine: meta.engine,
      arch: meta.arch,
      startedAt: meta.startedAt,
      endedAt: meta.endedAt,
      complete: meta.complete,
      phaseBoundary: meta.phaseText,
      exitStatus: meta.exitStatus,
      signal: meta.signal,
      syscalls,
      processes,
      ...this.pathUses.toProfile(),
      signals: Object.fromEntries(this.signals),
    };
  }
}

/**
 * The argument values of row i (v0..v2 in INTERESTING_ARGS order), n calls' worth: each argument's, and
 * — for a call with several — the values together (one row is one call's, or calls' with the same values).
 */
function countValues(
  c: Counter,
  idx: number[],
  b: EventColumns,
  i: number,
  strings: readonly string[],
  work: boolean,
  n: number,
): void {
  const v0 = b.v0[i];
  if (v0 >= 0) countArg(c, idx[0], strings[v0], work, n);
  if (idx.length < 2) return;
  const v1 = b.v1[i];
  if (v1 >= 0) countArg(c, idx[1], strings[v1], work, n);
  const v2 = b.v2[i];
  if (idx.length > 2 && v2 >= 0) countArg(c, idx[2], strings[v2], work, n);
  // together only when the row has every value (a row without one tells nothing about the combination)
  if (v0 < 0 || v1 < 0 || (idx.length > 2 && v2 < 0)) return;
  const vals = idx.length > 2 ? [strings[v0], strings[v1], strings[v2]] : [strings[v0], strings[v1]];
  countCombo(c, comboKey(vals), work, n);
}
