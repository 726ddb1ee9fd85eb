// The strace adapter: strace's text in, the decoded event model (events.ts) out. Lines are scanned in
// place (scan.ts); argument values, paths and file names are cut from the bytes and decoded once per
// distinct text (decode.ts). Ordinary calls are folded into tallies: how many calls one thread made with
// the same name and values (and how often it named each path) since the last event that changes the
// builder's state (a fork, an exec, a phase trigger, a thread's first line in the slice) — those are
// events of their own, in order.
// One adapter per scanning thread; a slice is a piece of the log (a file slice, a chunk of a live stream).
import type { EventNeeds } from "../../builder.js";
import { Ev, EventBatch, type EventColumns, Result, StringTable } from "../../events.js";
import { Access, normalPath, openAccess, PATH_USES, type PathUse, resolvePath } from "../../path-access.js";
import { INTERESTING_ARGS, MAX_PATHS, MAX_VALUES, VALUES_OMITTED } from "../../profile.js";
import { decodePath, decodeValue, fdPath, isCwdFd, stringsIn, unquote } from "./decode.js";
import { parseLine, type TraceEvent } from "./parse.js";
import {
  bytesAt,
  type Interned,
  Interner,
  LineScanner,
  RET_ERROR,
  RET_NEVER,
  RET_UNKNOWN,
  SCAN_RESUME,
  SCAN_SLOW,
  SCAN_UNFINISHED,
  utf8,
} from "./scan.js";
import { CALLS, DONE, PATH, Tallies } from "./tallies.js";

/**
 * Distinct names a log may use that no architecture's table has (a newer strace's new syscalls); past it,
 * lines naming others are not strace output: a file of a million invented names would otherwise make a
 * profile of a million syscalls.
 */
export const MAX_UNKNOWN_NAMES = 64;
/** strace's own name for a syscall it has no name for. */
const NUMBERED = /^syscall_(0x[0-9a-f]+|\d+)$/;

/** What one slice gave: its events, the strings they brought, and what the lines were. */
export interface SliceResult {
  slice: number;
  events: EventColumns;
  /** Strings first used in this slice, in id order (the adapter's table continues across slices). */
  strings: string[];
  lines: number;
  /** Lines that were strace output (notices and rulers are neither good nor bad). */
  good: number;
  bad: number;
  /** The slice's first line that is not strace output: its number in the slice (1-based), its text, and the good lines before it. */
  firstBad?: { line: number; text: string; goodBefore: number };
  /** strace's own -c/-C summary rows (to check counts against). */
  summary: { name: string; calls: number }[];
  /** Uses of paths past MAX_PATHS distinct ones, left out. */
  pathsOmitted: number;
}

/** What the adapter knows about a syscall, looked up once per name (kept on its interned name). */
interface Info {
  /** The name's string id. */
  id: number;
  interesting?: number[];
  time: boolean;
  separate: boolean;
  /** The path arguments and how they are used (path-access.ts). */
  paths?: PathUse[];
  /** fchdir: its fd's path (strace -y) is the directory it goes to. */
  fchdir: boolean;
  /** The argument that holds an exec's file name (-1: not an exec). */
  execArg: number;
  /** Its string arguments are read (marker writes). */
  strings: boolean;
  /** clone: strace prints it decoded as (child_stack=…, flags=…, …), not in the kernel's order. */
  clone: boolean;
  /** Not a syscall name: one more unknown name than a log may bring (its lines are not strace output). */
  bogus: boolean;
}

/** A thread as this adapter knows it: the slice it was last met in, its folded unfinished call. */
interface ThreadState {
  tid: number;
  slice: number;
  /** The name id of its unfinished call counted in a tally (-1: none). */
  pending: number;
}

export class StraceAdapter {
  private readonly line = new LineScanner();
  private readonly strings = new StringTable();
  private readonly values = new Interner(MAX_VALUES);
  private readonly paths = new Interner(MAX_PATHS);
  /** Open flags texts, with their access bits (info). */
  private readonly flagTexts = new Interner(4096);
  /** pathUses' answer: string ids and access bits of the call's paths. */
  private readonly pathIds = new Int32Array(2);
  private readonly pathBits = new Int32Array(2);
  private readonly out = new EventBatch(1 << 12);
  private readonly threads = new Map<number, ThreadState>();
  /** The calls folded since the last event of its own. */
  private readonly tallies = new Tallies();
  /** Threads whose unfinished call was folded into a tally: a pending event at the slice's end if still open. */
  private readonly waiting: ThreadState[] = [];
  private readonly infos = new Map<string, Info>();
  private readonly separate: Set<string>;
  private readonly timeNames: Set<string>;
  private readonly stringNames: Set<string>;
  private readonly fold: boolean;
  private lines = 0;
  private good = 0;
  private bad = 0;
  private firstBad?: SliceResult["firstBad"];
  private summary: SliceResult["summary"] = [];
  private pathsOmitted = 0;
  private readonly ids = new Int32Array(3);

