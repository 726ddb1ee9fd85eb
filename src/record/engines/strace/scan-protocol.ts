// What scanner threads send: records of int32s, a time per record, and the few payloads a record needs
// beyond that. A line the builder must see on its own (a fork, an execve, a phase trigger, a thread's first
// line in the slice, a signal, anything odd) is one record: kind, pid, name id, return, errno id and up to
// three argument-value ids. Every other call line is folded into a tally: how many calls one thread made
// with the same name, argument values and path since the last line-record, with their errors.

/** Int32s per record. */
export const STRIDE = 11;

/**
 * Record kinds. tally: [pid, name, calls, errors, v0, v1, v2, path id, never-returned, lines];
 * pending: [pid, name] — an unfinished call already counted in a tally whose end is in a later slice.
 */
export const K = {
  none: 0,
  call: 1,
  unfinished: 2,
  resume: 3,
  other: 4,
  bad: 5,
  tally: 6,
  pending: 7,
} as const;

/** A scanner thread's assignment: every `stride`-th slice of `slices`, starting at `first`. */
export interface ScanJob {
  file: string;
  slices: [number, number][];
  first: number;
  stride: number;
  /** Batches a thread may send before the main thread has taken them (bounds memory). */
  window: number;
  /** Syscalls whose whole argument text the builder reads (forks, paths, execve, marker writes). */
  textNames: string[];
  /** Every line's time is used (a delay: phase); otherwise only these calls' times (and each slice's first). */
  allTimes: boolean;
  timeNames: string[];
  /** Fold ordinary call lines into tallies (not for a delay: phase, where every line's time matters). */
  tally: boolean;
  /** Calls that are always line-records: forks, execve, the calls that can start the work phase. */
  specialNames: string[];
}

/** The records of one slice. */
export interface ScanBatch {
  slice: number;
  /** Strings (syscall names, errnos, argument values) this thread met for the first time, in id order. */
  names: string[];
  ints: Int32Array;
  times: Float64Array;
  /** Lines (ascending) with a payload: the argument text for calls that need it, the event for other lines, the text of bad lines. */
  extraAt: Int32Array;
  extraVal: unknown[];
}

const RETS = [undefined, "?", "-1", "0", "-n", "n"] as const;
/** A return value as the builder reads it, as a small int, and back. */
export function encodeRet(ret: string | undefined): number {
  if (ret === undefined) return 0;
  if (ret === "?") return 1;
  if (ret === "-1") return 2;
  if (ret === "0") return 3;
  return ret.startsWith("-") ? 4 : 5;
}
export const decodeRet = (n: number): string | undefined => RETS[n];
