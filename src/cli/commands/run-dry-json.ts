import type { CompileResult } from "../../compile/compile.js";
import { formatAction } from "../../policy/actions.js";
import type { LandlockPlan } from "../../policy/landlock.js";
import type { Policy } from "../../policy/model.js";
import { toJson } from "../io.js";

/**
 * `run --dry-run --json`: one object — the program that would run, the filter's length in instructions, per
 * architecture the syscalls with rules (each with its answer when no argument rule matches and how many
 * argument rules it has), and the Landlock plan (null without a landlock: section).
 */
export function dryRunJson(
  resolved: string,
  command: readonly string[],
  r: CompileResult,
  policy: Policy,
  plan: LandlockPlan | undefined,
): string {
  const arches = r.resolved.arches.map((a) => ({
    arch: a.arch,
    syscallsWithRules: a.syscalls.length,
    syscalls: a.syscalls.map((s) => ({
      name: s.name,
      nr: s.nr,
      action: formatAction(s.fallback),
      argumentRules: s.conditional.length,
    })),
  }));
  return `${toJson({
    command: resolved,
    args: command.slice(1),
    instructions: r.program.length,
    defaultAction: formatAction(policy.defaultAction),
    syscallsWithRules: arches[0]?.syscallsWithRules ?? 0,
    architectures: arches,
    landlock: plan
      ? {
          abi: plan.abi,
          enforced: plan.enforced,
          pathRules: plan.paths.map((p) => ({ path: p.path, list: p.list })),
          portRules: plan.ports.map((p) => p.port),
          dropped: plan.dropped,
        }
      : null,
  })}\n`;
}
