// A scanner thread: reads slices of a strace log, scans every line (scan.ts) and sends compact records to
// the main thread, which feeds them to the ProfileBuilder in file order. Several run at once on one file.
import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { INTERESTING_ARGS, PATH_ARG } from "../../profile.js";
import {
  argSpan,
  cur,
  curTime,
  internId,
  lastArgs,
  lastArgText,
  nthArgBytes,
  SCAN_RESUME,
  SCAN_SLOW,
  SCAN_UNFINISHED,
  scanCore,
  slow,
} from "./scan.js";
import { encodeRet, K, type ScanBatch, type ScanJob, STRIDE } from "./scan-protocol.js";

const job = workerData as ScanJob;
const wantsText = new Set(job.textNames);
const pathNames = new Set(Object.keys(PATH_ARG));
const special = new Set(job.specialNames);
const timeNames = new Set(job.timeNames);
// only the calls whose whole text the builder reads are decoded (Info.text); argument values are cut from
// the bytes
const wantsArgs = () => curInfo().text;
const names = new Map<string, number>();
let newNames: string[] = [];
const idOf = (s: string) => {
  let id = names.get(s);
  if (id === undefined) {
    id = names.size;
    names.set(s, id);
    newNames.push(s);
  }
  return id;
};

function put(
  ints: Int32Array,
  o: number,
  kind: number,
  pid: number,
  name: number,
  ret: number,
  errno: number,
) {
  ints[o] = kind;
  ints[o + 1] = pid;
  ints[o + 2] = name;
  ints[o + 3] = ret;
  ints[o + 4] = errno;
  ints[o + 5] = -1;
  ints[o + 6] = -1;
  ints[o + 7] = -1;
}

/** Calls folded since the last line-record, by thread, name, argument values and path. */
interface Tally {
  pid: number;
  name: number;
  v0: number;
  v1: number;
  v2: number;
  path: number;
  calls: number;
  errors: number;
  noReturn: number;
  lines: number;
  /** The flush it belongs to: an older one has been sent. */
  gen: number;
}
/** Per thread, per syscall (by its index): its tallies of this flush (plain, by one argument value, by several). */
interface Slot {
  plain?: Tally;
  one?: Map<number, Tally>;
  many?: Map<string, Tally>;
  done?: Tally;
}
/** A thread as this scanner knows it: the slice it was last met in, its folded unfinished call. */
interface ThreadState {
  pid: number;
  slice: number;
  pending: number;
  slots: (Slot | undefined)[];
}
const threads = new Map<number, ThreadState>();
/** The tallies of this flush, in the order they were started (the builder applies them in that order). */
const order: Tally[] = [];
let gen = 0;
const fresh = (t: Tally | undefined): t is Tally => t !== undefined && t.gen === gen;
function newTally(pid: number, name: number, v0: number, v1: number, v2: number, path: number): Tally {
  const t = { pid, name, v0, v1, v2, path, calls: 0, errors: 0, noReturn: 0, lines: 0, gen };
  order.push(t);
  return t;
}
function slotOf(st: ThreadState, index: number): Slot {
  let slot = st.slots[index];
  if (slot === undefined) {
    while (st.slots.length < index) st.slots.push(undefined); // dense: no holes
    slot = { plain: undefined, one: undefined, many: undefined, done: undefined };
    st.slots[index] = slot;
  }
  return slot;
}
/** The tally for calls of a syscall by a thread with these argument value ids and path id (-1: none). */
function tallyFor(st: ThreadState, info: Info, v0: number, v1: number, v2: number, path: number): Tally {
  const slot = slotOf(st, info.index);
  const name = info.id;
  if (v1 < 0 && v2 < 0 && path < 0) {
    if (v0 < 0) {
      if (!fresh(slot.plain)) slot.plain = newTally(st.pid, name, -1, -1, -1, -1);
      return slot.plain;
    }
    slot.one ??= new Map();
    let t = slot.one.get(v0);
    if (!fresh(t)) {
      t = newTally(st.pid, name, v0, -1, -1, -1);
      slot.one.set(v0, t);
    }
    return t;
  }
  slot.many ??= new Map();
  const key = `${v0} ${v1} ${v2} ${path}`;
  let t = slot.many.get(key);
  if (!fresh(t)) {
    t = newTally(st.pid, name, v0, v1, v2, path);
    slot.many.set(key, t);
  }
  return t;
}
/** The tally for completions (resumed lines) of a syscall by a thread. */
function doneFor(st: ThreadState, info: Info): Tally {
  const slot = slotOf(st, info.index);
  const name = info.id;
  if (!fresh(slot.done)) slot.done = newTally(st.pid, name, -1, -1, -1, -1);
  return slot.done;
}

