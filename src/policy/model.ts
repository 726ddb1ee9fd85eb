import type { Action } from "../abi/action.js";
import type { SourceLocation } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";

// The policy model's actions are the kernel's (src/index.ts exports them from here, with the model).
export type { Action, ActionKind } from "../abi/action.js";

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

/**
 * Why a generated rule is there: the call was seen in a recording, is always needed, or was found by static
 * analysis (reachable but not seen), low or high risk; or answers the argument values an allowed call's rules do
 * not allow (argument-fallback: EPERM, logged); or was added by `audit --patch` from a learning run (learned).
 */
export type RuleTier =
  | "seen"
  | "always"
  | "static-low"
  | "static-confined"
  | "static-high"
  | "argument-fallback"
  | "learned";
export const RULE_TIERS: readonly RuleTier[] = [
  "seen",
  "always",
  "static-low",
  "static-confined",
  "static-high",
  "argument-fallback",
  "learned",
];

/** The part of the Landlock layer a rule relies on (files, TCP ports, signal scoping). */
export type RuleNeeds = "landlock" | "landlock-tcp" | "landlock-signal";
export const RULE_NEEDS: readonly RuleNeeds[] = ["landlock", "landlock-tcp", "landlock-signal"];

/** One rule: for every named syscall (or member of a named @group), when all conditions hold, take action. */
export interface Rule {
  names: string[];
  action: Action;
  conditions: Condition[];
  comment?: string;
  tier?: RuleTier;
  /** For a burn-in rule (action log): the answer it becomes when it never fired (generate --finalize). */
  final?: Action;
  location?: SourceLocation;
  /** Locations of each entry of `names`, same order. */
  nameLocations?: (SourceLocation | undefined)[];
  /**
   * The part of the Landlock layer the rule relies on — "landlock" (files), "landlock-tcp" (TCP ports),
   * "landlock-signal" (signal scoping): the rule applies only where that part is enforced; otherwise it is
   * dropped and the call falls to the next rule or the default (the seccomp-only fallback).
   */
  needs?: RuleNeeds;
}

/** A path in a `landlock:` list, with the line it was read from. */
export interface LandlockPath {
  path: string;
  comment?: string;
  location?: SourceLocation;
}

/** A TCP port in a `landlock:` list. */
export interface LandlockPort {
  port: number;
  comment?: string;
  location?: SourceLocation;
}

/** What Landlock can scope to the sandbox's own domain (LANDLOCK_SCOPE_*). */
export type LandlockScope = "signal" | "abstract-unix-socket";
export const LANDLOCK_SCOPES: readonly LandlockScope[] = ["signal", "abstract-unix-socket"];

/**
 * The Landlock layer (docs/policy-format.md, "landlock"): which files, executables, TCP ports and signal
 * targets the program reaches. Every list is an allow-list; an absent bindTcp/connectTcp leaves that
 * kind of network access unrestricted, an absent file list allows nothing of that kind.
 */
export interface LandlockSection {
  /** Read files and list directories beneath each path. */
  read: LandlockPath[];
  /** read, plus write, create, remove, rename, truncate beneath each path. */
  write: LandlockPath[];
  /** Execute (and read) these files, or files beneath these directories. */
  execute: LandlockPath[];
  /** Read, write and ioctl these device files. */
  devices: LandlockPath[];
  bindTcp?: LandlockPort[];
  connectTcp?: LandlockPort[];
  scope: LandlockScope[];
  comment?: string;
  location?: SourceLocation;
}

/** A whole policy, whatever format it was read from. */
export interface Policy {
  defaultAction: Action;
  /** What a call from an architecture the policy does not name gets. */
  badArchAction: Action;
  architectures: ArchName[];
  rules: Rule[];
  /** Install flags: "log" asks for SECCOMP_FILTER_FLAG_LOG (the kernel logs every action but allow). */
  flags?: "log"[];
  /** What static analysis (generate --static) looked at: the programs and its reached unknown sites. */
  analysis?: { programs: string[]; unresolved: number };
  /**
   * "work": made from the work phase only (generate --phase work) — for lockdown() or a program that installs
   * it after start-up; `run` and the launching exports refuse it (it would kill the program at start).
   */
  phase?: "work" | "all";
  /** The Landlock layer beside the seccomp filter (absent: seccomp only). */
  landlock?: LandlockSection;
  /** Where it was read from, for messages. */
  source?: string;
}
