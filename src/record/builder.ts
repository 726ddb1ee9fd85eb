import { SysfenceError } from "../errors.js";
import { allSyscallNames } from "../syscalls/table.js";
import { dict } from "../util/dict.js";
import { argsOf, type CallEvent, joinResumed, nthArg, type TraceEvent } from "./engines/strace/parse.js";
import {
  addCounts,
  INTERESTING_ARGS,
  PATH_ARG,
  type ProcessProfile,
  type Profile,
  type RecordingEngine,
  type SyscallCounts,
} from "./profile.js";

/** When the work phase starts (--after). */
export type PhaseSpec =
  | { kind: "none" }
  | { kind: "first"; syscall: string }
  | { kind: "marker"; text: string }
  | { kind: "delay"; seconds: number };

/** Parses an --after value: listen, accept, first:SYSCALL, ready, marker:TEXT, delay:SECONDS. */
export function parsePhase(text: string | undefined): PhaseSpec {
  if (!text) return { kind: "none" };
  if (text === "listen") return { kind: "first", syscall: "listen" };
  if (text === "accept") return { kind: "first", syscall: "accept*" };
  if (text === "ready") return { kind: "marker", text: "READY=1" };
  const m = /^(first|marker|delay):(.+)$/.exec(text);
  if (m?.[1] === "first") return { kind: "first", syscall: m[2] };
  if (m?.[1] === "marker") return { kind: "marker", text: m[2] };
  if (m?.[1] === "delay" && Number.isFinite(Number(m[2]))) return { kind: "delay", seconds: Number(m[2]) };
  throw new SysfenceError(
    "E_USAGE",
    `unknown --after '${text}'; use listen, accept, first:SYSCALL, ready, marker:TEXT or delay:SECONDS.`,
  );
}

/** Which processes to count (--only-exe / --exclude-exe), by full path or basename. */
export interface Focus {
  only?: string[];
  exclude?: string[];
}

/** Counts while building: argument values in Maps (fast updates), turned into a SyscallCounts at the end. */
interface Counter {
  setup: number;
  work: number;
  errors: number;
  argMaps?: Map<number, Map<string, number>>;
  workArgMaps?: Map<number, Map<string, number>>;
}
function bump(m: Map<number, Map<string, number>>, i: number, v: string, n: number): void {
  let vals = m.get(i);
  if (!vals) {
    vals = new Map();
    m.set(i, vals);
  }
  vals.set(v, (vals.get(v) ?? 0) + n);
}
/** A thread's counter for a syscall, made on first use. */
function counterOf(t: Thread, name: string): Counter {
  let c = t.counts.get(name);
  if (!c) {
    c = { setup: 0, work: 0, errors: 0 };
    t.counts.set(name, c);
  }
  return c;
}
/** n more calls with value v in argument i (in the work phase too when work). */
function countArg(c: Counter, i: number, v: string, work: boolean, n: number): void {
  c.argMaps ??= new Map();
  bump(c.argMaps, i, v, n);
  if (work) {
    c.workArgMaps ??= new Map();
    bump(c.workArgMaps, i, v, n);
  }
}
const plain = (m: Map<number, Map<string, number>>) =>
  Object.fromEntries([...m].map(([i, vals]) => [String(i), Object.fromEntries(vals)]));
function toCounts(c: Counter): SyscallCounts {
  return {
    setup: c.setup,
    work: c.work,
    errors: c.errors,
    ...(c.argMaps ? { args: plain(c.argMaps) } : {}),
    ...(c.workArgMaps ? { workArgs: plain(c.workArgMaps) } : {}),
  };
}
/** localeCompare's order with one collator (localeCompare makes one per call: slow for thousands of threads). */
const byName = new Intl.Collator().compare;
const argValueCache = new Map<string, string>();
/** argValue, remembered: a log repeats the same few hundred values millions of times. */
function cachedArgValue(raw: string): string {
  let v = argValueCache.get(raw);
  if (v === undefined) {
    v = argValue(raw);
    if (argValueCache.size < 100000) argValueCache.set(raw, v);
  }
  return v;
}

interface Thread {
  tid: number;
  group: Group;
  counts: Map<string, Counter>;
  pending?: CallEvent;
}
interface NameInfo {
  fork: boolean;
  interesting?: number[];
  path: boolean;
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
}

