import type { Focus, PhaseSpec } from "./builder.js";

/** Options for recording a program (either engine). */
export interface RecordOptions {
  phase?: PhaseSpec;
  phaseText?: string;
  focus?: Focus;
  /** Called about every 200 ms with progress figures. */
  onProgress?: (p: { calls: number; distinct: number; processes: number }) => void;
  /** Pin strace and the program to one CPU (ptrace round trips stay on one core; much faster). */
  pin?: boolean;
  /** Also have strace count (-C) and compare its totals with ours. */
  checkCounts?: boolean;
  /** Seconds a program gets to exit after a stop signal before it is killed (default 10). */
  graceSeconds?: number;
}