/**
 * What the scanner needs to know about a syscall, looked up once per name: its name id, a small index of its
 * own (tally slots), the arguments worth keeping, whether its time is used, whether it is always a record.
 */
type Info = {
  id: number;
  index: number;
  interesting?: number[];
  time: boolean;
  special: boolean;
  pathArg?: number;
  /** Whether scanCore decodes its argument text (a path call's is decoded later when it is sent as a record). */
  text: boolean;
};
const infos = new Map<string, Info>();
function infoOf(name: string): Info {
  let info = infos.get(name);
  if (!info) {
    info = {
      id: idOf(name),
      interesting: INTERESTING_ARGS[name],
      time: job.allTimes || timeNames.has(name),
      special: !job.tally || special.has(name),
      pathArg: PATH_ARG[name],
      text: wantsText.has(name) && (!job.tally || !pathNames.has(name) || special.has(name)),
      index: infos.size,
    };
    infos.set(name, info);
  }
  return info;
}
/** The facts of the syscall scanCore read last, kept on its interned name. */
function curInfo(): Info {
  let info = cur.entry.info as Info | undefined;
  if (info === undefined) {
    info = infoOf(cur.name);
    cur.entry.info = info;
  }
  return info;
}

/** The records of the slice being scanned: one buffer per thread, reused (external memory is collected late). */
class Records {
  ints = new Int32Array(1 << 17);
  times = new Float64Array((1 << 17) / STRIDE);
  count = 0;
  extraAt: number[] = [];
  extraVal: unknown[] = [];

  /** Starts a record of `kind`; returns its offset in ints. */
  open(kind: number, pid: number, name: number, ret: number, errno: number, time = Number.NaN): number {
    if (this.count === this.times.length) {
      const i2 = new Int32Array(this.ints.length * 2);
      i2.set(this.ints);
      this.ints = i2;
      const t2 = new Float64Array(this.times.length * 2);
      t2.set(this.times);
      this.times = t2;
    }
    const o = this.count * STRIDE;
    put(this.ints, o, kind, pid, name, ret, errno);
    this.times[this.count] = time;
    this.count++;
    return o;
  }

  /** A payload for the record opened last. */
  extra(value: unknown): void {
    this.extraAt.push(this.count - 1);
    this.extraVal.push(value);
  }

  /** Sends the tallies so far as records, before a line-record that may change the builder's state. */
  flush(): void {
    for (const t of order) {
      const o = this.open(K.tally, t.pid, t.name, t.calls, t.errors);
      const ints = this.ints;
      ints[o + 5] = t.v0;
      ints[o + 6] = t.v1;
      ints[o + 7] = t.v2;
      ints[o + 8] = t.path;
      ints[o + 9] = t.noReturn;
      ints[o + 10] = t.lines;
    }
    order.length = 0;
    gen++;
  }

  /** The batch of the slice, and a fresh start. */
  take(slice: number): ScanBatch {
    const batch: ScanBatch = {
      slice,
      names: newNames,
      ints: this.ints.slice(0, this.count * STRIDE),
      times: this.times.slice(0, this.count),
      extraAt: Int32Array.from(this.extraAt),
      extraVal: this.extraVal,
    };
    newNames = [];
    this.count = 0;
    this.extraAt = [];
    this.extraVal = [];
    return batch;
  }
}
const out = new Records();

