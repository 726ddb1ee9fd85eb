// The byte-level fast path for strace logs: most lines are "PID [TIME] name(args) = RET" or an
// unfinished/resumed pair, and most calls' arguments never matter. Those lines become events without
// decoding the line into a string; only the arguments of calls the builder reads are decoded. Anything
// else (signals, exits, summaries, odd lines) goes through the general parser.
import { parseLine, type TraceEvent } from "./parse.js";

const SP = 32;
const LPAREN = 40;
const RPAREN = 41;
const EQ = 61;
const LT = 60;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameChar = (c: number) => (c >= 97 && c <= 122) || c === 95 || isDigit(c);
const UNFINISHED = Buffer.from("<unfinished ...>");
/** Buffer's undocumented-in-types latin1Slice: the cheapest bytes → string for ASCII names and numbers. */
const latin1 = (b: Buffer, s: number, e: number): string =>
  (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);
/** Buffer's utf8Slice without toString's argument checks. */
const utf8 = (b: Buffer, s: number, e: number): string =>
  (b as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(s, e);
const RESUMED = Buffer.from(" resumed>");

/** An interned text, with room for what a caller learns about it once (an id, a syscall's facts). */
export interface Interned {
  bytes: Buffer;
  name: string;
  id: number;
  info: unknown;
}
/**
 * Syscall names (and other short repeated texts), interned by a hash of their bytes: no string is made for
 * one seen before. An open-addressing table of entry numbers (a Map keyed by a 32-bit hash would box it).
 */
const entries: Interned[] = [];
// (in an object: growing the table replaces its arrays without invalidating code compiled against them)
const table = { slots: new Int32Array(1 << 16), hashes: new Int32Array(1 << 16) };
/**
 * The id of the text buf[s, e), which `assign` gives each new text once (interned up to MAX_INTERNED texts;
 * after that each is assigned as it comes).
 */
export function internId(buf: Buffer, s: number, e: number, assign: (text: string) => number): number {
  if (interned >= MAX_INTERNED) return assign(utf8(buf, s, e));
  nameOf(buf, s, e);
  const x = lastInterned;
  if (x.id < 0) x.id = assign(x.name);
  return x.id;
}
const MAX_INTERNED = 200000;
let interned = 0;
/** The entry of the text nameOf returned last. */
let lastInterned: Interned = { bytes: Buffer.alloc(0), name: "", id: -1, info: undefined };
function nameOf(buf: Buffer, s: number, e: number): string {
  let h = 0;
  for (let q = s; q < e; q++) h = (Math.imul(h, 31) + buf[q]) | 0;
  return hashedNameOf(buf, s, e, h);
}
/** nameOf for a caller that hashed the bytes already (h: the same hash over buf[s, e)). */
function hashedNameOf(buf: Buffer, s: number, e: number, h: number): string {
  const slots = table.slots;
  const hashes = table.hashes;
  const mask = slots.length - 1;
  let i = h & mask;
  for (;;) {
    const n = slots[i];
    if (n === 0) break;
    if (hashes[i] === h) {
      const x = entries[n - 1];
      const bytes = x.bytes;
      if (bytes.length === e - s) {
        let q = 0;
        while (q < bytes.length && bytes[q] === buf[s + q]) q++;
        if (q === bytes.length) {
          lastInterned = x;
          return x.name;
        }
      }
    }
    i = (i + 1) & mask;
  }
  const name = utf8(buf, s, e);
  const entry: Interned = { bytes: Buffer.from(buf.subarray(s, e)), name, id: -1, info: undefined };
  lastInterned = entry;
  interned++;
  entries.push(entry);
  slots[i] = entries.length;
  hashes[i] = h;
  if (entries.length * 2 > slots.length) grow();
  return name;
}
/** Doubles the table (kept at most half full). */
function grow(): void {
  const oldSlots = table.slots;
  const oldHashes = table.hashes;
  const slots = new Int32Array(oldSlots.length * 2);
  const hashes = new Int32Array(oldSlots.length * 2);
  table.slots = slots;
  table.hashes = hashes;
  const mask = slots.length - 1;
  for (let j = 0; j < oldSlots.length; j++) {
    if (oldSlots[j] === 0) continue;
    let i = oldHashes[j] & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = oldSlots[j];
    hashes[i] = oldHashes[j];
  }
}

const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

// findResult's answer, in module state: no object per line (a log has millions of lines).
let resArgEnd = 0;
/** The argument bytes of the last call line scanned ([start, end) in its buffer; end < start: none). */
export const lastArgs = { start: 0, end: -1 };
let resRet = "";
let resErrno: string | undefined;

/**
 * Reads a return value at buf[i] as the builder reads it: "?" (never returned), "-1" (error), "0", "-n"
 * (another negative value) or "n" (any other value), and the errno name after it — what the general parser
 * reads. Sets resRet/resErrno; false when there is no number.
 */
function retText(buf: Buffer, i: number, end: number): boolean {
  const c = buf[i];
  resErrno = undefined;
  let j = i;
  if (c === 63 /* ? */) {
    resRet = "?";
    j = i + 1;
  } else if (c === 48 && (buf[i + 1] | 32) === 120 /* x or X */ && i + 2 < end && isHex(buf[i + 2])) {
    j = i + 2;
    while (j < end && isHex(buf[j])) j++;
    resRet = "n";
  } else {
    if (c === 45 /* - */) j++;
    const digits = j;
    while (j < end && isDigit(buf[j])) j++;
    if (j === digits) return false;
    const len = j - digits;
    resRet = c === 45 ? (len === 1 && buf[digits] === 49 ? "-1" : "-n") : len === 1 && c === 48 ? "0" : "n";
  }
  let k = j;
  while (k < end && (buf[k] === SP || buf[k] === 9)) k++;
  if (k > j && k < end && isLetter(buf[k])) {
    let q = k + 1;
    while (q < end && (isLetter(buf[q]) || isDigit(buf[q]) || buf[q] === 95)) q++;
    if (q - k >= 2) resErrno = nameOf(buf, k, q);
  }
  return true;
}

/** Finds the result " = RET" after the closing parenthesis of the arguments (from the end of the line). */
function findResult(buf: Buffer, from: number, end: number): boolean {
  let k = end - 1;
  while (k > from) {
    // the last " = " whose left side (after padding) is ")"
    if (buf[k] === EQ && buf[k - 1] === SP && buf[k + 1] === SP) {
      let p = k - 2;
      while (p >= from && buf[p] === SP) p--;
      if (buf[p] === RPAREN) {
        resArgEnd = p;
        return retText(buf, k + 2, end);
      }
    }
    k--;
  }
  return false;
}

/**
 * Argument `index` of the argument bytes [from, to) as nthArg reads it from the text: top-level commas
 * split (quotes, brackets respected), whitespace trimmed. Sets argSpan; false when there is no such argument.
 */
export const argSpan = { start: 0, end: 0 };
export function nthArgBytes(buf: Buffer, from: number, to: number, index: number): boolean {
  let depth = 0;
  let field = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const cls = CLS[buf[i]];
    if (cls === 0) continue; // most bytes: one table load
    if (cls === C_QUOTE) {
      // skip the string, escapes included
      for (i++; i < to && buf[i] !== 34; i++) if (buf[i] === 92) i++;
    } else if (cls === C_OPEN) depth++;
    else if (cls === C_CLOSE) depth--;
    else if (cls === C_COMMA && depth === 0) {
      if (field === index) return trimmed(buf, start, i);
      field++;
      start = i + 1;
    }
  }
  return field === index && start < to ? trimmed(buf, start, to) : false;
}
const C_COMMA = 1;
const C_QUOTE = 2;
const C_OPEN = 3;
const C_CLOSE = 4;
/** Byte classes for nthArgBytes. */
const CLS = new Uint8Array(256);
CLS[44] = C_COMMA;
CLS[34] = C_QUOTE;
for (const c of [40, 91, 123]) CLS[c] = C_OPEN;
for (const c of [41, 93, 125]) CLS[c] = C_CLOSE;