const CLONE_THREAD = 0x10000n;
/** Calls through which a program announces a marker or READY=1 (sd_notify sends a datagram). */
const WRITES = new Set(["write", "writev", "pwrite64", "sendto", "sendmsg"]);
/** Calls that make a process or thread, and calls that replace the process image. */
const FORKS = ["clone", "clone3", "fork", "vfork"];
const EXECS = ["execve", "execveat"];
const MAX_PATHS = 20000;

/** Normalises an argument text: numbers to decimal, everything else as written. */
export function argValue(text: string): string {
  const c = text.charCodeAt(0);
  if (c >= 49 && c <= 57) {
    // plain decimal (most values under -X raw)
    let k = 1;
    while (k < text.length && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
    if (k === text.length) return text;
  }
  const t = text.replace(/^\w+=/, "");
  if (/^-?\d+$/.test(t)) return t;
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t).toString();
  return t;
}

/** Builds a profile from trace events, streaming: memory grows with distinct values, not with the log. */
export class ProfileBuilder {
  private readonly threads = new Map<number, Thread>();
  private readonly finished: Group[] = [];
  private readonly paths = new Map<string, number>();
  private readonly signals = new Map<string, number>();
  private pendingThreadClones = new Map<number, number>();
  private firstTime?: number;
  private rootPid?: number;
  /** strace's own summary (with -C), to check counts against. */
  readonly straceSummary = new Map<string, number>();
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

  private argNames?: Set<string>;
  /** Whether events for this syscall must carry their argument text (the fast scanner skips the rest). */
  readonly wantsArgs = (name: string): boolean => {
    this.argNames ??= new Set([...Object.keys(INTERESTING_ARGS), ...this.textNames()]);
    return this.argNames.has(name);
  };

  /**
   * Which events' times the builder uses: all of them for a delay: phase; otherwise only those that can
   * start the work phase (its time becomes workStartedAt).
   */
  timeNeeds(): { allTimes: boolean; timeNames: string[] } {
    if (this.phase.kind === "delay") return { allTimes: true, timeNames: [] };
    if (this.phase.kind === "marker") return { allTimes: false, timeNames: [...WRITES] };
    if (this.phase.kind === "first") {
      const p = this.phase.syscall;
      const names = p.endsWith("*") ? namesWithPrefix(p.slice(0, -1)) : [p];
      return { allTimes: false, timeNames: names };
    }
    return { allTimes: false, timeNames: [] };
  }

  /** Syscalls whose whole argument text is read (forks, paths, execve, marker writes); others need at most argRaw. */
  textNames(): string[] {
    return [...Object.keys(PATH_ARG), ...FORKS, ...EXECS, ...(this.phase.kind === "marker" ? WRITES : [])];
  }

  /**
   * Calls a scanner may fold into tallies (addTally) are all but these: the ones whose single event changes
   * the builder's state (forks, execve, what starts the work phase). Null when no call may be folded (a
   * delay: phase reads every line's time).
   */
  specialNames(): string[] | null {
    if (this.phase.kind === "delay") return null;
    return [...FORKS, ...EXECS, ...this.timeNeeds().timeNames];
  }

  /**
   * Feeds `n` calls of one thread with the same name, argument values (argRaw, as in a call event) and
   * path argument, made between two events that change the builder's state, with how many of them failed
   * and how many never returned. Equivalent to adding the calls one by one (n may be 0: only completions).
   */
  addTally(
    pid: number,
    name: string,
    n: number,
    errors: number,
    noReturn: number,
    argRaw: (string | undefined)[] | undefined,
    pathRaw: string | undefined,
  ): void {
    const t = this.threads.get(pid) ?? this.thread(pid);
    this.calls += n;
    const g = t.group;
    if (!this.isCounted(g)) return;
    if (noReturn > 0) this.noReturn.set(name, (this.noReturn.get(name) ?? 0) + noReturn);
    if (n > 0) {
      const c = counterOf(t, name);
      const work = g.work;
      if (work) c.work += n;
      else c.setup += n;
      const info = this.nameInfo(name);
      const idx = info.interesting;
      if (idx && argRaw) {
        for (let k = 0; k < idx.length; k++) {
          const raw = argRaw[k];
          if (raw !== undefined) countArg(c, idx[k], cachedArgValue(raw), work, n);
        }
      }
      if (info.path) this.countPath(pathOf(name, pathRaw), n);
    }
    const c = t.counts.get(name);
    if (errors > 0 && c) c.errors += errors;
  }

  /** A call already counted (in a tally) that is still unfinished: its resumed line comes later. */
  setPending(pid: number, name: string): void {
    const t = this.threads.get(pid) ?? this.thread(pid);
    t.pending = { kind: "call", pid, name, argText: "", unfinished: true };
  }

