// The byte-level fast path for strace logs: most lines are "PID [TIME] name(args) = RET" or an
// unfinished/resumed pair, and most calls' arguments never matter. A LineScanner reads such a line where
// it lies in the buffer (no string per line) and says where its arguments are; anything else (signals,
// exits, summaries, odd lines) is left to the general parser (parse.ts).
import { type Interned, Interner } from "./interner.js";

const SP = 32;
const LPAREN = 40;
const RPAREN = 41;
const EQ = 61;
const LT = 60;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameChar = (c: number) => (c >= 97 && c <= 122) || c === 95 || isDigit(c);
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const UNFINISHED = Buffer.from("<unfinished ...>");
const RESUMED = Buffer.from(" resumed>");

export { type Interned, Interner, utf8 } from "./interner.js";

/** Buffer's undocumented-in-types latin1Slice: the cheapest bytes → string for ASCII names and numbers. */
const latin1 = (b: Buffer, s: number, e: number): string =>
  (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);
/** What a LineScanner found on a line. SLOW: ask the general parser. */
export const SCAN_SLOW = 0;
export const SCAN_CALL = 1;
export const SCAN_UNFINISHED = 2;
export const SCAN_RESUME = 3;

/** How the call ended, as far as the builder cares. */
export const RET_OK = 0;
export const RET_ERROR = 1;
/** "?": the call never returned (exit_group, a thread that died in it). */
export const RET_NEVER = 2;
/** No result on the line (an unfinished call). */
export const RET_UNKNOWN = 3;

const C_COMMA = 1;
const C_QUOTE = 2;
const C_OPEN = 3;
const C_CLOSE = 4;
const C_SLASH = 5;
const C_LT = 6;
/** Byte classes for nthArg. */
const CLS = new Uint8Array(256);
CLS[47] = C_SLASH;
CLS[44] = C_COMMA;
CLS[34] = C_QUOTE;
CLS[60] = C_LT;
for (const c of [40, 91, 123]) CLS[c] = C_OPEN;
for (const c of [41, 93, 125]) CLS[c] = C_CLOSE;

/**
 * Reads one line at a time in place. After scan(), its fields describe the line (valid until the next
 * scan): no object per line (a log has millions).
 */
export class LineScanner {
  /** Syscall names and errnos. */
  readonly names = new Interner(100000);
  pid = 0;
  /** The syscall's interned name (its owner keeps per-name facts in `info`). */
  name: Interned = { bytes: Buffer.alloc(0), text: "", id: -1, info: undefined, kept: false };
  /** How the call ended (RET_*): "?" never returned; "-1" with an errno failed; anything else returned. */
  ret = RET_UNKNOWN;
  /** Where its errno's name is on the line ([errnoStart, errnoEnd) of the buffer; errnoEnd 0: none). */
  private errnoBuf: Buffer | undefined;
  private errnoStart = 0;
  private errnoEnd = 0;
  /** Its errno (undefined: none), interned when asked for (a folded call needs only whether it failed). */
  get errno(): Interned | undefined {
    if (this.errnoEnd === 0 || !this.errnoBuf) return undefined;
    return this.names.of(this.errnoBuf, this.errnoStart, this.errnoEnd);
  }
  /** The argument bytes of the line [argStart, argEnd) in its buffer (argEnd < argStart: none). */
  argStart = 0;
  argEnd = -1;
  /** nthArg's answer: the argument's bytes [spanStart, spanEnd). */
  spanStart = 0;
  spanEnd = 0;
  // the line's timestamp, read only when asked for (most lines' times are never used)
  private tBuf: Buffer | undefined;
  private tStart = -1;
  private tDot = 0;
  private tEnd = 0;
  private resArgEnd = 0;