  private readonly known: Set<string>;
  private unknownNames = 0;

  constructor(private readonly needs: EventNeeds) {
    this.known = new Set(needs.known);
    this.fold = needs.separate !== null;
    this.separate = new Set(needs.separate ?? []);
    this.timeNames = new Set(needs.timeNames);
    this.stringNames = new Set(needs.strings);
  }

  /**
   * Scans the lines in buf[pos, end) of a slice (firstLine: the slice's first line is among them). A
   * thread's first line in the slice is an event of its own (the builder may not know the thread yet),
   * as is every call that changes the builder's state; other calls are folded into tallies.
   */
  scan(buf: Buffer, pos: number, end: number, slice: number, firstLine: boolean): void {
    const line = this.line;
    while (pos < end) {
      let e = buf.indexOf(10, pos);
      if (e < 0 || e > end) e = end;
      this.lines++;
      const kind = line.scan(buf, pos, e);
      if (kind !== SCAN_SLOW) {
        const info = this.infoOf(line.name);
        if (info.bogus) {
          this.badLine(buf.toString("utf8", pos, e));
          pos = e + 1;
          continue;
        }
        this.good++;
        const tid = line.pid;
        let st = this.threads.get(tid);
        if (st === undefined) {
          st = { tid, slice: -1, pending: -1 };
          this.threads.set(tid, st);
        }
        let fold = !info.separate && !firstLine && st.slice === slice;
        if (st.slice !== slice) {
          st.slice = slice;
          st.pending = -1;
        }
        firstLine = false;
        if (kind === SCAN_RESUME) {
          if (fold && st.pending >= 0) {
            const p = st.pending;
            st.pending = -1;
            const t = this.tallies.entry(DONE, tid, info.id, -1, -1, -1);
            if (p === info.id) this.countEnd(t);
            pos = e + 1;
            continue;
          }
          fold = false;
        } else if (fold) {
          this.foldCall(buf, st, info, kind);
          pos = e + 1;
          continue;
        }
        this.flush();
        this.releasePending(st);
        this.callEvent(buf, info, kind);
      } else {
        this.flush();
        this.slowLine(buf.toString("utf8", pos, e));
      }
      pos = e + 1;
    }
  }

  /** The slice's result: tallies flushed, folded unfinished calls marked pending; counters reset. */
  endSlice(slice: number): SliceResult {
    this.flush();
    for (const st of this.waiting) {
      if (st.pending < 0) continue;
      this.out.push(Ev.pending, st.tid, st.pending);
      st.pending = -1;
    }
    this.waiting.length = 0;
    const r: SliceResult = {
      slice,
      events: this.out.take(),
      strings: this.strings.fresh(),
      lines: this.lines,
      good: this.good,
      bad: this.bad,
      firstBad: this.firstBad,
      summary: this.summary,
      pathsOmitted: this.pathsOmitted,
    };
    this.lines = this.good = this.bad = this.pathsOmitted = 0;
    this.firstBad = undefined;
    this.summary = [];
    return r;
  }

  /** A call, unfinished call or resumed call as an event of its own. */
  private callEvent(buf: Buffer, info: Info, kind: number): void {
    const line = this.line;
    const i = this.out.push(
      kind === SCAN_RESUME ? Ev.resume : kind === SCAN_UNFINISHED ? Ev.unfinished : Ev.call,
      line.pid,
      info.id,
    );
    this.out.columns.result[i] = resultOf(line.ret);
    const errno = line.errno;
    if (errno) this.out.columns.errno[i] = this.nameId(errno);
    if (info.time || i === 0) this.out.columns.time[i] = line.time();
    if (kind === SCAN_RESUME) return;
    this.argumentsInto(i, info, buf, line.argStart, line.argEnd);
  }

