import { SysfenceError } from "../../../errors.js";

/** What a call line and a resumed line both carry. */
interface CallText {
  pid: number;
  time?: number;
  name: string;
  /** The argument list as printed (split it with argsOf; complete only when the line was not unfinished). */
  argText: string;
  /** Return value text ("0", "-1", "0x3", "?"), once known. */
  ret?: string;
  errno?: string;
}
/** One system call as strace printed it (a start line, whole or unfinished). */
export interface CallEvent extends CallText {
  kind: "call";
  unfinished: boolean;
  /** The raw text of the arguments worth filtering (INTERESTING_ARGS order), when a scanner thread cut them out. */
  argRaw?: (string | undefined)[];
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
/** strace's own -c/-C summary rows (kept to check counts against). */
export interface SummaryEvent {
  kind: "summary";
  name: string;
  calls: number;
  errors: number;
}
export type TraceEvent = CallEvent | ResumeEvent | SignalEvent | ExitEvent | SummaryEvent;

/**
 * The whole argument text of a call strace printed in two parts: the unfinished start and the resumed rest
 * (which strace sometimes begins with the comma it split at).
 */
export function joinResumed(start: string, rest: string): string {
  const tail = rest.replace(/^,\s*/, "");
  return start && tail ? `${start}, ${tail}` : start || tail;
}

/** Splits an argument list at top-level commas (quotes, brackets, braces and comments respected). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inStr) {
      cur += ch;
      if (ch === "\\") {
        cur += text[++i] ?? "";
      } else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      cur += text.slice(i, end < 0 ? text.length : end + 2);
      i = end < 0 ? text.length : end + 1;
      continue;
    } else if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += ch;
  }
  if (cur.trim() !== "") out.push(cur.trim());
  return out;
}

/** Argument i of a call without splitting the rest (futex and friends are most of a log). */
export function nthArg(argText: string, index: number): string | undefined {
  let depth = 0;
  let inStr = false;
  let field = 0;
  let start = 0;
  const n = argText.length;
  for (let i = 0; i < n; i++) {
    const ch = argText.charCodeAt(i);
    if (inStr) {
      if (ch === 92) i++;
      else if (ch === 34) inStr = false;
      continue;
    }
    if (ch === 34) inStr = true;
    else if (ch === 40 || ch === 91 || ch === 123) depth++;
    else if (ch === 41 || ch === 93 || ch === 125) depth--;
    else if (ch === 44 && depth === 0) {
      if (field === index) return argText.slice(start, i).trim();
      field++;
      start = i + 1;
    }
  }
  return field === index && start < n ? argText.slice(start).trim() : undefined;
}

/** The arguments of a call, split at top-level commas (done only for calls whose arguments matter). */
export function argsOf(e: { argText: string }): string[] {
  return splitArgs(e.argText);
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

/**
 * Parses one line of strace output, with or without -f (pid prefix), -t/-tt/-ttt, -T, -y and -X. Hand-scanned
 * rather than regex-driven: a recording can be gigabytes. Returns undefined for lines that carry nothing
 * (notices, summary rulers) and null for lines that are not strace output.
 */
export function parseLine(line: string, defaultPid = 0): TraceEvent | undefined | null {
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
  const c0 = line.charCodeAt(i);
  if (c0 === 43 /* + */ && line.startsWith("+++ ", i)) {
    const m = /^\+\+\+ (?:exited with (\d+)|killed by (SIG\w+))/.exec(line.slice(i));
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
  if ((c0 >= 97 && c0 <= 122) || c0 === 95) {
    const paren = line.indexOf("(", i);
    if (paren > i) {
      let ok = true;
      for (let k = i; k < paren; k++) {
        const ch = line.charCodeAt(k);
        if (!((ch >= 97 && ch <= 122) || ch === 95 || isDigit(ch))) {
          ok = false;
          break;
        }
      }
      const name = line.slice(i, paren);
      if (ok) {
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
    }
  }
  // strace -c / -C summary rows: "  12.34    0.000123          12        10         2 openat"
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
