// A scanner thread: reads slices of a strace log, scans every line (scan.ts) and sends compact records to
// the main thread, which feeds them to the ProfileBuilder in file order. Several run at once on one file.
import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { INTERESTING_ARGS } from "./profile.js";
import {
  argSpan,
  cur,
  curTime,
  internBytes,
  lastArgs,
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
const timeNames = new Set(job.timeNames);
// only the calls whose whole text the builder reads are decoded; argument values are cut from the bytes
const wantsArgs = (name: string) => wantsText.has(name);
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

/** Per syscall name, looked up once per line: its id, the arguments worth keeping, whether its time is used. */
const infos = new Map<string, { id: number; interesting?: number[]; time: boolean }>();
function infoOf(name: string) {
  let info = infos.get(name);
  if (!info) {
    info = { id: idOf(name), interesting: INTERESTING_ARGS[name], time: job.allTimes || timeNames.has(name) };
    infos.set(name, info);
  }
  return info;
}

/** One read buffer and one record buffer per thread, reused for every slice (external memory is collected late). */
let readBuf = Buffer.alloc(0);
let recInts = new Int32Array(1 << 17);
let recTimes = new Float64Array((1 << 17) / STRIDE);

/** Scans the lines that start in [from, to) of the file (a line that starts before `from` is the previous slice's). */
function scanSlice(fd: number, from: number, to: number, slice: number): ScanBatch {
  const TAIL = 1 << 16;
  if (readBuf.length < to - from + TAIL + 1) readBuf = Buffer.allocUnsafe(to - from + TAIL + 1);
  let buf = readBuf;
  const start = from > 0 ? from - 1 : 0;
  let len = readSync(fd, buf, 0, buf.length, start);
  // extend until the last line that starts before `to` is complete
  let end: number;
  let nl = buf.indexOf(10, Math.max(0, to - start - 1));
  while (nl < 0 && len === buf.length) {
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, len);
    len += readSync(fd, bigger, len, bigger.length - len, start + len);
    buf = bigger;
    readBuf = bigger;
    nl = buf.indexOf(10, Math.max(0, to - start - 1));
  }
  end = nl >= 0 ? nl : len;
  let pos = 0;
  if (from > 0) {
    // skip the rest of a line that started in the previous slice (buf[0] is the byte before `from`)
    const first = buf.indexOf(10, 0);
    pos = first < 0 || first >= end ? end : first + 1;
  }
  let cap = recInts.length / STRIDE;
  let ints = recInts;
  let times = recTimes;
  let o = 0;
  const extraAt: number[] = [];
  const extraVal: unknown[] = [];
  let line = 0;
  while (pos < end) {
    if (line === cap) {
      cap *= 2;
      const i2 = new Int32Array(cap * STRIDE);
      i2.set(ints);
      ints = i2;
      const t2 = new Float64Array(cap);
      t2.set(times);
      times = t2;
      recInts = ints;
      recTimes = times;
    }
    o = line * STRIDE;
    let e = buf.indexOf(10, pos);
    if (e < 0 || e > end) e = end;
    const kind = scanCore(buf, pos, e, wantsArgs);
    if (kind !== SCAN_SLOW) {
      const info = infoOf(cur.name);
      put(
        ints,
        o,
        kind === SCAN_RESUME ? K.resume : kind === SCAN_UNFINISHED ? K.unfinished : K.call,
        cur.pid,
        info.id,
        encodeRet(cur.ret),
        cur.errno ? idOf(cur.errno) : -1,
      );
      const idx = info.interesting;
      if (idx !== undefined && kind !== SCAN_RESUME && lastArgs.end >= lastArgs.start)
        for (let k = 0; k < idx.length && k < 3; k++)
          if (nthArgBytes(buf, lastArgs.start, lastArgs.end, idx[k]))
            ints[o + 5 + k] = idOf(internBytes(buf, argSpan.start, argSpan.end));
      times[line] = info.time || line === 0 ? curTime() : Number.NaN;
      if (cur.argText) {
        extraAt.push(line);
        extraVal.push(cur.argText);
      }
    } else {
      const ev = slow(buf, pos, e);
      times[line] = Number.NaN;
      if (ev === null) {
        put(ints, o, K.bad, 0, 0, 0, -1);
        extraAt.push(line);
        extraVal.push(buf.toString("utf8", pos, e));
      } else if (ev === undefined) {
        put(ints, o, K.none, 0, 0, 0, -1);
      } else {
        put(ints, o, K.other, 0, 0, 0, -1);
        extraAt.push(line);
        extraVal.push(ev);
      }
    }
    line++;
    pos = e + 1;
  }
  const batch: ScanBatch = {
    slice,
    names: newNames,
    ints: ints.slice(0, line * STRIDE),
    times: times.slice(0, line),
    extraAt: Int32Array.from(extraAt),
    extraVal,
  };
  newNames = [];
  return batch;
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