  /**
   * What row i's call passes, read from its argument bytes buf[from, to): the values worth filtering,
   * the path it names, an exec's file name or a marker write's strings.
   */
  private argumentsInto(i: number, info: Info, buf: Buffer, from: number, to: number): void {
    const line = this.line;
    const c = this.out.columns;
    if (info.interesting !== undefined) {
      const decodedClone = info.clone && bytesAt(buf, from, CHILD_STACK);
      this.valueIds(buf, from, to, decodedClone ? CLONE_FLAGS_PRINTED : info.interesting);
      c.v0[i] = this.ids[0];
      c.v1[i] = this.ids[1];
      c.v2[i] = this.ids[2];
    }
    if (info.execArg >= 0 && line.nthArgIn(buf, from, to, info.execArg)) {
      const file = unquote(utf8(buf, line.spanStart, line.spanEnd));
      if (file !== undefined) c.text[i] = this.strings.id(file);
    } else if (info.strings && to > from) c.text[i] = this.strings.id(stringsIn(utf8(buf, from, to)));
    else if (info.fchdir && line.nthArgIn(buf, from, to, 0)) {
      const dir = fdPath(utf8(buf, line.spanStart, line.spanEnd));
      if (dir !== undefined) c.text[i] = this.strings.id(dir);
    }
    if (info.paths === undefined) return;
    const n = this.pathUses(buf, from, to, info.paths);
    if (n === 0) return;
    c.path[i] = this.pathIds[0];
    c.access[i] = this.pathBits[0];
    // a call's second path (rename's new name): a paths row of its own after the call (last: pushing a
    // row may replace the columns)
    for (let k = 1; k < n; k++) {
      const j = this.out.push(Ev.paths, c.tid[i], -1);
      this.out.columns.path[j] = this.pathIds[k];
      this.out.columns.access[j] = this.pathBits[k];
    }
  }

  /** A line the fast path leaves to the general parser: a signal, an exit, another clock, a summary, nonsense. */
  private slowLine(text: string): void {
    const ev = parseLine(text);
    if (ev === undefined) return;
    if (
      ev === null ||
      ((ev.kind === "call" || ev.kind === "resume") && this.infoOf(this.interned(ev.name)).bogus)
    ) {
      this.badLine(text);
      return;
    }
    this.good++;
    this.slowEvent(ev);
  }

  /**
   * The thread's folded unfinished call as a pending event now, before an event of its own: a log where a
   * thread goes on without resuming it (damaged, or forged) is then read as if nothing were folded.
   */
  private releasePending(st: ThreadState): void {
    if (st.pending < 0) return;
    this.out.push(Ev.pending, st.tid, st.pending);
    st.pending = -1;
  }

  /** A line that is not strace output (the current one). */
  private badLine(text: string): void {
    this.bad++;
    this.firstBad ??= { line: this.lines, text, goodBefore: this.good };
  }

  private interned(name: string): Interned {
    const b = Buffer.from(name);
    return this.line.names.of(b, 0, b.length);
  }

  private slowEvent(ev: TraceEvent): void {
    if (ev.kind !== "summary") {
      const st = this.threads.get(ev.pid);
      if (st) this.releasePending(st);
    }
    const time = (i: number, t: number | undefined) => {
      if (t !== undefined) this.out.columns.time[i] = t;
    };
    if (ev.kind === "summary") {
      this.summary.push({ name: ev.name, calls: ev.calls });
      return;
    }
    if (ev.kind === "signal") {
      const i = this.out.push(Ev.signal, ev.pid, -1);
      this.out.columns.text[i] = this.strings.id(ev.signal);
      time(i, ev.time);
      return;
    }
    if (ev.kind === "superseded") {
      // the exec'ing thread goes on under the leader's tid: its own is gone
      const by = this.threads.get(ev.by);
      if (by) this.releasePending(by);
      this.threads.delete(ev.by);
      const i = this.out.push(Ev.superseded, ev.pid, -1);
      this.out.columns.n[i] = ev.by;
      time(i, ev.time);
      return;
    }
    if (ev.kind === "exit") {
      // the thread is gone (its pid may come back as another): what this adapter knew of it is dropped
      this.threads.delete(ev.pid);
      const i = this.out.push(Ev.exit, ev.pid, -1);
      this.out.columns.n[i] = ev.status ?? -1;
      if (ev.signal) this.out.columns.text[i] = this.strings.id(ev.signal);
      time(i, ev.time);
      return;
    }
    const info = this.infoOf(this.interned(ev.name));
    const kind = ev.kind === "resume" ? Ev.resume : ev.unfinished ? Ev.unfinished : Ev.call;
    const i = this.out.push(kind, ev.pid, info.id);
    time(i, ev.time);
    this.out.columns.result[i] =
      ev.ret === undefined
        ? Result.none
        : ev.ret === "?"
          ? Result.noReturn
          : ev.ret === "-1" && ev.errno
            ? Result.failed
            : Result.ok;
    if (ev.errno) this.out.columns.errno[i] = this.strings.id(ev.errno);
    if (ev.kind === "resume") return;
    const args = Buffer.from(ev.argText);
    this.argumentsInto(i, info, args, 0, args.length);
  }

