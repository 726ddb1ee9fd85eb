import type { SourceLocation } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";

/** What the kernel does with a call (seccomp(2), "Filter return values"). */
export type ActionKind =
  | "allow"
  | "kill-process"
  | "kill-thread"
  | "trap"
  | "errno"
  | "trace"
  | "log"
  | "user-notif";

/** An action with its 16-bit data (errno number, trap/trace value). */
export interface Action {
  kind: ActionKind;
  data?: number;
}

/** Comparison operators; "&==" is masked equality: (arg & mask) == value. */
export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "&==";

/** One argument condition as written. */
export interface Condition {
  arg: number;
  op: CmpOp;
  value: bigint;
  mask?: bigint;
  /**
   * Ordered comparisons are unsigned even on a C `int` argument, as libseccomp compares (OCI inputs, which
   * runc compiles with libseccomp); sysfence's own format compares `int` arguments signed.
   */
  unsigned?: boolean;
  /** The text the user wrote, for messages and rewriting. */
  text?: string;
  location?: SourceLocation;
}

/** One rule: for every named syscall (or member of a named @group), when all conditions hold, take action. */
export interface Rule {
  names: string[];
  action: Action;
  conditions: Condition[];
  comment?: string;
  location?: SourceLocation;
  /** Locations of each entry of `names`, same order. */
  nameLocations?: (SourceLocation | undefined)[];
}

/** A whole policy, whatever format it was read from. */
export interface Policy {
  defaultAction: Action;
  /** What a call from an architecture the policy does not name gets. */
  badArchAction: Action;
  architectures: ArchName[];
  rules: Rule[];
  /** Where it was read from, for messages. */
  source?: string;
}
