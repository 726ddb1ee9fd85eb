import { allSyscallNames } from "../syscalls/table.js";
import { dict } from "../util/dict.js";
import { addCounters, type Counter, countArg, toCounts } from "./counter.js";
import { Ev, type EventColumns, Result } from "./events.js";
import { ImageFolds } from "./fold.js";
import { ACCESS_BITS, Access, accessLetters, resolvePath } from "./path-access.js";
import type { EventNeeds, Focus, PhaseSpec } from "./phase-spec.js";
import {
  INTERESTING_ARGS,
  MAX_PATHS,
  type ProcessProfile,
  type Profile,
  type RecordingEngine,
  type SyscallCounts,
  type ThreadProfile,
} from "./profile.js";

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
/** localeCompare's order with one collator (localeCompare makes one per call: slow for thousands of threads). */
const collate = new Intl.Collator().compare;
interface Thread {
  tid: number;
  group: Group;
  counts: Map<string, Counter>;
  /**
   * The call it has not finished yet (its end comes in a later event), with an exec's file name or the
   * directory a chdir/fchdir goes to (null: one the recording cannot know).
   */
  pending?: { name: string; text?: string; cwd?: string | null };
  exited?: boolean;
}
interface NameInfo {
  fork: boolean;
  interesting?: number[];
  /** chdir or fchdir: changes the process's current directory. */
  chdir: boolean;
  write: boolean;
  first: boolean;
}
interface Group {
  /** Cached focus decision (the exe of a group never changes; execve makes a new group). */
  counted?: boolean;
  pid: number;
  exe: string;
  parent?: number;
  work: boolean;
  workStartedAt?: number;
  threads: Map<number, Thread>;
  exitStatus?: number;
  killedBy?: string;
  /** Threads that have exited (an exit event each). */
  exited?: number;
  /** Its threads' final counts, once the image is over (its counters are then dropped). */
  frozen?: ThreadProfile[];
  /** Its current directory (relative paths are resolved against it), when the recording knows it. */
  cwd?: string;
}

const CLONE_THREAD = 0x10000n;
/** Calls through which a program announces a marker or READY=1 (sd_notify sends a datagram). */
const WRITES = new Set(["write", "writev", "pwrite64", "sendto", "sendmsg"]);
/** Calls that make a process or thread, and calls that replace the process image. */
const FORKS = ["clone", "clone3", "fork", "vfork"];
const EXECS = ["execve", "execveat"];
/** Calls that change the current directory (relative paths after them are resolved against the new one). */
const CHDIRS = ["chdir", "fchdir"];

/** Builds a profile from trace events, streaming: memory grows with distinct values, not with the log. */
export class ProfileBuilder {
  private readonly threads = new Map<number, Thread>();
  private readonly finished: Group[] = [];
  private readonly paths = new Map<string, number>();
  /** The kept paths' access bits (path-access.ts), as their uses said them. */
  private readonly access = new Map<string, number>();
  /** The launched program's current directory (the first process without a parent starts in it). */
  private launchCwd?: string;
  private readonly signals = new Map<string, number>();
  private pendingThreadClones = new Map<number, number>();
  private firstTime?: number;
  /** Uses of paths not kept (more than MAX_PATHS distinct ones, or dropped by an adapter at its limit). */
  pathsOmitted = 0;
  calls = 0;

  constructor(
    private readonly command: string[],
    private readonly phase: PhaseSpec = { kind: "none" },
    private readonly focus: Focus = {},
    /**
     * The time (epoch seconds) for events that carry none: a live recording reads each line as it is
     * written, so the time it is read is the time the work phase began, without asking strace to stamp
     * every line (-ttt costs a fifth of a syscall-heavy run's time).
     */
    private readonly clock?: () => number,
  ) {}