  /** Sends the tallies so far as events, before an event that may change the builder's state. */
  private flush(): void {
    const t = this.tallies;
    for (let e = 0; e < t.count; e++) {
      if (t.kind[e] === PATH) {
        const i = this.out.push(Ev.paths, t.tid[e], -1);
        this.out.columns.path[i] = t.name[e];
        this.out.columns.access[i] = t.v0[e];
        this.out.columns.n[i] = t.calls[e];
        continue;
      }
      const i = this.out.push(Ev.tally, t.tid[e], t.name[e]);
      this.out.columns.n[i] = t.calls[e];
      this.out.columns.errors[i] = t.errors[e];
      this.out.columns.noReturn[i] = t.noReturn[e];
      this.out.columns.v0[i] = t.v0[e];
      this.out.columns.v1[i] = t.v1[e];
      this.out.columns.v2[i] = t.v2[e];
    }
    t.clear();
  }

  /** Counts a call line into its thread's tally: values and path cut from the bytes. */
  private foldCall(buf: Buffer, st: ThreadState, info: Info, kind: number): void {
    let v0 = -1;
    let v1 = -1;
    let v2 = -1;
    if (info.interesting !== undefined) {
      this.valueIds(buf, this.line.argStart, this.line.argEnd, info.interesting);
      v0 = this.ids[0];
      v1 = this.ids[1];
      v2 = this.ids[2];
    }
    const t = this.tallies.entry(CALLS, st.tid, info.id, v0, v1, v2);
    this.tallies.calls[t]++;
    if (info.paths !== undefined) {
      // paths are counted apart, per (path, access): a tally per distinct path would be a row per call
      const n = this.pathUses(buf, this.line.argStart, this.line.argEnd, info.paths);
      for (let k = 0; k < n; k++) {
        // (the entry first: making it may replace the columns)
        const p = this.tallies.entry(PATH, st.tid, this.pathIds[k], this.pathBits[k], -1, -1);
        this.tallies.calls[p]++;
      }
    }
    if (kind === SCAN_UNFINISHED) {
      if (st.pending < 0) this.waiting.push(st);
      st.pending = info.id;
    } else this.countEnd(t);
  }

  /** The end of a call counted in tally entry t: never returned, or failed with an errno. */
  private countEnd(t: number): void {
    const ret = this.line.ret;
    if (ret === RET_NEVER) this.tallies.noReturn[t]++;
    else if (ret === RET_ERROR) this.tallies.errors[t]++;
  }

  /** The ids of the values of the arguments `idx` (at most three) in the argument bytes buf[from, to) (-1: none). */
  private valueIds(buf: Buffer, from: number, to: number, idx: number[]): void {
    const line = this.line;
    for (let k = 0; k < 3; k++)
      this.ids[k] =
        k < idx.length && line.nthArgIn(buf, from, to, idx[k])
          ? this.valueId(buf, line.spanStart, line.spanEnd)
          : -1;
  }

  /**
   * The string id of the decoded value buf[s, e) (-1: no value). Past MAX_VALUES distinct ones, a new
   * value is VALUES_OMITTED: a log of millions of distinct values keeps a scanner's memory bounded, and
   * the generator allows the call with any arguments (it cannot pin what it was not given).
   */
  private valueId(buf: Buffer, s: number, e: number): number {
    const x = this.values.kept(buf, s, e);
    if (x === undefined) return this.strings.id(VALUES_OMITTED);
    if (x.id === -1) {
      const v = decodeValue(x.text);
      x.id = v === undefined ? -2 : this.strings.id(v);
    }
    return x.id < 0 ? -1 : x.id;
  }