function trimmed(buf: Buffer, s: number, e: number): boolean {
  while (s < e && (buf[s] === SP || buf[s] === 9 || buf[s] === 10 || buf[s] === 13)) s++;
  while (e > s && (buf[e - 1] === SP || buf[e - 1] === 9 || buf[e - 1] === 10 || buf[e - 1] === 13)) e--;
  argSpan.start = s;
  argSpan.end = e;
  return e > s;
}

function bytesAt(buf: Buffer, at: number, want: Buffer): boolean {
  if (at < 0 || at + want.length > buf.length) return false;
  for (let q = want.length - 1; q >= 0; q--) if (buf[at + q] !== want[q]) return false;
  return true;
}

/** Kinds scanCore answers: 0 means "ask the general parser". */
export const SCAN_SLOW = 0;
export const SCAN_CALL = 1;
export const SCAN_UNFINISHED = 2;
export const SCAN_RESUME = 3;

// the last line's timestamp, read only when asked for (most lines' times are never used)
let tBuf: Buffer | undefined;
let tStart = -1;
let tDot = 0;
let tEnd = 0;
/** The timestamp of the line scanCore read last (-ttt seconds), NaN when it had none. */
export function curTime(): number {
  if (tStart < 0 || !tBuf) return Number.NaN;
  const buf = tBuf;
  let whole = 0;
  for (let d = tStart; d < tDot; d++) whole = whole * 10 + buf[d] - 48;
  let frac = 0;
  let scale = 1;
  for (let d = tDot + 1; d < tEnd; d++) {
    frac = frac * 10 + buf[d] - 48;
    scale *= 10;
  }
  // one correctly rounded division of two exact integers: the same double as Number(text)
  return scale <= 1e6 ? (whole * scale + frac) / scale : Number(latin1(buf, tStart, tEnd));
}