  /**
   * What an adapter must keep apart when it folds calls into tallies, and which times the builder reads:
   * the calls whose single event changes the builder's state (forks, execs, what starts the work phase)
   * are each an event of their own; `separate` is null when no call may be folded (a delay: phase reads
   * every event's time). `strings`: calls whose string arguments the builder reads (a marker's writes).
   */
  eventNeeds(): EventNeeds {
    const times = this.timeNeeds();
    return {
      separate:
        this.phase.kind === "delay" || this.unfolded
          ? null
          : [...FORKS, ...EXECS, ...CHDIRS, ...times.timeNames],
      ...times,
      strings: this.phase.kind === "marker" ? [...WRITES] : [],
      known: allSyscallNames(),
    };
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
    this.launchCwd = cwd;
  }

  /** n uses of paths an adapter left out (past its limit of distinct paths). */
  omitPaths(n: number): void {
    this.pathsOmitted += n;
  }

  private timeNeeds(): { allTimes: boolean; timeNames: string[] } {
    if (this.phase.kind === "delay") return { allTimes: true, timeNames: [] };
    if (this.phase.kind === "marker") return { allTimes: false, timeNames: [...WRITES] };
    if (this.phase.kind === "first") {
      const p = this.phase.syscall;
      const names = p.endsWith("*") ? namesWithPrefix(p.slice(0, -1)) : [p];
      return { allTimes: false, timeNames: names };
    }
    return { allTimes: false, timeNames: [] };
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
        this.adoptThread(tid, b.n[i]);
        continue;
      }
      if (kind === Ev.superseded) {
        this.supersede(tid, b.n[i]);
        continue;
      }
      if (kind >= Ev.image || tid < 0) {
        this.addKernelCounts(b, i, strings);
        continue;
      }
      const time = b.time[i];
      if (!Number.isNaN(time)) this.firstTime ??= time;
      const t = this.threads.get(tid) ?? this.thread(tid);
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
          if (g.exited === g.threads.size && !this.cloning(g)) this.freeze(g);
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
      if (
        this.phase.kind === "delay" &&
        !Number.isNaN(time) &&
        this.firstTime !== undefined &&
        time - this.firstTime >= this.phase.seconds
      )
        this.enterWork(t.group, time, true);
      if (kind === Ev.resume) {
        const p = t.pending;
        t.pending = undefined;
        if (p && p.name === name) {
          if (p.cwd !== undefined && b.result[i] === Result.ok) t.group.cwd = p.cwd ?? undefined;
          this.complete(t, name, b.result[i], p.text ?? str(b.text[i]));
        }
        continue;
      }
      this.calls++;
      const cwd = this.count(t, name, b, i, strings);
      const text = str(b.text[i]);
      if (kind === Ev.unfinished) t.pending = { name, text, cwd };
      else {
        if (cwd !== undefined && b.result[i] === Result.ok) t.group.cwd = cwd ?? undefined;
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
    if (noReturn > 0) this.noReturn.set(name, (this.noReturn.get(name) ?? 0) + noReturn);
    if (n > 0) {
      const c = counterOf(t, name);
      const work = g.work;
      if (work) c.work += n;
      else c.setup += n;
      const info = this.nameInfo(name);
      if (info.interesting) this.countValues(c, info.interesting, b, i, strings, work, n);
    }
    const c = t.counts.get(name);
    if (b.errors[i] > 0 && c) c.errors += b.errors[i];
  }

  /** The argument values of row i (v0..v2 in INTERESTING_ARGS order), n calls' worth. */
  private countValues(
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
  }

  /** Process images counted in the kernel (bpf), by the adapter's image id. */
  private readonly images = new Map<number, Group>();