  /**
   * The paths a call with argument bytes buf[from, to) names, into pathIds and pathBits (string id, access
   * and Access.relative/unix bits); how many. A relative path of an *at call whose directory fd strace
   * decorated (-y: "3</tmp/d>", "-100</home/u>" for AT_FDCWD) is made absolute here; one relative to the
   * current directory is marked for the builder, which knows it; one relative to an fd strace did not
   * decorate is kept as written.
   */
  private pathUses(buf: Buffer, from: number, to: number, uses: PathUse[]): number {
    const line = this.line;
    let n = 0;
    for (let k = 0; k < uses.length && n < 2; k++) {
      const u = uses[k];
      if (!line.nthArgIn(buf, from, to, u.arg)) continue;
      const ps = line.spanStart;
      const pe = line.spanEnd;
      const x = this.paths.kept(buf, ps, pe);
      if (x === undefined) {
        this.pathsOmitted++;
        continue;
      }
      if (x.id === -1) {
        const p = decodePath(x.text);
        const rel = p === undefined ? 0 : relativeBits(x.text, p);
        // (an absolute file path with "." or ".." in it is read as the kernel would without symlinks)
        x.id =
          p === undefined || p === ""
            ? -2
            : this.strings.id(rel === 0 && x.text.startsWith('"') ? normalPath(p) : p);
        x.info = rel;
      }
      if (x.id < 0) continue;
      let id = x.id;
      let bits = u.access === 0 ? this.openBits(buf, from, to, u) : u.access;
      const rel = x.info as number;
      if (rel !== 0) {
        if (u.dirfd < 0) bits |= rel;
        else if (line.nthArgIn(buf, from, to, u.dirfd)) {
          const ds = line.spanStart;
          if (buf[line.spanEnd - 1] === 62 /* > */) {
            // the directory fd and the path, one key: "3</tmp/d>, \"x\""
            const y = this.paths.kept(buf, ds, pe);
            if (y === undefined) {
              this.pathsOmitted++;
              continue;
            }
            if (y.id === -1) {
              const dir = fdPath(utf8(buf, ds, line.spanEnd));
              const p = this.strings.list[id];
              y.id = dir === undefined ? id : this.strings.id(resolvePath(dir, p));
            }
            id = y.id;
          } else if (isCwdFd(utf8(buf, ds, line.spanEnd))) bits |= rel;
        }
      }
      this.pathIds[n] = id;
      this.pathBits[n] = bits;
      n++;
    }
    return n;
  }

  /** The access an open's flags argument (openat2: its struct) asks for. */
  private openBits(buf: Buffer, from: number, to: number, u: PathUse): number {
    const line = this.line;
    if (!line.nthArgIn(buf, from, to, u.flags)) return Access.read;
    const x = this.flagTexts.of(buf, line.spanStart, line.spanEnd);
    if (x.info === undefined) x.info = openAccess(x.text);
    return x.info as number;
  }

  private nameId(x: Interned): number {
    if (x.id < 0) x.id = this.strings.id(x.text);
    return x.id;
  }

  /** The facts of a syscall, kept on its interned name. */
  private infoOf(name: Interned): Info {
    let info = name.info as Info | undefined;
    if (info !== undefined) return info;
    const text = name.text;
    info = this.infos.get(text);
    if (!info) {
      if (!this.known.has(text) && !NUMBERED.test(text) && ++this.unknownNames > MAX_UNKNOWN_NAMES) {
        // one shared answer, nothing kept: its lines are not strace output
        if (name.kept) name.info = BOGUS;
        return BOGUS;
      }
      info = {
        id: this.strings.id(text),
        interesting: INTERESTING_ARGS[text],
        time: this.needs.allTimes || this.timeNames.has(text),
        separate: !this.fold || this.separate.has(text),
        paths: PATH_USES[text],
        fchdir: text === "fchdir",
        execArg: text === "execve" ? 0 : text === "execveat" ? 1 : -1,
        strings: this.stringNames.has(text),
        clone: text === "clone",
        bogus: false,
      };
      this.infos.set(text, info);
    }
    if (name.kept) name.info = info;
    return info;
  }
}

/** The facts of a name that is not a syscall's (past MAX_UNKNOWN_NAMES). */
const BOGUS: Info = {
  id: -1,
  time: false,
  separate: true,
  fchdir: false,
  execArg: -1,
  strings: false,
  clone: false,
  bogus: true,
};
/**
 * Whether a decoded path is relative, as Access bits: relative to the current directory (a file's path,
 * or a unix socket's: Access.unix too); 0 for an absolute path, an abstract socket, an inet address.
 */
function relativeBits(text: string, p: string): number {
  // a quoted string is a file's path; anything else a socket address
  if (text.startsWith('"')) return p.startsWith("/") ? 0 : Access.relative;
  if (!p.startsWith("unix:") || p.startsWith("unix:/") || p.startsWith("unix:@") || p === "unix:") return 0;
  return Access.relative | Access.unix;
}

/** Where a decoded clone's flags are (INTERESTING_ARGS has clone's flags as argument 0). */
const CLONE_FLAGS_PRINTED = [1];
/** How strace prints clone decoded, whatever the architecture's order: the flags are the second argument. */
const CHILD_STACK = Buffer.from("child_stack=");

/** The event model's result for a LineScanner's. */
function resultOf(ret: number): number {
  return ret === RET_UNKNOWN
    ? Result.none
    : ret === RET_NEVER
      ? Result.noReturn
      : ret === RET_ERROR
        ? Result.failed
        : Result.ok;
}
