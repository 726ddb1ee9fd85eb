// What the learning supervisor (supervisor-worker.ts) is given by the main thread and what it posts back.
import type { Insn } from "../bpf/insn.js";
import type { ArchName } from "../syscalls/arches.js";
import type { LearnMode } from "./judge.js";
import type { LandlockLists } from "./landlock-judge.js";

/** What the main thread gives the worker. */
export interface SupervisorInput {
  fd: number;
  launcherPid: number;
  audit: number;
  arch: ArchName;
  /** The policy's program as it would be installed (without the learning prologue). */
  program: Insn[];
  /** The learning policy's program (without the prologue): USER_NOTIF marks the answers that are learned. */
  learning: Insn[];
  /** The policy's Landlock lists when the layer would be enforced here; absent: no file judging. */
  lists?: LandlockLists;
  /** The policy's TCP port lists the layer would enforce here (an absent list: that access unrestricted). */
  tcp?: { bind?: number[]; connect?: number[] };
  /** The policy scopes signals to its sandbox and the kernel would enforce it: signal calls are judged. */
  signalScope?: boolean;
  mode: LearnMode;
  /** [0]: 1 once the launcher may exec (SIGCONT sent); [1]: 1 to stop now. */
  control: SharedArrayBuffer;
}

/** A process image the learned calls came from. */
export interface LearnedImage {
  id: number;
  pid: number;
  exe: string;
  parent?: number;
}

/** What the worker posts when it ends. */
export interface LearnCounts {
  images: LearnedImage[];
  /** [tid, image id, syscall, v0, v1, v2 ("" none), calls, errors] */
  calls: [number, number, string, string, string, string, number, number][];
  /** [path, Access bits, uses] */
  paths: [string, number, number][];
  /** Calls notified in all; the launcher's own; learned; answered as the policy; tasks gone before the answer. */
  notified: number;
  launcher: number;
  learned: number;
  landlock: number;
  answered: number;
  gone: number;
  foreign: number;
  /** Kills the supervisor gave (a kill answer), by pid. */
  killed: number;
  /** The program's own attempts to install a filter with a listener (the kernel answers EBUSY: one per chain). */
  ownListener: number;
}