let readBuf = Buffer.alloc(0);
let sliceStart = 0;
let sliceEnd = 0;
/**
 * Reads the bytes of the lines that start in [from, to) of the file: returns the buffer and sets
 * sliceStart/sliceEnd to their place in it (a line that starts before `from` is the previous slice's).
 */
function readSlice(fd: number, from: number, to: number): Buffer {
  const TAIL = 1 << 16;
  if (readBuf.length < to - from + TAIL + 1) readBuf = Buffer.allocUnsafe(to - from + TAIL + 1);
  let buf = readBuf;
  const start = from > 0 ? from - 1 : 0;
  let len = readSync(fd, buf, 0, buf.length, start);
  // extend until the last line that starts before `to` is complete; only the bytes read count (the reused
  // buffer holds an older slice's bytes after them)
  const after = Math.max(0, to - start - 1);
  let nl = buf.indexOf(10, after);
  if (nl >= len) nl = -1;
  while (nl < 0 && len === buf.length) {
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, len);
    len += readSync(fd, bigger, len, bigger.length - len, start + len);
    buf = bigger;
    readBuf = bigger;
    nl = buf.indexOf(10, after);
    if (nl >= len) nl = -1;
  }
  const end = nl >= 0 ? nl : len;
  // a last line without a newline: a newline after it, so no scan reads the previous slice's bytes there
  if (end < buf.length) buf[end] = 10;
  let pos = 0;
  if (from > 0) {
    // skip the rest of a line that started in the previous slice (buf[0] is the byte before `from`)
    const first = buf.indexOf(10, 0);
    pos = first < 0 || first >= end ? end : first + 1;
  }
  sliceStart = pos;
  sliceEnd = end;
  return buf;
}

/** Scans one slice into records and tallies. */
function scanSlice(fd: number, from: number, to: number, slice: number): ScanBatch {
  const buf = readSlice(fd, from, to);
  // in pieces of about 256 KB: the scanning loop is entered often enough to be compiled as a whole
  // function early (one long loop per slice waits for on-stack replacement)
  let pos = sliceStart;
  while (pos < sliceEnd) {
    let stop = pos + CHUNK >= sliceEnd ? sliceEnd : buf.indexOf(10, pos + CHUNK);
    if (stop < 0 || stop > sliceEnd) stop = sliceEnd;
    scanLines(buf, pos, stop, slice, pos === sliceStart);
    pos = stop + 1;
  }
  out.flush();
  for (const st of waiting) {
    if (st.pending < 0) continue;
    out.open(K.pending, st.pid, st.pending, 0, -1);
    st.pending = -1;
  }
  waiting.length = 0;
  return out.take(slice);
}
const CHUNK = 1 << 18;
/** Threads whose unfinished call was folded into a tally: sent as pending records if still open at the end. */
const waiting: ThreadState[] = [];

/**
 * Scans the lines in buf[pos, end) of a slice (firstLine: the slice's first line is among them). A thread's
 * first line in the slice is a record (the builder may not know the thread yet), as is every call that
 * changes the builder's state; other calls are folded into tallies.
 */
