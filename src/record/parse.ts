import { SysfenceError } from "../errors.js";

/** One system call as strace printed it (a start line, whole or unfinished). */
export interface CallEvent {
  kind: "call";
  pid: number;
  time?: number;
  name: string;
  /** Raw argument texts, split at top-level commas (complete only when the line was not unfinished). */
  args: string[];
  /** Return value text ("0", "-1", "0x3", "?"), once known. */
  ret?: string;
  errno?: string;
  unfinished: boolean;
}
/** The rest of an unfinished call. */
export interface ResumeEvent {
  kind: "resume";
  pid: number;
  time?: number;
  name: string;
  args: string[];
  ret?: string;
  errno?: string;
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

const PREFIX = /^(?:\[pid\s+)?(\d+)\]?\s+/;
const TIME = /^(\d{2}:\d{2}:\d{2}(?:\.\d+)?|\d+\.\d+|\d{10,})\s+/;
const RESULT =
  /\)\s+=\s+(\?|-?\d+|0x[0-9a-f]+)(?:\s+([A-Z][A-Z0-9_]+)(?:\s+\([^)]*\))?)?(?:\s+\([^)]*\))?(?:\s+<[\d.]+>)?\s*$/i;

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

/**
 * Parses one line of strace output, with or without -f (pid prefix), -t/-tt/-ttt, -T, -y and -X.
 * Returns undefined for lines that carry nothing (attach/detach notices, summary rulers); throws nothing —
 * the caller decides whether an unrecognised line is fatal.
 */
export function parseLine(line: string, defaultPid = 0): TraceEvent | undefined | null {
  let rest = line;
  let pid = defaultPid;
  const p = PREFIX.exec(rest);
  if (p) {
    pid = Number(p[1]);
    rest = rest.slice(p[0].length);
  }
  let time: number | undefined;
  const t = TIME.exec(rest);
  if (t) {
    time = t[1].includes(":") ? clockSeconds(t[1]) : Number(t[1]);
    rest = rest.slice(t[0].length);
  }
  if (rest.startsWith("+++ ")) {
    const m = /^\+\+\+ (?:exited with (\d+)|killed by (SIG\w+))/.exec(rest);
    return m
      ? { kind: "exit", pid, time, status: m[1] === undefined ? undefined : Number(m[1]), signal: m[2] }
      : undefined;
  }
  if (rest.startsWith("--- ")) {
    const m = /^--- (SIG\w+)/.exec(rest);
    return m ? { kind: "signal", pid, time, signal: m[1] } : undefined;
  }
  if (rest.startsWith("<... ")) {
    const m = /^<\.\.\. (\w+) resumed>\s?(.*)$/.exec(rest);
    if (!m) return null;
    const r = RESULT.exec(m[2]);
    const argText = r ? m[2].slice(0, r.index) : m[2];
    return { kind: "resume", pid, time, name: m[1], args: splitArgs(argText), ret: r?.[1], errno: r?.[2] };
  }
  const call = /^([a-z_][a-z0-9_]*)\((.*)$/.exec(rest);
  if (call) {
    const body = call[2];
    if (/\s*<unfinished \.\.\.>\s*$/.test(body)) {
      return {
        kind: "call",
        pid,
        time,
        name: call[1],
        args: splitArgs(body.replace(/\s*<unfinished \.\.\.>\s*$/, "")),
        unfinished: true,
      };
    }
    const r = RESULT.exec(body);
    if (!r) return null;
    return {
      kind: "call",
      pid,
      time,
      name: call[1],
      args: splitArgs(body.slice(0, r.index)),
      ret: r[1],
      errno: r[2],
      unfinished: false,
    };
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
  if (/^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:[\d:.]+\s+)?(?:\+\+\+|---)/.test(line)) return undefined;
  if (/^\d+\s+[\d:.]*\s*<\.\.\. .* resumed>/.test(line) || /^\s*\?\s*$/.test(rest)) return undefined;
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