  /**
   * A row of counts an engine aggregated in the kernel (bpf): an image, its counts per thread, syscall,
   * values and phase, its exit; or a signal or path use attributed to no thread in particular.
   */
  private addKernelCounts(b: EventColumns, i: number, strings: readonly string[]): void {
    const kind = b.kind[i];
    if (kind === Ev.image) {
      const g: Group = {
        pid: b.tid[i],
        exe: strings[b.text[i]],
        parent: b.aux[i] < 0 ? undefined : b.aux[i],
        work: false,
        threads: new Map(),
      };
      this.images.set(b.n[i], g);
      this.finished.push(g);
      return;
    }
    if (kind === Ev.signal) {
      this.countSignal(strings[b.text[i]], b.n[i]);
      return;
    }
    if (kind === Ev.paths) {
      this.countPath(undefined, strings[b.path[i]], b.access[i], b.n[i]);
      return;
    }
    const g = this.images.get(b.aux[i]);
    if (!g) return;
    if (kind === Ev.exit) {
      g.exitStatus = b.n[i] < 0 ? undefined : b.n[i];
      g.killedBy = b.text[i] < 0 ? undefined : strings[b.text[i]];
      return;
    }
    const work = kind === Ev.countedWork;
    if (work) g.work = true;
    const tid = b.tid[i];
    let t = g.threads.get(tid);
    if (!t) {
      t = { tid, group: g, counts: new Map() };
      g.threads.set(tid, t);
    }
    const n = b.n[i];
    this.calls += n;
    if (!this.isCounted(g)) return;
    const name = strings[b.sys[i]];
    const c = counterOf(t, name);
    if (work) c.work += n;
    else c.setup += n;
    c.errors += b.errors[i];
    const idx = this.nameInfo(name).interesting;
    if (idx) this.countValues(c, idx, b, i, strings, work, n);
  }

  /**
   * Declares a process that was already running when an attached recording began (record --pid): its
   * exe and threads are known from /proc, and every call it makes is work (its start-up is over).
   */
  attach(pid: number, exe: string, tids: readonly number[], parent?: number, cwd?: string): void {
    const group: Group = { pid, exe, parent, work: true, threads: new Map(), cwd };
    for (const tid of tids.includes(pid) ? tids : [pid, ...tids]) {
      const t: Thread = { tid, group, counts: new Map() };
      group.threads.set(tid, t);
      this.threads.set(tid, t);
    }
  }

  /**
   * Declares tid a thread of leader's process (an engine that knows thread groups directly: ftrace). A
   * CLONE_THREAD clone counted for that process is used up by it.
   */
  private adoptThread(tid: number, leader: number): void {
    if (this.threads.has(tid)) return;
    const lt = this.threads.get(leader);
    if (!lt) return;
    const t: Thread = { tid, group: lt.group, counts: new Map() };
    lt.group.threads.set(tid, t);
    this.threads.set(tid, t);
    for (const [parent, n] of this.pendingThreadClones) {
      if (this.threads.get(parent)?.group !== lt.group) continue;
      if (n <= 1) this.pendingThreadClones.delete(parent);
      else this.pendingThreadClones.set(parent, n - 1);
      break;
    }
  }

  private thread(tid: number): Thread {
    let t = this.threads.get(tid);
    if (t) return t;
    // A new tid: a thread of a parent with a pending CLONE_THREAD clone, else a new process.
    let group: Group | undefined;
    for (const [parentTid, n] of this.pendingThreadClones) {
      if (n > 0) {
        group = this.threads.get(parentTid)?.group;
        this.pendingThreadClones.set(parentTid, n - 1);
        if (n - 1 === 0) this.pendingThreadClones.delete(parentTid);
        break;
      }
    }
    if (!group) {
      const parent = this.lastForker;
      group = {
        pid: tid,
        exe: parent?.group.exe ?? this.command[0] ?? "?",
        parent: parent?.group.pid,
        work: parent?.group.work ?? false,
        threads: new Map(),
        // a child starts in its parent's directory; the first process, in the launch's
        cwd: parent ? this.forkCwd : this.launchCwd,
      };
      if (group.work) group.workStartedAt = parent?.group.workStartedAt;
    }
    t = { tid, group, counts: new Map() };
    group.threads.set(tid, t);
    this.threads.set(tid, t);
    return t;
  }
  private lastForker?: Thread;
  /** The forking process's directory when it forked (its child starts there). */
  private forkCwd?: string;

  private isCounted(g: Group): boolean {
    if (g.counted === undefined) g.counted = this.counted(g);
    return g.counted;
  }

  private counted(g: Group): boolean {
    const match = (list: string[]) => list.some((x) => g.exe === x || g.exe.endsWith(`/${x}`));
    if (this.focus.only?.length && !match(this.focus.only)) return false;
    if (this.focus.exclude?.length && match(this.focus.exclude)) return false;
    return true;
  }

