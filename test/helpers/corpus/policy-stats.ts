// What a generated policy allows: its x86_64 share (sysfence report), its Landlock rules, and the
// privilege-class calls it allows though the recording never saw them (there must be none).
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { classOf } from "../../../src/generate/classes.js";
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
  const privilegeLeaks: string[] = [];
  for (const [name, nr] of Object.entries(syscallTable("x86_64"))) {
    if (classOf(name).cls !== "privilege" || seen.has(name)) continue;
    const byName = policy.rules.some((r) => r.names.includes(name) && r.action.kind === "allow");
    const zeroArgs = referenceDecide(policy, {
      arch: ARCHES.x86_64.audit,
      nr,
      args: [0n, 0n, 0n, 0n, 0n, 0n],
    });
    if (byName || zeroArgs.kind === "allow") privilegeLeaks.push(name);
  }
  return { allowed, known, landlockRules, privilegeLeaks };
}
