import { ARCHES, type ArchName, X32_SYSCALL_BIT } from "../syscalls/arches.js";
import { argWidth } from "../syscalls/args.js";
import { expandGroup } from "../syscalls/groups.js";
import { syscallName } from "../syscalls/table.js";
import { conditionForArch } from "./conditions.js";
import type { Action, Condition, Policy, Rule } from "./model.js";

// The reference semantics of a policy, written straight from the documentation with bigints and no BPF.
// Tests compare every compiled program against this.

/** A question to a policy: the call as the kernel presents it. */
export interface Query {
  /** AUDIT_ARCH value. */
  arch: number;
  nr: number;
  args: readonly bigint[];
}

/** The action the policy gives a call. */
export function referenceDecide(policy: Policy, q: Query): Action {
  const arch = archOfCall(policy.architectures, q.arch >>> 0, q.nr >>> 0);
  if (!arch) return policy.badArchAction;
  const name = syscallName(arch, q.nr >>> 0);
  if (!name) return policy.defaultAction;
  let rules: Rule[] = policy.rules.filter((r) => r.names.includes(name));
  if (rules.length === 0)
    rules = policy.rules.filter((r) =>
      r.names.some((n) => n.startsWith("@") && (expandGroup(n) ?? []).includes(name)),
    );
  for (const r of rules) {
    if (r.conditions.length > 0 && r.conditions.every((c) => holds(c, name, arch, q.args[c.arg] ?? 0n)))
      return r.action;
  }
  const unconditional = rules.find((r) => r.conditions.length === 0);
  return unconditional ? unconditional.action : policy.defaultAction;
}

/** Which of the policy's arches a call belongs to; undefined means "bad arch". */
function archOfCall(arches: readonly ArchName[], audit: number, nr: number): ArchName | undefined {
  for (const a of arches) {
    const info = ARCHES[a];
    if (info.audit !== audit) continue;
    if (audit === ARCHES.x86_64.audit) {
      if (nr === 0xffffffff) return a; // a tracer's skipped call: default action on either ABI
      const isX32 = nr >= X32_SYSCALL_BIT;
      if (isX32 && a === "x32") return a;
      if (!isX32 && a === "x86_64") return a;
      continue;
    }
    return a;
  }
  return undefined;
}

function holds(written: Condition, name: string, arch: ArchName, raw: bigint): boolean {
  const c = conditionForArch(written, arch);
  const w = argWidth(name, c.arg, arch);
  const bits = BigInt(w.bits);
  const view = BigInt.asUintN(w.bits, raw);
  const value = BigInt.asUintN(w.bits, c.value);
  if (c.op === "&==") return (view & BigInt.asUintN(w.bits, c.mask ?? 0n)) === value;
  if (c.op === "==") return view === value;
  if (c.op === "!=") return view !== value;
  const signed = w.signed && !c.unsigned;
  const a = signed ? BigInt.asIntN(Number(bits), view) : view;
  const b = signed ? BigInt.asIntN(Number(bits), value) : value;
  switch (c.op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}