  /**
   * Reads the line buf[start, end) when it is a plain, unfinished or resumed call, and says which;
   * SCAN_SLOW for anything else.
   */
  scan(buf: Buffer, start: number, end: number): number {
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
    this.pid = pid;
    this.tBuf = buf;
    this.tStart = timeStart;
    this.tDot = timeDot;
    this.tEnd = timeEnd;
    const c0 = buf[i];
    if (c0 === LT) {
      // "<... name resumed>...) = RET"
      if (buf[i + 1] !== 46 || buf[i + 2] !== 46 || buf[i + 3] !== 46 || buf[i + 4] !== SP) return SCAN_SLOW;
      const nameStart = i + 5;
      let k = nameStart;
      let h = 0;
      for (let c = buf[k]; k < end && isNameChar(c); c = buf[++k]) h = (Math.imul(h, 31) + c) | 0;
      if (!bytesAt(buf, k, RESUMED)) return SCAN_SLOW;
      this.name = this.names.hashed(buf, nameStart, k, h);
      const bodyStart = k + RESUMED.length;
      this.argStart = bodyStart;
      if (this.findResult(buf, bodyStart - 1, end)) this.argEnd = this.resArgEnd;
      else {
        this.argEnd = end;
        this.ret = RET_UNKNOWN;
        this.errnoEnd = 0;
      }
      return SCAN_RESUME;
    }
    if (!((c0 >= 97 && c0 <= 122) || c0 === 95)) return SCAN_SLOW;
    let k = i;
    let h = 0;
    for (let c = buf[k]; k < end && isNameChar(c); c = buf[++k]) h = (Math.imul(h, 31) + c) | 0;
    if (buf[k] !== LPAREN) return SCAN_SLOW;
    this.name = this.names.hashed(buf, i, k, h);
    this.argStart = k + 1;
    if (buf[end - 1] === 62 /* > */ && bytesAt(buf, end - UNFINISHED.length, UNFINISHED)) {
      // the arguments so far, without the comma strace leaves before "<unfinished ...>"
      let e = end - UNFINISHED.length;
      while (e > this.argStart && (buf[e - 1] === SP || buf[e - 1] === 44)) e--;
      this.argEnd = e;
      this.ret = RET_UNKNOWN;
      this.errnoEnd = 0;
      return SCAN_UNFINISHED;
    }
    if (!this.findResult(buf, this.argStart - 1, end)) return SCAN_SLOW;
    this.argEnd = this.resArgEnd;
    return SCAN_CALL;
  }

  /** The timestamp of the line scanned last (-ttt seconds), NaN when it had none. */
  time(): number {
    const buf = this.tBuf;
    if (this.tStart < 0 || !buf) return Number.NaN;
    let whole = 0;
    for (let d = this.tStart; d < this.tDot; d++) whole = whole * 10 + buf[d] - 48;
    let frac = 0;
    let scale = 1;
    for (let d = this.tDot + 1; d < this.tEnd; d++) {
      frac = frac * 10 + buf[d] - 48;
      scale *= 10;
    }
    // one correctly rounded division of two exact integers: the same double as Number(text)
    return scale <= 1e6 ? (whole * scale + frac) / scale : Number(latin1(buf, this.tStart, this.tEnd));
  }

  /**
   * Argument `index` of the line's argument bytes as splitArgs (parse.ts) reads it from the text: top-level
   * commas split (quotes, brackets, comments, -y's fd paths respected), whitespace trimmed. Sets spanStart/spanEnd; false when there is no such argument.
   */
  nthArg(buf: Buffer, index: number): boolean {
    return this.nthArgIn(buf, this.argStart, this.argEnd, index);
  }

  /** nthArg over the argument bytes buf[from, to) of any call (a line the general parser read). */
  nthArgIn(buf: Buffer, from: number, to: number, index: number): boolean {
    if (to < from) return false;
    let depth = 0;
    let field = 0;
    let start = from;
    for (let i = from; i < to; i++) {
      const cls = CLS[buf[i]];
      if (cls === 0) continue; // most bytes: one table load
      if (cls === C_QUOTE) {
        // skip the string, escapes included
        for (i++; i < to && buf[i] !== 34; i++) if (buf[i] === 92) i++;
      } else if (cls === C_LT) {
        // an fd's path as -y decorates it ("3</tmp/a,b(c>": its own '>' is escaped): skipped whole
        if (i > from && isDigit(buf[i - 1])) while (i + 1 < to && buf[i] !== 62) i++;
      } else if (cls === C_OPEN) depth++;
      else if (cls === C_CLOSE) depth--;
      else if (cls === C_SLASH) {
        // a comment ("/* 20 vars */"): skipped whole, as splitArgs does
        if (buf[i + 1] === 42) {
          i += 2;
          while (i + 1 < to && !(buf[i] === 42 && buf[i + 1] === 47)) i++;
          i++;
        }
      } else if (cls === C_COMMA && depth === 0) {
        if (field === index) return this.trimmed(buf, start, i);
        field++;
        start = i + 1;
      }
    }
    return field === index && start < to ? this.trimmed(buf, start, to) : false;
  }