  private readonly images = new Map<string, Group>();

  /**
   * Counts an engine aggregated in the kernel (bpf): n calls of `name` (errors of them failed) by thread
   * tid of process pid's image-th program image (0: before its first exec), with the argument values that
   * matter (`values`, by argument index), in the work phase or not.
   */
  addAggregated(a: {
    pid: number;
    image: number;
    exe: string;
    parent?: number;
    tid: number;
    name: string;
    values: ReadonlyMap<number, bigint>;
    n: number;
    errors: number;
    work: boolean;
  }): void {
    const key = `${a.pid}:${a.image}`;
    let g = this.images.get(key);
    if (!g) {
      g = { pid: a.pid, exe: a.exe, parent: a.parent, work: a.work, threads: new Map() };
      this.images.set(key, g);
      this.finished.push(g);
      this.rootPid ??= a.pid;
    }
    if (a.work) g.work = true;
    let t = g.threads.get(a.tid);
    if (!t) {
      t = { tid: a.tid, group: g, counts: new Map() };
      g.threads.set(a.tid, t);
    }
    this.calls += a.n;
    if (!this.isCounted(g)) return;
    const c = counterOf(t, a.name);
    if (a.work) c.work += a.n;
    else c.setup += a.n;
    c.errors += a.errors;
    for (const [i, v] of a.values) countArg(c, i, v.toString(), a.work, a.n);
  }

  /** How an aggregated process image ended (its leader's exit): a status, or the signal that killed it. */
  setImageExit(pid: number, image: number, status?: number, signal?: string): void {
    const g = this.images.get(`${pid}:${image}`);
    if (!g) return;
    g.exitStatus = status;
    g.killedBy = signal;
  }

  /** n deliveries of a signal to a recorded thread, counted elsewhere (bpf). */
  addSignal(signal: string, n: number): void {
    this.signals.set(signal, (this.signals.get(signal) ?? 0) + n);
  }

  /** n uses of a path seen some other way than a call's argument text (an exec's file name). */
  addPath(path: string, n = 1): void {
    this.countPath(path, n);
  }

