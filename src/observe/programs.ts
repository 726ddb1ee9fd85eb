// Whose SECCOMP records count. The kernel's log is the whole host's: every confined process on it leaves
// records there, and anyone who can write a log line can forge one. A profile or a policy is about its own
// programs, so only their records may change it: the programs named on the command line (--exe,
// --audit-exe), else the ones the profile recorded or the policy names (analysis.programs); with neither,
// nothing is taken. Everything else is counted as ignored and reported, never silently used or dropped.
import { isAbsolute, resolve } from "node:path";
import { buildIdOfFile } from "../analyze/elf.js";
import { SysfenceError } from "../errors.js";
import type { Policy } from "../policy/model.js";
import type { Profile } from "../record/profile.js";
import { exeMatches, isFromProgram, type SeccompRecord } from "./records.js";

/** A program a profile or policy is for: its absolute path, and the build-ids recorded for it. */
export interface Program {
  path: string;
  buildIds: string[];
}

/** Whose records are taken; `reject` says why a record is not, or undefined when it is. */
export interface RecordFilter {
  wanted: string;
  reject(r: SeccompRecord): string | undefined;
}

/** The programs profiles recorded (absolute paths), only those matching `only` when given (generate --exe). */
export function programsOfProfiles(profiles: readonly Profile[], only?: readonly string[]): Program[] {
  const byPath = new Map<string, Set<string>>();
  for (const p of profiles)
    for (const proc of p.processes) {
      if (!isAbsolute(proc.exe)) continue;
      if (only?.length && !only.some((o) => exeMatches(proc.exe, o))) continue;
      const ids = byPath.get(proc.exe) ?? new Set<string>();
      if (proc.buildId) ids.add(proc.buildId);
      byPath.set(proc.exe, ids);
    }
  return [...byPath].map(([path, ids]) => ({ path, buildIds: [...ids] }));
}

/** The programs a policy says it is for: analysis.programs (written by generate with static analysis). */
export function programsOfPolicy(policy: Policy): Program[] {
  return (policy.analysis?.programs ?? [])
    .filter((p) => isAbsolute(p))
    .map((path) => ({ path, buildIds: [] }));
}

/** A program named on the command line: a path (made absolute) or a file name. */
const namedProgram = (n: string, cwd: string) => (n.includes("/") && !isAbsolute(n) ? resolve(cwd, n) : n);

/**
 * The filter for records that may change a profile or policy: programs named with `option` win, else the
 * target's own programs, matched by exact path; a program whose recorded build-id is no longer the one of
 * the file at its path is another binary now, and its records are not taken. With neither, a usage error:
 * `none` says why there is no program, the error adds how to name one.
 */
export function recordFilter(o: {
  named?: readonly string[];
  target: readonly Program[];
  option: string;
  none: string;
  buildIdOf?: (path: string) => string | undefined;
  cwd?: string;
}): RecordFilter {
  if (o.named?.length) {
    const named = o.named.map((n) => namedProgram(n, o.cwd ?? process.cwd()));
    return {
      wanted: named.join(", "),
      reject: (r) => (named.some((n) => isFromProgram(r, n)) ? undefined : "another program"),
    };
  }
  if (o.target.length === 0)
    throw new SysfenceError(
      "E_USAGE",
      `${o.none}, and audit records are the whole host's (any program's, and forgeable): name the program whose records to use with ${o.option} PATH.`,
    );
  const buildIdOf = o.buildIdOf ?? buildIdOfFile;
  const changed = new Map<string, string>();
  for (const p of o.target) {
    if (p.buildIds.length === 0) continue;
    const now = buildIdOf(p.path);
    if (now !== undefined && !p.buildIds.includes(now))
      changed.set(
        p.path,
        `${p.path} is no longer the binary recorded (build-id ${now} now, ${p.buildIds.join(" or ")} recorded), so its records may be another build's`,
      );
  }
  const paths = new Set(o.target.map((p) => p.path));
  return {
    wanted: [...paths].join(", "),
    reject: (r) => {
      if (r.exe === undefined || !paths.has(r.exe)) return "another program";
      return changed.get(r.exe);
    },
  };
}
