import type { ErrorCode } from "../errors.js";

/**
 * The exit statuses of every command but `run` (which keeps the program's own and 125/126/127 for its own
 * failures): one table, shown by the README and the man page.
 */
export const EXIT = {
  ok: 0,
  /** A finding: drift (`diff`), records found (`audit`), an invalid policy (`check`), a failed run or workload. */
  finding: 1,
  /** Usage or input trouble: a bad option or value, a missing or unreadable file, an invalid policy or
   * profile, something this system cannot do (no seccomp, a refused install). */
  trouble: 2,
  /** `record`'s command was not found. */
  notFound: 127,
  /** A defect in sysfence itself (EX_SOFTWARE of sysexits.h): never 1, which reads as a finding. */
  internal: 70,
} as const;

/** The codes that are findings: everything else a command throws is trouble (E_INTERNAL: internal). */
const FINDINGS: ReadonlySet<ErrorCode> = new Set(["E_DRIFT", "E_RECORDED_FAILURE", "E_DEMO_FAILED"]);

/** What an error code means for the exit status. */
export function exitKind(code: ErrorCode): "finding" | "trouble" | "internal" {
  return FINDINGS.has(code) ? "finding" : code === "E_INTERNAL" ? "internal" : "trouble";
}

/** The table as lines "STATUS meaning" (the man page's and `--help`'s). */
export const EXIT_TABLE: [string, string][] = [
  ["0", "success"],
  [
    "1",
    "a finding: diff found drift, audit found records, check found the policy invalid, the bench workload or the demo failed",
  ],
  [
    "2",
    "usage or input trouble: a bad option or value, a missing or unreadable file, an invalid policy or profile, something this system cannot do (no seccomp, an install the kernel refused)",
  ],
  ["70", "an internal error of sysfence (a defect: please report it)"],
  ["127", "record: the command was not found (a recorded program that fails gives its own status)"],
];