function scanLines(buf: Buffer, pos: number, end: number, slice: number, firstLine: boolean): void {
  while (pos < end) {
    let e = buf.indexOf(10, pos);
    if (e < 0 || e > end) e = end;
    const kind = scanCore(buf, pos, e, wantsArgs);
    if (kind !== SCAN_SLOW) {
      const info = curInfo();
      const pid = cur.pid;
      let st = threads.get(pid);
      if (st === undefined) {
        st = { pid, slice: -1, pending: -1, slots: [] };
        threads.set(pid, st);
      }
      let fold = !info.special && !firstLine && st.slice === slice;
      if (st.slice !== slice) {
        st.slice = slice;
        st.pending = -1;
      }
      firstLine = false;
      if (kind === SCAN_RESUME) {
        if (fold && st.pending >= 0) {
          const p = st.pending;
          st.pending = -1;
          const t = doneFor(st, info);
          t.lines++;
          if (p === info.id) countEnd(t);
          pos = e + 1;
          continue;
        }
        fold = false;
      } else if (fold) {
        foldCall(buf, st, info, kind);
        pos = e + 1;
        continue;
      }
      out.flush();
      const o = out.open(
        kind === SCAN_RESUME ? K.resume : kind === SCAN_UNFINISHED ? K.unfinished : K.call,
        pid,
        info.id,
        encodeRet(cur.ret),
        cur.errno ? idOf(cur.errno) : -1,
        info.time || out.count === 0 ? curTime() : Number.NaN,
      );
      if (kind !== SCAN_RESUME && info.interesting !== undefined) {
        argIds(buf, info.interesting);
        out.ints[o + 5] = ids[0];
        out.ints[o + 6] = ids[1];
        out.ints[o + 7] = ids[2];
      }
      const text =
        cur.argText ||
        (kind !== SCAN_RESUME && info.pathArg !== undefined
          ? lastArgText(buf, kind === SCAN_UNFINISHED)
          : "");
      if (text) out.extra(text);
    } else {
      out.flush();
      const ev = slow(buf, pos, e);
      if (ev === null) {
        out.open(K.bad, 0, 0, 0, -1);
        out.extra(buf.toString("utf8", pos, e));
      } else if (ev === undefined) {
        out.open(K.none, 0, 0, 0, -1);
      } else {
        out.open(K.other, 0, 0, 0, -1);
        out.extra(ev);
      }
    }
    pos = e + 1;
  }
}

/** The ids of the values of the arguments `idx` (at most three) of the call line scanned last (-1: none). */
const ids = new Int32Array(3);
function argIds(buf: Buffer, idx: number[]): void {
  const from = lastArgs.start;
  const to = lastArgs.end;
  for (let k = 0; k < 3; k++)
    ids[k] =
      k < idx.length && to >= from && nthArgBytes(buf, from, to, idx[k])
        ? internId(buf, argSpan.start, argSpan.end, idOf)
        : -1;
}

/** The end of a call counted in a tally: never returned, or failed with an errno. */
function countEnd(t: Tally): void {
  if (cur.ret === "?") t.noReturn++;
  else if (cur.ret === "-1" && cur.errno) t.errors++;
}

/** Counts a call line into its thread's tally: argument values and path cut from the bytes. */
function foldCall(buf: Buffer, st: ThreadState, info: Info, kind: number): void {
  let v0 = -1;
  let v1 = -1;
  let v2 = -1;
  if (info.interesting !== undefined) {
    argIds(buf, info.interesting);
    v0 = ids[0];
    v1 = ids[1];
    v2 = ids[2];
  }
  let path = -1;
  if (info.pathArg !== undefined && lastArgs.end >= lastArgs.start)
    if (nthArgBytes(buf, lastArgs.start, lastArgs.end, info.pathArg))
      path = internId(buf, argSpan.start, argSpan.end, idOf);
  const t = tallyFor(st, info, v0, v1, v2, path);
  t.calls++;
  t.lines++;
  if (kind === SCAN_UNFINISHED) {
    if (st.pending < 0) waiting.push(st);
    st.pending = info.id;
  } else countEnd(t);
}

const fd = openSync(job.file, "r");
let next = job.first;
let credit = job.window;
function pump(): void {
  while (credit > 0 && next < job.slices.length) {
    const [from, to] = job.slices[next];
    const b = scanSlice(fd, from, to, next);
    parentPort?.postMessage(b, [
      b.ints.buffer as ArrayBuffer,
      b.times.buffer as ArrayBuffer,
      b.extraAt.buffer as ArrayBuffer,
    ]);
    credit--;
    next += job.stride;
  }
  if (next >= job.slices.length) {
    closeSync(fd);
    parentPort?.postMessage({ done: true });
  }
}
parentPort?.on("message", (m: { credit: number }) => {
  credit += m.credit;
  if (next < job.slices.length) pump();
});
pump();
