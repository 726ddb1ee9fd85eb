// What the strace adapter gives per slice, and what it keeps per thread (moved whole from adapter.ts).
import type { EventColumns } from "../../events.js";

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

/** A thread as this adapter knows it: the slice it was last met in, its folded unfinished call. */
export interface ThreadState {
  tid: number;
  slice: number;
  /** The name id of its unfinished call counted in a tally (-1: none). */
  pending: number;
}