  /**
   * Declares a process that was already running when an attached recording began (record --pid): its
   * exe and threads are known from /proc, and every call it makes is work (its start-up is over).
   */
  attach(pid: number, exe: string, tids: readonly number[], parent?: number): void {
    this.rootPid ??= pid;
    const group: Group = { pid, exe, parent, work: true, threads: new Map() };
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
  adoptThread(tid: number, leader: number): void {
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
    this.rootPid ??= tid;
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
      };
      if (group.work) group.workStartedAt = parent?.group.workStartedAt;
    }
    t = { tid, group, counts: new Map() };
    group.threads.set(tid, t);
    this.threads.set(tid, t);
    return t;
  }
  private lastForker?: Thread;

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

  /** Feeds one event. */
  add(e: TraceEvent): void {
    if (e.kind === "summary") {
      this.straceSummary.set(e.name, (this.straceSummary.get(e.name) ?? 0) + e.calls);
      return;
    }
    if (e.time !== undefined) this.firstTime ??= e.time;
    const t = this.threads.get(e.pid) ?? this.thread(e.pid);
    if (e.kind === "signal") {
      this.signals.set(e.signal, (this.signals.get(e.signal) ?? 0) + 1);
      return;
    }
    if (e.kind === "exit") {
      t.group.exitStatus = e.status;
      t.group.killedBy = e.signal;
      return;
    }
    if (
      this.phase.kind === "delay" &&
      e.time !== undefined &&
      this.firstTime !== undefined &&
      e.time - this.firstTime >= this.phase.seconds
    ) {
      this.enterWork(t.group, e.time, true);
    }
    if (e.kind === "resume") {
      const p = t.pending;
      t.pending = undefined;
      if (p && p.name === e.name) {
        // complete the pending event in place; only execve needs the joined argument text
        p.ret = e.ret;
        p.errno = e.errno;
        p.unfinished = false;
        if (e.argText && (p.name === "execve" || p.name === "execveat"))
          p.argText = joinResumed(p.argText, e.argText);
        this.complete(t, p);
      }
      return;
    }
    this.calls++;
    this.count(t, e);
    if (e.unfinished) t.pending = e;
    else this.complete(t, e);
  }

  /** What the builder needs to know about a syscall name, looked up once per name. */
  private nameInfo(name: string): NameInfo {
    let info = this.names.get(name);
    if (!info) {
      info = {
        fork: FORKS.includes(name),
        interesting: INTERESTING_ARGS[name],
        path: PATH_ARG[name] !== undefined,
        write: WRITES.has(name),
        first: this.phase.kind === "first" && matchesName(this.phase.syscall, name),
      };
      this.names.set(name, info);
    }
    return info;
  }
  private readonly names = new Map<string, NameInfo>();

  private count(t: Thread, e: CallEvent): void {
    const info = this.nameInfo(e.name);
    let args: string[] | undefined;
    if (info.fork) {
      this.lastForker = t;
      args = argsOf(e);
      if (isThreadClone(args[0] ?? ""))
        this.pendingThreadClones.set(t.tid, (this.pendingThreadClones.get(t.tid) ?? 0) + 1);
    }
    const g = t.group;
    const wasWork = g.work;
    // The phase switches after the matching call, in every process (focus decides only what is counted).
    if (!wasWork && info.first) this.enterWork(g, e.time ?? this.clock?.());
    if (!wasWork && info.write && this.phase.kind === "marker" && e.argText.includes(this.phase.text))
      this.enterWork(g, e.time ?? this.clock?.());
    if (!this.isCounted(g)) return;
    const c = counterOf(t, e.name);
    if (wasWork) c.work++;
    else c.setup++;
    const idx = info.interesting;
    if (idx) {
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k];
        const raw = args ? args[i] : e.argRaw ? e.argRaw[k] : nthArg(e.argText, i);
        if (raw === undefined) continue;
        const v = e.name === "clone3" ? clone3Flags(raw) : cachedArgValue(raw);
        if (v !== undefined) countArg(c, i, v, wasWork, 1);
      }
    }
    if (info.path)
      this.countPath(pathOf(e.name, args ? args[PATH_ARG[e.name]] : nthArg(e.argText, PATH_ARG[e.name])), 1);
  }

  /** n more uses of a path (the first MAX_PATHS distinct ones are kept). */
  private countPath(path: string | undefined, n: number): void {
    if (path && (this.paths.has(path) || this.paths.size < MAX_PATHS))
      this.paths.set(path, (this.paths.get(path) ?? 0) + n);
  }

  private complete(t: Thread, e: CallEvent): void {
    if (e.ret === "?" && this.isCounted(t.group))
      this.noReturn.set(e.name, (this.noReturn.get(e.name) ?? 0) + 1);
    if (!this.isCounted(t.group) && e.name !== "execve" && e.name !== "execveat") return;
    if (e.ret === "-1" && e.errno) {
      const c = t.counts.get(e.name);
      if (c) c.errors++;
    }
    if ((e.name === "execve" || e.name === "execveat") && e.ret === "0") {
      // A new process image: the old one (with this thread's calls so far, execve included) is finished;
      // execve ended its other threads, and this thread goes on as the new image's leader.
      const old = t.group;
      this.finished.push(old);
      const exe = unquote(argsOf(e)[e.name === "execve" ? 0 : 1]) ?? old.exe;
      const fresh: Group = {
        pid: old.pid,
        exe,
        parent: old.parent,
        work: old.work,
        workStartedAt: old.workStartedAt,
        threads: new Map(),
      };
      const moved: Thread = { tid: t.tid, group: fresh, counts: new Map() };
      fresh.threads.set(t.tid, moved);
      this.threads.set(t.tid, moved);
    }
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
    const all = new Set<Thread>(this.threads.values());
    for (const g of this.finished) for (const t of g.threads.values()) all.add(t);
    for (const t of all) if (t.pending) out.set(t.pending.name, (out.get(t.pending.name) ?? 0) + 1);
    return out;
  }

  /** Distinct syscalls seen so far. */
  distinct(): number {
    const names = new Set<string>();
    for (const t of this.threads.values()) for (const n of t.counts.keys()) names.add(n);
    return names.size;
  }

  /** Processes (thread groups) seen so far. */
  processCount(): number {
    return new Set([...this.threads.values()].map((t) => t.group)).size + this.finished.length;
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
    const totals: Record<string, SyscallCounts> = dict();
    for (const g of groups) {
      const threads = [...g.threads.values()]
        .filter((t) => t.counts.size > 0)
        .map((t) => ({
          tid: t.tid,
          syscalls: Object.fromEntries(
            [...t.counts.entries()].sort(([a], [b]) => byName(a, b)).map(([n, c]) => [n, toCounts(c)]),
          ),
        }));
      if (threads.length === 0) continue;
      for (const t of threads) {
        for (const [name, c] of Object.entries(t.syscalls)) {
          totals[name] ??= { setup: 0, work: 0, errors: 0 };
          addCounts(totals[name], c);
        }
      }
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
      syscalls: Object.fromEntries(Object.entries(totals).sort(([a], [b]) => byName(a, b))),
      processes,
      paths: Object.fromEntries([...this.paths.entries()].sort((a, b) => b[1] - a[1])),
      signals: Object.fromEntries(this.signals),
    };
  }
}