/** What scanCore read from the last line (valid until the next call): no object per line. */
export const cur = {
  pid: 0,
  name: "",
  ret: undefined as string | undefined,
  errno: undefined as string | undefined,
  argText: "",
  /** The interned entry of the syscall's name (callers keep per-name facts in its info). */
  entry: lastInterned,
};

/**
 * Reads the line buf[start, end) into `cur` when it is a plain, unfinished or resumed call, and says which;
 * SCAN_SLOW for anything else. The argument text is decoded only when `wantsArgs(name)`; the argument
 * bytes of a call line are in `lastArgs` either way.
 */
export function scanCore(
  buf: Buffer,
  start: number,
  end: number,
  wantsArgs: (name: string) => boolean,
): number {
  let i = start;
  let pid = 0;
  if (isDigit(buf[i])) {
    let j = i;
    let v = 0;
    while (j < end && isDigit(buf[j])) v = v * 10 + buf[j++] - 48;
    if (buf[j] === SP && j - i < 8) {
      pid = v;
      i = j;
      while (buf[i] === SP) i++;
    }
  } else if (buf[i] === 91 /* [ */) return SCAN_SLOW;
  let timeStart = -1;
  let timeDot = 0;
  let timeEnd = 0;
  if (isDigit(buf[i])) {
    // -ttt "1795331129.070001" (the format sysfence records with); other clocks take the general path
    let j = i;
    while (j < end && isDigit(buf[j])) j++;
    if (buf[j] !== 46 /* . */ || j - i < 9) return SCAN_SLOW;
    let k = j + 1;
    while (k < end && isDigit(buf[k])) k++;
    if (buf[k] !== SP) return SCAN_SLOW;
    timeStart = i;
    timeDot = j;
    timeEnd = k;
    i = k;
    while (buf[i] === SP) i++;
  }
  cur.pid = pid;
  cur.argText = "";
  tBuf = buf;
  tStart = timeStart;
  tDot = timeDot;
  tEnd = timeEnd;
  const c0 = buf[i];
  if (c0 === LT) {
    // "<... name resumed>...) = RET"
    if (buf[i + 1] !== 46 || buf[i + 2] !== 46 || buf[i + 3] !== 46 || buf[i + 4] !== SP) return SCAN_SLOW;
    const nameStart = i + 5;
    let k = nameStart;
    let h = 0;
    for (let c = buf[k]; k < end && isNameChar(c); c = buf[++k]) h = (Math.imul(h, 31) + c) | 0;
    if (!bytesAt(buf, k, RESUMED)) return SCAN_SLOW;
    const name = hashedNameOf(buf, nameStart, k, h);
    cur.entry = lastInterned;
    const bodyStart = k + RESUMED.length;
    const found = findResult(buf, bodyStart - 1, end);
    cur.name = name;
    cur.ret = found ? resRet : undefined;
    cur.errno = found ? resErrno : undefined;
    if (wantsArgs(name)) cur.argText = utf8(buf, bodyStart, found ? resArgEnd : end).trim();
    return SCAN_RESUME;
  }
  if (!((c0 >= 97 && c0 <= 122) || c0 === 95)) return SCAN_SLOW;
  let k = i;
  let h = 0;
  for (let c = buf[k]; k < end && isNameChar(c); c = buf[++k]) h = (Math.imul(h, 31) + c) | 0;
  if (buf[k] !== LPAREN) return SCAN_SLOW;
  const name = hashedNameOf(buf, i, k, h);
  cur.entry = lastInterned;
  const argStart = k + 1;
  lastArgs.start = argStart;
  lastArgs.end = -1;
  cur.name = name;
  if (buf[end - 1] === 62 /* > */ && bytesAt(buf, end - UNFINISHED.length, UNFINISHED)) {
    lastArgs.end = end - UNFINISHED.length;
    cur.ret = undefined;
    cur.errno = undefined;
    if (wantsArgs(name)) cur.argText = lastArgText(buf, true);
    return SCAN_UNFINISHED;
  }
  if (!findResult(buf, argStart - 1, end)) return SCAN_SLOW;
  lastArgs.end = resArgEnd;
  cur.ret = resRet;
  cur.errno = resErrno;
  if (wantsArgs(name)) cur.argText = lastArgText(buf, false);
  return SCAN_CALL;
}

