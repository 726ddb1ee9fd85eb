// The strace adapter: strace's text in, the decoded event model (events.ts) out. Lines are scanned in
// place (scan.ts); argument values, paths and file names are cut from the bytes and decoded once per
// distinct text (decode.ts). Ordinary calls are folded into tallies: how many calls one thread made with
// the same name and values (and how often it named each path) since the last event that changes the
// builder's state (a fork, an exec, a phase trigger, a thread's first line in the slice) — those are
// events of their own, in order.
// One adapter per scanning thread; a slice is a piece of the log (a file slice, a chunk of a live stream).
import type { EventNeeds } from "../../builder.js";
import { Ev, EventBatch, Result, StringTable } from "../../events.js";
import { MAX_VALUES, VALUES_OMITTED } from "../../profile.js";
import { decodeValue, fdPath, makesThread, stringsIn, unquote } from "./decode.js";
import { type Info, SyscallInfos } from "./infos.js";
import { parseLine, type TraceEvent } from "./parse.js";
import { PathReader } from "./path-reader.js";
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
import type { SliceResult, ThreadState } from "./slice-result.js";
import { CALLS, DONE, PATH, Tallies } from "./tallies.js";

export { MAX_UNKNOWN_NAMES } from "./infos.js";
export type { SliceResult } from "./slice-result.js";

export class StraceAdapter {
  private readonly line = new LineScanner();
  private readonly strings = new StringTable();
  private readonly values = new Interner(MAX_VALUES);
  private readonly out = new EventBatch(1 << 12);
  private readonly threads = new Map<number, ThreadState>();
  /** The calls folded since the last event of its own. */
  private readonly tallies = new Tallies();
  /** Threads whose unfinished call was folded into a tally: a pending event at the slice's end if still open. */
  private readonly waiting: ThreadState[] = [];
  private lines = 0;
  private good = 0;
  private bad = 0;
  private firstBad?: SliceResult["firstBad"];
  private summary: SliceResult["summary"] = [];
  private readonly ids = new Int32Array(3);

  /** The facts of each syscall name. */
  private readonly infos: SyscallInfos;
  /** The paths of a call (their string ids and access bits), and the uses left out past MAX_PATHS. */
  private readonly pathReader: PathReader;

  constructor(needs: EventNeeds) {
    this.infos = new SyscallInfos(needs, this.strings);
    this.pathReader = new PathReader(this.line, this.strings);
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
        const info = this.infos.of(line.name);
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
      pathsOmitted: this.pathReader.omitted,
    };
    this.lines = this.good = this.bad = this.pathReader.omitted = 0;
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
    this.argumentsInto(i, info, buf, line.argStart, line.argEnd, errno?.text);
  }

  /**
   * What row i's call passes, read from its argument bytes buf[from, to): the values worth filtering,
   * the path it names, an exec's file name or a marker write's strings.
   */
  private argumentsInto(
    i: number,
    info: Info,
    buf: Buffer,
    from: number,
    to: number,
    errno: string | undefined,
  ): void {
    const line = this.line;
    const c = this.out.columns;
    if (info.interesting !== undefined) {
      const decodedClone = info.clone && bytesAt(buf, from, CHILD_STACK);
      this.valueIds(buf, from, to, decodedClone ? CLONE_FLAGS_PRINTED : info.interesting);
      c.v0[i] = this.ids[0];
      c.v1[i] = this.ids[1];
      c.v2[i] = this.ids[2];
      if (info.cloneFlags && this.ids[0] >= 0) c.aux[i] = makesThread(this.strings.list[this.ids[0]]) ? 1 : 0;
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
    const n = this.pathReader.uses(buf, from, to, info.paths, errno);
    if (n === 0) return;
    c.path[i] = this.pathReader.ids[0];
    c.access[i] = this.pathReader.bits[0];
    // a call's second path (rename's new name): a paths row of its own after the call (last: pushing a
    // row may replace the columns)
    for (let k = 1; k < n; k++) {
      const j = this.out.push(Ev.paths, c.tid[i], -1);
      this.out.columns.path[j] = this.pathReader.ids[k];
      this.out.columns.access[j] = this.pathReader.bits[k];
    }
  }

  /** A line the fast path leaves to the general parser: a signal, an exit, another clock, a summary, nonsense. */
  private slowLine(text: string): void {
    const ev = parseLine(text);
    if (ev === undefined) return;
    if (
      ev === null ||
      ((ev.kind === "call" || ev.kind === "resume") && this.infos.of(this.interned(ev.name)).bogus)
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
    const info = this.infos.of(this.interned(ev.name));
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
    this.argumentsInto(i, info, args, 0, args.length, ev.errno);
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
      const line = this.line;
      const n = this.pathReader.uses(buf, line.argStart, line.argEnd, info.paths, line.errno?.text);
      for (let k = 0; k < n; k++) {
        // (the entry first: making it may replace the columns)
        const p = this.tallies.entry(PATH, st.tid, this.pathReader.ids[k], this.pathReader.bits[k], -1, -1);
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

  private nameId(x: Interned): number {
    if (x.id < 0) x.id = this.strings.id(x.text);
    return x.id;
  }
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