/**
 * clone3's flags OR its exit signal, from the struct strace prints ({flags=…, exit_signal=…, …}): the
 * value clone(2) takes for the same request, which libc uses when clone3 answers ENOSYS.
 */
export function clone3Flags(text: string): string | undefined {
  const flags = /flags=([^,}]+)/.exec(text)?.[1]?.trim();
  if (flags === undefined) return undefined;
  const sig = /exit_signal=([^,}]+)/.exec(text)?.[1]?.trim();
  const num = (t: string) => (/^(0x[0-9a-f]+|\d+)$/i.test(t) ? BigInt(t) : undefined);
  const f = num(flags);
  const s = sig === undefined ? 0n : num(sig);
  if (f !== undefined && s !== undefined) return (f | s).toString();
  // symbolic (an imported log): keep the text, the generator evaluates it
  return sig && sig !== "0" ? `${flags}|${sig}` : flags;
}

/** Every known syscall name starting with a prefix ("accept" → accept, accept4). */
function namesWithPrefix(prefix: string): string[] {
  return allSyscallNames().filter((n) => n.startsWith(prefix));
}

function matchesName(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function isThreadClone(text: string): boolean {
  if (text.includes("CLONE_THREAD")) return true;
  const m = /(?:flags=)?(0x[0-9a-f]+|\d+)/i.exec(text);
  return !!m && (BigInt(m[1]) & CLONE_THREAD) !== 0n;
}

const pathCache = new Map<string, string | undefined>();
/** The path or socket address in an argument's text, remembered (a server connects to the same few). */
function pathOf(name: string, a: string | undefined): string | undefined {
  if (!a) return undefined;
  if (pathCache.has(a)) return pathCache.get(a);
  const p = pathArg(name, a);
  if (pathCache.size < 50000) pathCache.set(a, p);
  return p;
}

function pathArg(_name: string, a: string): string | undefined {
  const m = /sun_path=(@?)"([^"]*)"/.exec(a);
  if (m) return `unix:${m[1]}${m[2]}`;
  // {sa_family=AF_INET, sin_port=htons(11211), sin_addr=inet_addr("127.0.0.1")}; AF_INET6: inet_pton(AF_INET6, "::1", …)
  const port = /sin6?_port=htons\((\d+)\)/.exec(a);
  if (port) {
    const v4 = /inet_addr\("([^"]*)"\)/.exec(a);
    if (v4) return `inet:${v4[1]}:${port[1]}`;
    const v6 = /inet_pton\(AF_INET6, "([^"]*)"/.exec(a);
    if (v6) return `inet6:[${v6[1]}]:${port[1]}`;
  }
  // strace -X raw: sin_port="\x00\x50", sin_addr="\x7f\x00\x00\x01" (network byte order)
  const rawPort = /sin6?_port="((?:\\x[0-9a-f]{2}){2})"/i.exec(a);
  if (rawPort) {
    const p = hexBytes(rawPort[1]);
    const portNum = (p[0] << 8) | p[1];
    const v4 = /sin_addr="((?:\\x[0-9a-f]{2}){4})"/i.exec(a);
    if (v4) return `inet:${hexBytes(v4[1]).join(".")}:${portNum}`;
    const v6 = /sin6_addr="((?:\\x[0-9a-f]{2}){16})"/i.exec(a);
    if (v6) {
      const b = hexBytes(v6[1]);
      const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
      return `inet6:[${groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}]:${portNum}`;
    }
  }
  return unquote(a);
}

function hexBytes(text: string): number[] {
  return text
    .split("\\x")
    .filter(Boolean)
    .map((h) => Number.parseInt(h, 16));
}

function unquote(a: string | undefined): string | undefined {
  if (!a?.startsWith('"')) return undefined;
  const end = a.lastIndexOf('"');
  return a.slice(1, end > 0 ? end : undefined).replace(/\\(["\\])/g, "$1");
}
