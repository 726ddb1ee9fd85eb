import { SysfenceError } from "../../../errors.js";

/** What a call line and a resumed line both carry. */
interface CallText {
  pid: number;
  time?: number;
  name: string;
  /** The argument list as printed (split it with splitArgs; complete only when the line was not unfinished). */
  argText: string;
  /** Return value text ("0", "-1", "0x3", "?"), once known. */
  ret?: string;
  errno?: string;
}
/** One system call as strace printed it (a start line, whole or unfinished). */
export interface CallEvent extends CallText {
  kind: "call";
  unfinished: boolean;
}
/** The rest of an unfinished call. */
export interface ResumeEvent extends CallText {
  kind: "resume";
}
/** A signal delivered, a process exit or kill. */
export interface SignalEvent {
  kind: "signal";
  pid: number;
  time?: number;
  signal: string;
}
export interface ExitEvent {
  kind: "exit";
  pid: number;
  time?: number;
  status?: number;
  signal?: string;
}
/** "+++ superseded by execve in pid BY +++": thread BY exec'd and goes on as the leader, pid. */
export interface SupersededEvent {
  kind: "superseded";
  pid: number;
  time?: number;
  by: number;
}
/** strace's own -c/-C summary rows (kept to check counts against). */
export interface SummaryEvent {
  kind: "summary";
  name: string;
  calls: number;
  errors: number;
}
export type TraceEvent = CallEvent | ResumeEvent | SignalEvent | ExitEvent | SupersededEvent | SummaryEvent;

/**
 * The arguments of a call's text, split at top-level commas: quotes, brackets, braces and comments
 * (strace's count of environment variables after a pointer) respected, each trimmed. Stops after argument `upTo` when given.
 */
