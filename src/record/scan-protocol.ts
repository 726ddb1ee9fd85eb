// What scanner threads send: one record of eight int32s per line (kind, pid, name id, return, errno id,
// and up to three argument-value ids), a time per line, and the few payloads a line needs beyond that.

/** Record kinds. */
/** Int32s per line. */
export const STRIDE = 8;

export const K = { none: 0, call: 1, unfinished: 2, resume: 3, other: 4, bad: 5 } as const;

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
