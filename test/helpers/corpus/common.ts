// What the corpus flows share: results, sysfence's command line, scratch directories, generating, comparing.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AS_NOBODY, CLI_PATH, nobodyRoot } from "../cli.js";
import { type PolicyStats, policyStats } from "./policy-stats.js";
import { exec, type Program } from "./types.js";

/** How one use went under the policy. */
export interface UseResult {
  name: string;
  todo?: string;
  /** Killed (SIGSYS, rc 159, or a kill/trap SECCOMP record). */
  killed: boolean;
  /** What differs from the same use untraced; undefined when nothing does. */
  problem?: string;
  /** The calls behind a problem: strace's failing calls and the kernel's SECCOMP records. */
  calls: string[];
}

export interface ProgramResult {
  name: string;
  kind: Program["kind"];
  /** A failure to record or generate (then there are no uses). */
  error?: string;
  stats?: PolicyStats;
  uses: UseResult[];
  /** Calls the policy answered with an errno (SECCOMP records) during the uses, failing or not. */
  errnoAnswers?: string[];
}

/** sysfence's command line (as nobody: setpriv and a copy nobody can read). */
export const cliPrefix = (asNobody?: boolean) =>
  asNobody
    ? [...AS_NOBODY, process.execPath, `${nobodyRoot()}dist/src/cli/main.js`]
    : [process.execPath, CLI_PATH];

/** A fresh, empty directory every user can enter (daemons may run as nobody). */
export function scratch(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `sysfence-corpus-${label.replace(/[^\w.-]+/g, "-")}-`));
  exec(["chmod", "755", d]);
  return d;
}

/** Generates with the defaults from `profile`; the policy's stats or an error. */
export function generate(
  cli: string[],
  profile: string,
  policy: string,
): { stats?: PolicyStats; error?: string } {
  const gen = exec([...cli, "generate", profile, "-o", policy], { timeout: 120_000 });
  if (gen.status !== 0) return { error: `sysfence generate exited ${gen.status}: ${gen.stderr.trim()}` };
  return { stats: policyStats(cli, policy, profile) };
}

/** How an outcome under the policy differs from the untraced one, or undefined. */
export function compare(plain: string, policy: string, stderr: string): string | undefined {
  if (plain === policy) return undefined;
  const first = (s: string) => s.split("\n")[0];
  if (first(plain) !== first(policy))
    return `${first(policy)} (untraced: ${first(plain)})${stderr ? `; stderr: ${stderr.trim().slice(0, 200)}` : ""}`;
  return `output differs: ${JSON.stringify(policy.slice(0, 200))} (untraced: ${JSON.stringify(plain.slice(0, 200))})`;
}

/** A one-line account of a use's failure, for test messages and the bench table. */
export const describeUse = (u: UseResult) =>
  u.problem ? `${u.name}: ${u.problem}${u.calls.length ? `\n    ${u.calls.join("\n    ")}` : ""}` : "";