export function splitArgs(text: string, upTo = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 34 /* " */) {
      for (i++; i < n && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (ch === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 1;
    } else if (ch === 60 /* < */ && i > 0 && text.charCodeAt(i - 1) >= 48 && text.charCodeAt(i - 1) <= 57) {
      // an fd's path as -y decorates it ("3</tmp/a,b(c>": its own '>' is escaped)
      const end = text.indexOf(">", i + 1);
      i = end < 0 ? n : end;
    } else if (ch === 40 || ch === 91 || ch === 123) depth++;
    else if (ch === 41 || ch === 93 || ch === 125) depth--;
    else if (ch === 44 && depth === 0) {
      out.push(text.slice(start, i).trim());
      if (out.length > upTo) return out;
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== "") out.push(last);
  return out;
}

/** Argument i of a call's text (splitArgs' i-th), without splitting the rest; undefined when there is none. */
export function nthArg(argText: string, index: number): string | undefined {
  const a = splitArgs(argText, index)[index];
  return a === "" ? undefined : a;
}

const RET_TAIL = /^\s+=\s+(\?|0x[0-9a-f]+|-?\d+)(?:\s+([A-Z][A-Z0-9_]+))?/i;

/** Splits "...) = RET ERRNO (text) <time>" off the end of a call body; undefined when there is none. */
function splitResult(body: string): { argText: string; ret: string; errno?: string } | undefined {
  // The result is the last " = " preceded (after padding) by the closing parenthesis.
  let eq = body.lastIndexOf(" = ");
  while (eq >= 0) {
    let k = eq - 1;
    while (k >= 0 && body.charCodeAt(k) === 32) k--;
    if (k >= 0 && body.charCodeAt(k) === 41 /* ) */) {
      const m = RET_TAIL.exec(body.slice(eq));
      if (!m) return undefined;
      return { argText: body.slice(0, k), ret: m[1], errno: m[2] };
    }
    eq = body.lastIndexOf(" = ", eq - 1);
  }
  return undefined;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** What eventAt answers for text that is neither a notice, a resumed call nor a call. */
const NOT_AN_EVENT = Symbol("not an event");

/** The pid ("[pid N]" or -f's "N ") and time (-t/-tt/-ttt) a line starts with, and where the rest begins;
 * null when the pid prefix is malformed. */
function linePrefix(line: string, defaultPid: number): { pid: number; time?: number; i: number } | null {
  let i = 0;
  let pid = defaultPid;
  const n = line.length;
  if (line.startsWith("[pid")) {
    i = 4;
    while (line.charCodeAt(i) === 32) i++;
    const s = i;
    while (isDigit(line.charCodeAt(i))) i++;
    pid = Number(line.slice(s, i));
    if (line.charCodeAt(i) !== 93) return null;
    i++;
    while (line.charCodeAt(i) === 32) i++;
  } else if (isDigit(line.charCodeAt(0))) {
    let j = 0;
    while (isDigit(line.charCodeAt(j))) j++;
    const c = line.charCodeAt(j);
    if (c === 32 && j < 8) {
      pid = Number(line.slice(0, j));
      i = j;
      while (line.charCodeAt(i) === 32) i++;
    }
  }
  let time: number | undefined;
  if (isDigit(line.charCodeAt(i))) {
    let j = i;
    while (j < n && line.charCodeAt(j) !== 32) j++;
    const t = line.slice(i, j);
    if (/^(\d{2}:\d{2}:\d{2}(\.\d+)?|\d+\.\d+|\d{9,})$/.test(t)) {
      time = t.includes(":") ? clockSeconds(t) : Number(t);
      i = j;
      while (line.charCodeAt(i) === 32) i++;
    }
  }
  return { pid, time, i };
}

/** The event at line[i]: an exit or signal notice, a resumed call, or a call (see callAt). */
function eventAt(
  line: string,
  i: number,
  pid: number,
  time: number | undefined,
): TraceEvent | undefined | null | typeof NOT_AN_EVENT {
  const c0 = line.charCodeAt(i);
  if (c0 === 43 /* + */ && line.startsWith("+++ ", i)) {
    const m = /^\+\+\+ (?:exited with (\d+)|killed by (SIG\w+)|superseded by execve in pid (\d+))/.exec(
      line.slice(i),
    );
    if (m?.[3] !== undefined) return { kind: "superseded", pid, time, by: Number(m[3]) };
    return m
      ? { kind: "exit", pid, time, status: m[1] === undefined ? undefined : Number(m[1]), signal: m[2] }
      : undefined;
  }
  if (c0 === 45 /* - */ && line.startsWith("--- ", i)) {
    const m = /^--- (SIG\w+)/.exec(line.slice(i));
    return m ? { kind: "signal", pid, time, signal: m[1] } : undefined;
  }
  if (c0 === 60 /* < */ && line.startsWith("<... ", i)) {
    const end = line.indexOf(" resumed>", i + 5);
    if (end < 0) return null;
    const name = line.slice(i + 5, end);
    const body = line.slice(end + 9);
    const r = splitResult(body);
    return {
      kind: "resume",
      pid,
      time,
      name,
      argText: (r ? r.argText : body).trim(),
      ret: r?.ret,
      errno: r?.errno,
    };
  }
  if ((c0 >= 97 && c0 <= 122) || c0 === 95) return callAt(line, i, pid, time);
  return NOT_AN_EVENT;
}

/** A call "name(args) = RET" or "name(args <unfinished ...>" at line[i]; NOT_AN_EVENT when no name( is there. */
function callAt(
  line: string,
  i: number,
  pid: number,
  time: number | undefined,
): TraceEvent | null | typeof NOT_AN_EVENT {
  const paren = line.indexOf("(", i);
  if (paren <= i) return NOT_AN_EVENT;
  for (let k = i; k < paren; k++) {
    const ch = line.charCodeAt(k);
    if (!((ch >= 97 && ch <= 122) || ch === 95 || isDigit(ch))) return NOT_AN_EVENT;
  }
  const name = line.slice(i, paren);
  const body = line.slice(paren + 1);
  if (body.endsWith("<unfinished ...>")) {
    const argText = body
      .slice(0, body.length - 16)
      .trim()
      .replace(/,$/, "");
    return { kind: "call", pid, time, name, argText, unfinished: true };
  }
  const r = splitResult(body);
  if (!r) return null;
  return {
    kind: "call",
    pid,
    time,
    name,
    argText: r.argText,
    ret: r.ret,
    errno: r.errno,
    unfinished: false,
  };
}

/** strace -c / -C summary rows ("  12.34    0.000123          12        10         2 openat"), its rulers
 * and notices (undefined), or null for a line that is not strace output. */
function summaryLine(line: string): TraceEvent | undefined | null {
  const s = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s+([a-z_][a-z0-9_]*)\s*$/.exec(line);
  if (s)
    return s[3] === "total"
      ? undefined
      : { kind: "summary", name: s[3], calls: Number(s[1]), errors: Number(s[2] ?? 0) };
  if (
    /^(% time|-{4,}|strace: |\s*$|System call usage summary)/.test(line) ||
    /^\s*[\d.]+\s+[\d.]+\s+\d*\s+\d+\s+\d*\s*total\s*$/.test(line)
  )
    return undefined;
  return null;
}

/**
 * Parses one line of strace output, with or without -f (pid prefix), -t/-tt/-ttt, -T, -y and -X. Hand-scanned
 * rather than regex-driven: a recording can be gigabytes. Returns undefined for lines that carry nothing
 * (notices, summary rulers) and null for lines that are not strace output.
 */
export function parseLine(line: string, defaultPid = 0): TraceEvent | undefined | null {
  const prefix = linePrefix(line, defaultPid);
  if (prefix === null) return null;
  const event = eventAt(line, prefix.i, prefix.pid, prefix.time);
  return event === NOT_AN_EVENT ? summaryLine(line) : event;
}

function clockSeconds(text: string): number {
  const [h, m, s] = text.split(":");
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Thrown when input is not strace output: names the file and the first bad line. */
export function notStrace(file: string, lineNo: number, line: string): SysfenceError {
  return new SysfenceError(
    "E_USAGE",
    `${file}:${lineNo}: this is not strace output: '${line.slice(0, 80)}'. Record with 'strace -f -o FILE CMD' (sysfence record does this for you).`,
  );
}

/** Calls fn for every line of a stream, in order; faster than readline for multi-gigabyte logs. */
export async function forEachLine(input: NodeJS.ReadableStream, fn: (line: string) => void): Promise<void> {
  input.setEncoding("utf8");
  // a line's pieces from earlier chunks: only each new chunk is searched, so a 200 MB line is linear
  let pending: string[] = [];
  for await (const chunk of input as AsyncIterable<string>) {
    let start = 0;
    let nl = chunk.indexOf("\n");
    while (nl >= 0) {
      const head = chunk.slice(start, nl);
      fn(pending.length ? pending.join("") + head : head);
      pending = [];
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    if (start < chunk.length) pending.push(chunk.slice(start));
  }
  if (pending.length) fn(pending.join(""));
}
