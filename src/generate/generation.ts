// The shapes of a generation: its options, its result, and the state the steps of generatePolicy share.
import type { Action, Policy, Rule } from "../policy/model.js";
import type { Profile } from "../record/profile.js";
import type { ArchName } from "../syscalls/arches.js";
import type { FileFacts } from "./file-layer.js";
import type { SelectedCalls, Selection } from "./select.js";
import type { ArgsMode } from "./tighten.js";

/** Options of `sysfence generate`. */
export interface GenerateOptions extends Selection {
  args?: ArgsMode;
  defaultAction?: Action;
  /** Calls answered with an errno instead of allowed (--errno NAME=ERRNO). */
  errno?: Record<string, number>;
  /** Allow clone3 (its flags live in memory, so no argument rule can hold it). */
  allowClone3?: boolean;
  /** Profile file names, for the header. */
  sources?: string[];
  /** Static analysis of the recorded executables (sysfence analyze): reachable call → why. */
  reachable?: Map<string, string[]>;
  /** Reached syscall sites whose number the analysis could not find (for the header and report). */
  unresolved?: number;
  /** The executables analysed. */
  programs?: string[];
  /** What a reachable, unseen, high-risk call gets: errno EPERM (default), log (burn-in) or kill. */
  unseen?: "errno" | "log" | "kill";
  /**
   * The machine's answers for the Landlock file layer (file-layer.ts), built from the profiles' path uses;
   * absent: no file layer (the confined calls keep their seccomp-only answer).
   */
  files?: FileFacts;
  /** Directories the file layer lets the program write in besides those it wrote in (--writable). */
  writable?: string[];
  /** Directories the file layer lets the program read besides what it read (--readable). */
  readable?: string[];
  /** No TCP bind rule in the file layer (--any-bind-port): the program may listen on any port. */
  anyBindPort?: boolean;
  /**
   * Allow UDP sockets over IPv4 and IPv6 as if the recording had made one (--allow-udp): for a program
   * recorded without a DNS lookup. Landlock does not confine where datagrams go.
   */
  allowUdp?: boolean;
}

/** The result: the policy, its YAML text and what the user should read. */
export interface GeneratedPolicy {
  policy: Policy;
  text: string;
  phase: "work" | "all";
  notes: string[];
  warnings: string[];
  stats: {
    allowed: number;
    known: number;
    argRestricted: string[];
    errno: string[];
    /** Per tier: how many syscalls. */
    tiers: Record<string, number>;
  };
}

/** One generation in progress: the selection, the options, and the rules and words gathered so far. */
export interface Generation {
  profiles: readonly Profile[];
  o: GenerateOptions;
  sel: SelectedCalls;
  arch: ArchName;
  mode: ArgsMode;
  warnings: string[];
  notes: string[];
  errnoRules: Rule[];
  allowRules: Rule[];
  /** What an argument-restricted call gets for the values its rules do not allow. */
  fallbackRules: Rule[];
  argRestricted: string[];
  answered: Set<string>;
}
