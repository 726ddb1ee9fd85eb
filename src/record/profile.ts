// The recorded profile: a versioned JSON document (docs/profile-format.md).
import { dict, sortedDict } from "../util/dict.js";

/** Counts for one syscall in one thread: per phase, and the argument values seen. */
export interface SyscallCounts {
  setup: number;
  work: number;
  errors: number;
  /** argument index → value text → count (only for arguments worth filtering). */
  args?: Record<string, Record<string, number>>;
  /** The same for calls made in the work phase only (a subset of `args`). */
  workArgs?: Record<string, Record<string, number>>;
  /**
   * For a call with several interesting arguments (INTERESTING_ARGS): their values together, joined by
   * "," in INTERESTING_ARGS order ("2,524289,0": socket's family, type, protocol) → count; a call is
   * counted here only when the recording has every one of its values. `args` alone cannot tell which
   * values went together (AF_UNIX+SOCK_DGRAM and AF_INET+SOCK_STREAM do not make AF_INET+SOCK_DGRAM).
   * Profiles written before this field have none: the generator then pins each argument apart.
   */
  combos?: Record<string, number>;
  /** The same for calls made in the work phase only (a subset of `combos`). */
  workCombos?: Record<string, number>;
}

/** One thread's calls. */
export interface ThreadProfile {
  tid: number;
  syscalls: Record<string, SyscallCounts>;
}

/** One process image: a thread group running one executable (a new entry after each execve). */
export interface ProcessProfile {
  pid: number;
  exe: string;
  /** The executable's GNU build-id, read when the recording ended (generate --static checks it). */
  buildId?: string;
  /**
   * For a `#!` script: the ELF it ran (its interpreter, found through the recording's PATH for
   * `#!/usr/bin/env NAME`); buildId is that file's. generate --static analyses it.
   */
  elf?: string;
  parent?: number;
  /** When the work phase began in this process (strace timestamp), if it did. */
  workStartedAt?: number;
  threads: ThreadProfile[];
  exitStatus?: number;
  killedBy?: string;
  /**
   * Set on an entry that stands for many images of one program (past the first KEEP_IMAGES_PER_EXE images
   * of a program, the others are folded into one entry): how many. Its threads are at most two — the
   * images' main threads (tid = pid) and all their other threads (tid 0); pid and parent are the first
   * folded image's, workStartedAt the earliest start of work among them.
   */
  images?: number;
  /** A folded entry's images by how they ended: exit status ("0") or the signal that killed them. */
  endings?: Record<string, number>;
}

/** The recorder: its name and version, and the events it lost (a profile that lost any is not trusted). */
export interface RecordingEngine {
  name: "strace" | "ftrace" | "bpf" | "strace-log" | "audit" | "merge" | "learn";
  version?: string;
  /** Events the engine dropped (a full buffer, an overflowing map): counts are low, calls may be missing. */
  lostEvents?: number;
  /** What was lost, in words, when lostEvents is set. */
  lost?: string;
  /**
   * The engine recorded every path use, absolute (bpf with its path program); a bpf recording without it
   * has the open family's paths alone, relative ones without their directory (generate makes no file layer).
   */
  wholePaths?: boolean;
}

/** The whole recording. */
export interface Profile {
  format: "sysfence-profile";
  version: 1;
  command: string[];
  /** What recorded it. Profiles before this field had `strace` (a version, or "ftrace (…)"): read as this. */
  engine: RecordingEngine;
  arch: string;
  startedAt?: string;
  endedAt?: string;
  /** False when the recording was interrupted or the program failed to run to its end. */
  complete: boolean;
  /** The --after event, if any; without one every call is in the setup phase. */
  phaseBoundary?: string;
  exitStatus?: number;
  signal?: string;
  /** Totals over every counted thread. */
  syscalls: Record<string, SyscallCounts>;
  processes: ProcessProfile[];
  /** Paths passed to open/exec/stat-like calls, with counts (for reports, never for rules). */
  paths: Record<string, number>;
  /** Uses of paths left out of `paths` (past the first 20000 distinct ones, or a scanner's memory limit). */
  pathsOmitted?: number;
  /**
   * How each path in `paths` was used, as letters in alphabetical order: c (an entry created or removed
   * there), r (read, stat-ed, listed), w (written, truncated, its attributes changed), x (executed). A
   * path without one: the engine did not say (bpf; profiles written before this field).
   */
  pathAccess?: Record<string, string>;
  signals: Record<string, number>;
  /** Set by `sysfence merge`: the recordings this one was made of. */
  mergedFrom?: { source: string; command: string[]; startedAt?: string }[];
}