/** The argument text of the call line scanCore read last (as it sets cur.argText when asked), decoded now. */
export function lastArgText(buf: Buffer, unfinished: boolean): string {
  if (lastArgs.end < lastArgs.start) return "";
  const text = utf8(buf, lastArgs.start, lastArgs.end);
  return unfinished ? text.trim().replace(/,$/, "") : text;
}

/**
 * Parses the line buf[start, end). `wantsArgs(name)` says whether the argument text is needed. Falls back
 * to the general parser for anything that is not a plain call, unfinished call or resumed call.
 */
export function scanLine(
  buf: Buffer,
  start: number,
  end: number,
  wantsArgs: (name: string) => boolean,
): TraceEvent | undefined | null {
  const kind = scanCore(buf, start, end, wantsArgs);
  if (kind === SCAN_SLOW) return slow(buf, start, end);
  const t = curTime();
  const common = {
    pid: cur.pid,
    time: Number.isNaN(t) ? undefined : t,
    name: cur.name,
    argText: cur.argText,
  };
  if (kind === SCAN_RESUME) return { kind: "resume", ...common, ret: cur.ret, errno: cur.errno };
  if (kind === SCAN_UNFINISHED) return { kind: "call", ...common, unfinished: true };
  return { kind: "call", ...common, ret: cur.ret, errno: cur.errno, unfinished: false };
}

export function slow(buf: Buffer, start: number, end: number): TraceEvent | undefined | null {
  return parseLine(buf.toString("utf8", start, end));
}

/** Calls fn(buf, start, end) for every line of a byte stream, without decoding it. */
export async function forEachLineBytes(
  input: NodeJS.ReadableStream,
  fn: (buf: Buffer, start: number, end: number) => void,
): Promise<void> {
  let rest: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    let nl = buf.indexOf(10, start);
    while (nl >= 0) {
      fn(buf, start, nl);
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  }
  if (rest?.length) fn(rest, 0, rest.length);
}
