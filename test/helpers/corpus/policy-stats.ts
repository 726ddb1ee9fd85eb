// What a generated policy allows: its x86_64 share (sysfence report), its Landlock rules, and the calls it
// allows though the recording never saw them where it must not (there must be none): privilege-class calls,
// seccomp-only calls (Landlock cannot judge them), and — with the Landlock layer missing (an export, an old
// kernel, lockdown() beside other threads) — any call but the low-risk ones.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { classOf } from "../../../src/generate/classes.js";
import { seccompPolicyFor } from "../../../src/policy/landlock.js";
import type { Policy } from "../../../src/policy/model.js";
import { parsePolicy } from "../../../src/policy/parse.js";
import { referenceDecide } from "../../../src/policy/reference.js";
import type { Profile } from "../../../src/record/profile.js";
import { ARCHES } from "../../../src/syscalls/arches.js";
import { syscallTable } from "../../../src/syscalls/table.js";
import { exec } from "./types.js";

export interface PolicyStats {
  allowed: number;
  known: number;
  /** Entries of the policy's `landlock:` section (0 when it has none). */
  landlockRules: number;
  /** Privilege-class x86_64 calls the policy allows though the profile never saw them. */
  privilegeLeaks: string[];
  /** Seccomp-only x86_64 calls (chmod, chown, utime, xattr … families) allowed though never seen. */
  seccompOnlyLeaks: string[];
  /** Calls above the low-risk class allowed though never seen once the Landlock layer is missing (its fallback). */
  fallbackLeaks: string[];
}

/** Counts the rules of a `landlock:` section whatever its shape: list items, or the lists of a map. */
function countLandlock(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === "object") return Object.values(v).reduce((n: number, x) => n + countLandlock(x), 0);
  return 0;
}

export function policyStats(cli: string[], policyFile: string, profileFile: string): PolicyStats {
  const rep = exec([...cli, "report", policyFile, "--format", "json"]);
  if (rep.status !== 0) throw new Error(`sysfence report ${policyFile}: ${rep.stderr}`);
  const { allowed, known } = JSON.parse(rep.stdout) as { allowed: number; known: number };
  const text = readFileSync(policyFile, "utf8");
  const landlockRules = countLandlock((parseYaml(text) as Record<string, unknown>).landlock);
  const policy = parsePolicy(text, { file: policyFile }).policy;
  const seen = new Set(Object.keys((JSON.parse(readFileSync(profileFile, "utf8")) as Profile).syscalls));
  const fallback = seccompPolicyFor(policy, false);
  const privilegeLeaks: string[] = [];
  const seccompOnlyLeaks: string[] = [];
  const fallbackLeaks: string[] = [];
  for (const [name, nr] of Object.entries(syscallTable("x86_64"))) {
    const { cls } = classOf(name);
    if (cls === "low" || seen.has(name)) continue;
    if (cls === "privilege" && allows(policy, name, nr, true)) privilegeLeaks.push(name);
    if (cls === "seccomp-only" && allows(policy, name, nr, false)) seccompOnlyLeaks.push(name);
    if (allows(fallback, name, nr, false)) fallbackLeaks.push(`${name} (${cls})`);
  }
  return { allowed, known, landlockRules, privilegeLeaks, seccompOnlyLeaks, fallbackLeaks };
}

/**
 * Whether the policy lets the call through: with all-zero arguments, or (`anyRule`) by any allow rule
 * naming it; otherwise by an allow rule without conditions (an argument rule allows only its values).
 */
function allows(policy: Policy, name: string, nr: number, anyRule: boolean): boolean {
  const byName = policy.rules.some(
    (r) => r.names.includes(name) && r.action.kind === "allow" && (anyRule || r.conditions.length === 0),
  );
  const zeroArgs = referenceDecide(policy, { arch: ARCHES.x86_64.audit, nr, args: [0n, 0n, 0n, 0n, 0n, 0n] });
  return byName || zeroArgs.kind === "allow";
}