/** Images of one program a recording writes apart; the others are folded into one entry (`images`). */
export const KEEP_IMAGES_PER_EXE = 32;
/** Process images a profile stands for (a folded entry counts its images). */
export const imageCount = (p: Pick<Profile, "processes">): number =>
  p.processes.reduce((a, x) => a + (x.images ?? 1), 0);
/** Distinct paths a profile keeps; uses of others are counted in pathsOmitted. */
export const MAX_PATHS = 20000;
/** Distinct argument values a recording keeps; others are counted as VALUES_OMITTED. */
export const MAX_VALUES = 100000;
/**
 * The value a profile records for an argument in place of values past what a recording keeps (a log of
 * millions of distinct values): not a number, so the generator allows that call with any arguments.
 */
export const VALUES_OMITTED = "…more values, not kept";

/** Arguments worth filtering, by syscall: the scalar values a generator can pin. */
export const INTERESTING_ARGS: Record<string, number[]> = {
  ioctl: [1],
  socket: [0, 1, 2],
  socketpair: [0, 1, 2],
  fcntl: [1],
  prctl: [0],
  clone: [0],
  clone3: [0], // the flags and exit signal from the struct: what clone would need when clone3 is refused
  unshare: [0],
  mmap: [2, 3],
  mprotect: [2],
  pkey_mprotect: [2],
  madvise: [2],
  futex: [1],
  setsockopt: [1, 2],
  getsockopt: [1, 2],
  openat: [2],
  open: [1],
  personality: [0],
  arch_prctl: [0],
  kill: [1],
  tgkill: [2],
  accept4: [3],
  pipe2: [1],
  eventfd2: [1],
  epoll_create1: [0],
  timerfd_create: [0, 1],
  prlimit64: [1],
  getrandom: [2],
  rt_sigaction: [0],
  rt_sigprocmask: [0],
  fadvise64: [3],
  setns: [1],
  shutdown: [1],
  flock: [1],
  memfd_create: [1],
  mremap: [3],
};

/**
 * A combination's key: the values joined by ","; VALUES_OMITTED when one of them is not a value the key
 * can hold exactly (a value text with a comma, or VALUES_OMITTED itself).
 */
export function comboKey(values: readonly string[]): string {
  return values.some((v) => v.includes(",")) ? VALUES_OMITTED : values.join(",");
}

type ArgCounts = Record<string, Record<string, number>>;

function addArgCounts(a: ArgCounts, b: ArgCounts): void {
  for (const [i, vals] of Object.entries(b)) {
    a[i] ??= dict();
    const dst = a[i];
    for (const [v, n] of Object.entries(vals)) dst[v] = (dst[v] ?? 0) + n;
  }
}

/** Merges counts b into a. */
export function addCounts(a: SyscallCounts, b: SyscallCounts): void {
  a.setup += b.setup;
  a.work += b.work;
  a.errors += b.errors;
  if (b.args) {
    a.args ??= dict();
    addArgCounts(a.args, b.args);
  }
  if (b.workArgs) {
    a.workArgs ??= dict();
    addArgCounts(a.workArgs, b.workArgs);
  }
  for (const key of ["combos", "workCombos"] as const) {
    const from = b[key];
    if (!from) continue;
    a[key] ??= dict();
    const into = a[key];
    for (const [v, n] of Object.entries(from)) into[v] = (into[v] ?? 0) + n;
    a[key] = sortedDict(Object.entries(into));
  }
}

/** Total calls of one syscall entry. */
export const total = (c: SyscallCounts) => c.setup + c.work;