  private trimmed(buf: Buffer, s: number, e: number): boolean {
    while (s < e && (buf[s] === SP || buf[s] === 9 || buf[s] === 10 || buf[s] === 13)) s++;
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === 9 || buf[e - 1] === 10 || buf[e - 1] === 13)) e--;
    this.spanStart = s;
    this.spanEnd = e;
    return e > s;
  }

  /** Finds the result " = RET" after the closing parenthesis of the arguments (from the end of the line). */
  private findResult(buf: Buffer, from: number, end: number): boolean {
    let k = end - 1;
    while (k > from) {
      // the last " = " whose left side (after padding) is ")"
      if (buf[k] === EQ && buf[k - 1] === SP && buf[k + 1] === SP) {
        let p = k - 2;
        while (p >= from && buf[p] === SP) p--;
        if (buf[p] === RPAREN) {
          this.resArgEnd = p;
          return this.retText(buf, k + 2, end);
        }
      }
      k--;
    }
    return false;
  }

  /**
   * Reads a return value at buf[i]: "?" (never returned), "-1" and an errno (failed), any other number
   * (returned). False when there is no number.
   */
  private retText(buf: Buffer, i: number, end: number): boolean {
    const c = buf[i];
    let j = i;
    let minusOne = false;
    if (c === 63 /* ? */) {
      j = i + 1;
    } else if (c === 48 && (buf[i + 1] | 32) === 120 /* x or X */ && i + 2 < end && isHex(buf[i + 2])) {
      j = i + 2;
      while (j < end && isHex(buf[j])) j++;
    } else {
      if (c === 45 /* - */) j++;
      const digits = j;
      while (j < end && isDigit(buf[j])) j++;
      if (j === digits) return false;
      minusOne = c === 45 && j - digits === 1 && buf[digits] === 49;
    }
    this.errnoEnd = 0;
    let k = j;
    while (k < end && (buf[k] === SP || buf[k] === 9)) k++;
    if (k > j && k < end && isLetter(buf[k])) {
      let q = k + 1;
      while (q < end && (isLetter(buf[q]) || isDigit(buf[q]) || buf[q] === 95)) q++;
      if (q - k >= 2) {
        this.errnoBuf = buf;
        this.errnoStart = k;
        this.errnoEnd = q;
      }
    }
    this.ret = c === 63 ? RET_NEVER : minusOne && this.errnoEnd !== 0 ? RET_ERROR : RET_OK;
    return true;
  }
}

/** Whether buf holds the bytes `want` at `at`. */
export function bytesAt(buf: Buffer, at: number, want: Buffer): boolean {
  if (at < 0 || at + want.length > buf.length) return false;
  for (let q = want.length - 1; q >= 0; q--) if (buf[at + q] !== want[q]) return false;
  return true;
}

/**
 * Calls fn(buf, start, end) for each chunk of a byte stream cut at line ends: [start, end) holds whole
 * lines (the last one of the stream may lack its newline), without decoding them.
 */
export async function forEachChunkOfLines(
  input: NodeJS.ReadableStream,
  fn: (buf: Buffer, start: number, end: number) => void,
): Promise<void> {
  let rest: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let from = 0;
    if (rest) {
      // only the line cut between two chunks is copied (not the whole chunk after it)
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        rest = Buffer.concat([rest, chunk]);
        continue;
      }
      const line = Buffer.concat([rest, chunk.subarray(0, nl + 1)]);
      rest = undefined;
      from = nl + 1;
      fn(line, 0, line.length);
    }
    const last = chunk.lastIndexOf(10);
    if (last < from) {
      if (from < chunk.length) rest = chunk.subarray(from);
      continue;
    }
    fn(chunk, from, last + 1);
    rest = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined;
  }
  if (rest?.length) fn(rest, 0, rest.length);
}
