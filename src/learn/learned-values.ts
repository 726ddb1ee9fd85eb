// The argument values of a learned call in the shape of the policy's own rules for it: which arguments and
// operators, the combinations as argument vectors, the reference evaluator's answer, the rule text.
import { nameValue } from "../generate/symbols.js";
import type { Policy, Rule } from "../policy/model.js";
import { referenceDecide } from "../policy/reference.js";
import { INTERESTING_ARGS } from "../record/profile.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallNumber } from "../syscalls/table.js";

/** The most value combinations one learned call adds (past it, the call is left for a person). */
export const MAX_COMBINATIONS = 64;

/** The condition shape of a policy's own argument rules for a call: which arguments, which operator. */
export type Shape = { arg: number; op: "==" | "&=="; mask?: bigint }[];

export function shapeOf(rules: readonly Rule[], name: string): Shape {
  const own = rules.find((r) => r.action.kind === "allow" && r.conditions.length > 0);
  if (own)
    return own.conditions.map((c) =>
      c.op === "&==" ? { arg: c.arg, op: "&==" as const, mask: c.mask } : { arg: c.arg, op: "==" as const },
    );
  return (INTERESTING_ARGS[name] ?? []).map((arg) => ({ arg, op: "==" as const }));
}

/** The argument vector of a combination (other arguments zero). */
export const argsOf = (shape: Shape, combo: readonly bigint[]): bigint[] => {
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  shape.forEach((s, i) => {
    args[s.arg] = combo[i];
  });
  return args;
};

export const allows = (policy: Policy, arch: ArchName, name: string, args: bigint[]): boolean => {
  const nr = syscallNumber(arch, name);
  return nr !== undefined && referenceDecide(policy, { arch: ARCHES[arch].audit, nr, args }).kind === "allow";
};

/** A rule text for the YAML: arguments as names a reader knows where they parse back exactly. */
export function conditionText(
  name: string,
  s: Shape[number],
  v: bigint,
  all: bigint[],
  arch: ArchName,
): string {
  const value = s.op === "&==" ? v & (s.mask ?? 0n) : v;
  const shown = nameValue(name, s.arg, value, all, arch);
  return s.op === "&=="
    ? `arg${s.arg} & 0x${(s.mask ?? 0n).toString(16)} == ${shown}`
    : `arg${s.arg} == ${shown}`;
}