  /** What the builder needs to know about a syscall name, looked up once per name. */
  private nameInfo(name: string): NameInfo {
    let info = this.names.get(name);
    if (!info) {
      info = {
        fork: FORKS.includes(name),
        interesting: INTERESTING_ARGS[name],
        chdir: CHDIRS.includes(name),
        write: WRITES.has(name),
        first: this.phase.kind === "first" && matchesName(this.phase.syscall, name),
      };
      this.names.set(name, info);
    }
    return info;
  }
  private readonly names = new Map<string, NameInfo>();

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
    const info = this.nameInfo(name);
    if (info.fork) {
      this.lastForker = t;
      this.forkCwd = t.group.cwd;
      const flags = info.interesting && b.v0[i] >= 0 ? strings[b.v0[i]] : undefined;
      if (flags !== undefined && isThreadClone(flags))
        this.pendingThreadClones.set(t.tid, (this.pendingThreadClones.get(t.tid) ?? 0) + 1);
    }
    const g = t.group;
    const wasWork = g.work;
    // The phase switches after the matching call, in every process (focus decides only what is counted).
    if (!wasWork && (info.first || (info.write && this.isMarker(b.text[i], strings)))) {
      const time = b.time[i];
      this.enterWork(g, Number.isNaN(time) ? this.clock?.() : time);
    }
    const cwd = info.chdir ? this.chdirTarget(t, name, b, i, strings) : undefined;
    if (!this.isCounted(g)) return cwd;
    const c = counterOf(t, name);
    if (wasWork) c.work++;
    else c.setup++;
    if (info.interesting) this.countValues(c, info.interesting, b, i, strings, wasWork, 1);
    if (b.path[i] >= 0) this.countPath(t, strings[b.path[i]], b.access[i], 1);
    return cwd;
  }

  /**
   * The directory a chdir (its path) or fchdir (its fd's path, in the text column when the engine knew
   * it) goes to; null when the recording cannot know it.
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
    const dir = this.resolved(t, strings[b.path[i]], b.access[i]);
    return dir.startsWith("/") ? dir : null;
  }

  /** A path as a thread names it, made absolute against its process's directory when it is relative to it and that is known. */
  private resolved(t: Thread | undefined, path: string, bits: number): string {
    if (!(bits & Access.relative)) return path;
    const cwd = t?.group.cwd;
    if (cwd === undefined) return path;
    return bits & Access.unix ? `unix:${resolvePath(cwd, path.slice(5))}` : resolvePath(cwd, path);
  }

  /** Whether a write's strings carry the --after marker. */
  private isMarker(text: number, strings: readonly string[]): boolean {
    return this.phase.kind === "marker" && text >= 0 && strings[text].includes(this.phase.text);
  }

  /** n deliveries of a signal. */
  private countSignal(signal: string, n: number): void {
    this.signals.set(signal, (this.signals.get(signal) ?? 0) + n);
  }

  /**
   * n more uses of a path by thread t (undefined: by no thread in particular), with access bits; the
   * first MAX_PATHS distinct ones are kept.
   */
  private countPath(t: Thread | undefined, named: string | undefined, bits: number, n: number): void {
    if (!named) return;
    const path = this.resolved(t, named, bits);
    const had = this.paths.get(path);
    if (had === undefined && this.paths.size >= MAX_PATHS) {
      this.pathsOmitted += n;
      return;
    }
    this.paths.set(path, (had ?? 0) + n);
    const a = bits & ACCESS_BITS;
    if (a) this.access.set(path, (this.access.get(path) ?? 0) | a);
  }

  /** The end of a call: never returned, failed, or an exec that made a new process image (file: its name). */
  private complete(t: Thread, name: string, result: number, file: string | undefined): void {
    const counted = this.isCounted(t.group);
    if (result === Result.noReturn && counted) this.noReturn.set(name, (this.noReturn.get(name) ?? 0) + 1);
    const exec = EXECS.includes(name);
    if (!counted && !exec) return;
    if (result === Result.failed) {
      const c = t.counts.get(name);
      if (c) c.errors++;
    }
    if (exec && result === Result.ok) {
      // A new process image: the old one (with this thread's calls so far, execve included) is finished;
      // execve ended its other threads, and this thread goes on as the new image's leader.
      const old = t.group;
      const fresh: Group = {
        pid: old.pid,
        exe: file ?? old.exe,
        parent: old.parent,
        work: old.work,
        workStartedAt: old.workStartedAt,
        threads: new Map(),
        cwd: old.cwd,
      };
      const moved: Thread = { tid: t.tid, group: fresh, counts: new Map() };
      fresh.threads.set(t.tid, moved);
      this.threads.set(t.tid, moved);
      this.freeze(old);
    }
  }

  /**
   * Thread `by` exec'd while it was not its process's leader: the kernel gave it the leader's tid, under
   * which its exec ends (a resume row). The leader's own unfinished call never returns.
   */
  private supersede(leaderTid: number, by: number): void {
    const t = this.threads.get(by);
    if (!t || by === leaderTid) return;
    const leader = this.threads.get(leaderTid);
    if (leader?.pending && this.isCounted(leader.group))
      this.noReturn.set(leader.pending.name, (this.noReturn.get(leader.pending.name) ?? 0) + 1);
    if (leader && leader.group === t.group) leader.pending = t.pending;
    else {
      const moved: Thread = { tid: leaderTid, group: t.group, counts: new Map(), pending: t.pending };
      t.group.threads.set(leaderTid, moved);
      this.threads.set(leaderTid, moved);
    }
    t.pending = undefined;
    this.threads.delete(by);
  }

  /** Whether one of the image's threads made a thread that has not been seen yet (it would join it). */
  private cloning(g: Group): boolean {
    for (const [tid, n] of this.pendingThreadClones)
      if (n > 0 && this.threads.get(tid)?.group === g) return true;
    return false;
  }

  /**
   * An image that is over (exec'd away, or every thread exited): its threads' counts become their final
   * form and are added to the totals, its counters are dropped, and its tids are free for new processes
   * (a pid the kernel reuses is another process). A recording of thousands of short processes keeps
   * only what it will write.
   */
  private freeze(g: Group): void {
    if (g.frozen) return;
    for (const t of g.threads.values()) {
      if (t.pending)
        this.frozenPending.set(t.pending.name, (this.frozenPending.get(t.pending.name) ?? 0) + 1);
      if (this.threads.get(t.tid) === t) this.threads.delete(t.tid);
    }
    const threads = this.settle(g, this.frozenTotals, this.folds);
    g.threads = new Map();
    g.frozen = threads ?? [];
    if (threads?.length) this.finished.push(g);
  }

  /**
   * An image's counted threads into `totals`, and either their final counts (the image is written apart)
   * or, past the images of its program written apart, into its program's entry in `folds` (undefined).
   */
  private settle(g: Group, totals: Map<string, Counter>, folds: ImageFolds): ThreadProfile[] | undefined {
    const counted = [...g.threads.values()].filter((t) => t.counts.size > 0);
    if (counted.length === 0) return [];
    if (folds.keep(g)) return counted.map((t) => this.finalCounts(t, totals));
    for (const t of counted) addCounters(totals, t.counts);
    folds.fold({ ...g, threads: counted });
    return undefined;
  }
  /** Images of one program past those written apart. */
  private readonly folds = new ImageFolds();
  private readonly frozenTotals = new Map<string, Counter>();
  private readonly frozenPending = new Map<string, number>();

  /** A thread's counts in their final form (syscalls in name order), added into `totals`. */
  private finalCounts(t: Thread, totals: Map<string, Counter>): ThreadProfile {
    // (null prototype: a log's syscall names are data, "__proto__" included)
    const syscalls: Record<string, SyscallCounts> = dict();
    for (const [n, c] of [...t.counts].sort(this.byName)) syscalls[n] = toCounts(c);
    addCounters(totals, t.counts);
    return { tid: t.tid, syscalls };
  }

  /**
   * Orders [name, …] pairs by name, as localeCompare would, through ranks kept for the names met so far
   * (a collator call per comparison is slow for tens of thousands of threads).
   */
  private readonly byName = (a: [string, unknown], b: [string, unknown]): number => {
    let ra = this.ranks.get(a[0]);
    let rb = this.ranks.get(b[0]);
    if (ra === undefined || rb === undefined) {
      this.rankNames([a[0], b[0]]);
      ra = this.ranks.get(a[0]) ?? 0;
      rb = this.ranks.get(b[0]) ?? 0;
    }
    return ra - rb;
  };
  private readonly ranks = new Map<string, number>();
  private rankNames(more: string[]): void {
    const names = [...new Set([...this.ranks.keys(), ...more])].sort(collate);
    for (let i = 0; i < names.length; i++) this.ranks.set(names[i], i);
  }

  private enterWork(g: Group, time?: number, all = false): void {
    const groups = all ? new Set([...this.threads.values()].map((t) => t.group)) : new Set([g]);
    for (const x of groups) {
      if (x.work) continue;
      x.work = true;
      x.workStartedAt = time;
    }
  }

  private readonly noReturn = new Map<string, number>();

  /**
   * Calls that never returned (exit_group; a call the thread died in, "= ?"; one still pending at the
   * end), by name. strace -c counts only calls that returned; sysfence counts every call made.
   */
  neverReturned(): Map<string, number> {
    const out = new Map(this.noReturn);
    for (const [n, k] of this.frozenPending) out.set(n, (out.get(n) ?? 0) + k);
    // (a frozen image's pending calls are in frozenPending; kernel-counted images have none)
    for (const t of this.threads.values())
      if (t.pending) out.set(t.pending.name, (out.get(t.pending.name) ?? 0) + 1);
    return out;
  }

  /** Distinct syscalls seen so far. */
  distinct(): number {
    const names = new Set<string>(this.frozenTotals.keys());
    for (const t of this.threads.values()) for (const n of t.counts.keys()) names.add(n);
    return names.size;
  }

  /** Processes (thread groups) seen so far. */
  processCount(): number {
    const open = new Set([...this.threads.values()].map((t) => t.group)).size;
    return open + this.finished.length + this.folds.folded;
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
    const groups = new Set<Group>(this.finished);
    for (const t of this.threads.values()) groups.add(t.group);
    const processes: ProcessProfile[] = [];
    // the images still open are added to copies of the totals and folds of those already frozen
    const totals = new Map<string, Counter>();
    addCounters(totals, this.frozenTotals);
    const folds = this.folds.copy();
    for (const g of groups) {
      const threads = g.frozen ?? this.settle(g, totals, folds);
      if (!threads?.length) continue;
      processes.push({
        pid: g.pid,
        exe: g.exe,
        parent: g.parent,
        workStartedAt: g.workStartedAt,
        threads,
        exitStatus: g.exitStatus,
        killedBy: g.killedBy,
      });
    }
    processes.push(...folds.entries(this.byName));
    const paths = [...this.paths.entries()].sort((a, b) => b[1] - a[1]);
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
      syscalls: Object.fromEntries([...totals].sort(this.byName).map(([n, c]) => [n, toCounts(c)])),
      processes,
      paths: Object.fromEntries(paths),
      ...(this.pathsOmitted ? { pathsOmitted: this.pathsOmitted } : {}),
      pathAccess: Object.fromEntries(
        paths.flatMap(([p]) => {
          const a = this.access.get(p);
          return a ? [[p, accessLetters(a)]] : [];
        }),
      ),
      signals: Object.fromEntries(this.signals),
    };
  }
}

/** Every known syscall name starting with a prefix ("accept" → accept, accept4). */
function namesWithPrefix(prefix: string): string[] {
  return allSyscallNames().filter((n) => n.startsWith(prefix));
}

function matchesName(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Whether a decoded clone flags value (decimal, or an imported log's symbolic expression) makes a thread. */
function isThreadClone(value: string): boolean {
  if (value.includes("CLONE_THREAD")) return true;
  const m = /(0x[0-9a-f]+|\d+)/i.exec(value);
  return !!m && (BigInt(m[1]) & CLONE_THREAD) !== 0n;
}
