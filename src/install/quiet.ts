// The answers a policy gives on purpose, kept out of the shared kernel log. A filter installed with
// SECCOMP_FILTER_FLAG_LOG has the kernel log each of its errno answers — clone3 and io_uring ENOSYS
// included, one record for every new thread — and the kernel's printk budget (10 records per 5 s) is the
// whole machine's. The kernel logs by the filter whose action won (seccomp_log(…, match->log)): among
// equal actions the newest filter wins. So the deliberate answers are repeated in a small filter installed
// after the logging one and without the flag: they win, with the same answer, and are not logged. Pure:
// the installs are in install.ts.
import type { Insn } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import type { Policy, Rule } from "../policy/model.js";

/** A compiled program and, when its policy answers calls on purpose, the quiet filter that repeats them. */
export type Program = readonly Insn[] & { readonly quiet?: readonly Insn[] };

/**
 * The rules whose errno answers are given on purpose: an unconditional errno rule that names syscalls
 * itself (not through a @group), without a tier saying it answers what nobody saw (static-high: EPERM for
 * unseen calls; argument-fallback: values nobody saw) and without needs: — generate's clone3 and io_uring
 * ENOSYS, --errno NAME=ERRNO, a hand-written `errno` rule. A name another rule also names with conditions
 * is left out: its answer depends on the arguments, so the quiet filter could not repeat it.
 */
export function deliberateRules(policy: Policy): Rule[] {
  const conditional = new Set(policy.rules.filter((r) => r.conditions.length > 0).flatMap((r) => r.names));
  const out: Rule[] = [];
  for (const r of policy.rules) {
    if (r.action.kind !== "errno" || r.conditions.length > 0 || r.needs) continue;
    if (r.tier === "static-high" || r.tier === "argument-fallback") continue;
    const names = r.names.filter((n) => !n.startsWith("@") && !conditional.has(n));
    if (names.length) out.push({ names, action: r.action, conditions: [] });
  }
  return out;
}

/**
 * The quiet filter for `policy` (undefined when it answers nothing on purpose): its deliberate answers on
 * its architectures, every other call allowed — so it never decides anything the policy's own filter does
 * not decide the same way.
 */
export function quietProgram(policy: Policy, arches: Policy["architectures"]): Insn[] | undefined {
  const rules = deliberateRules(policy);
  if (rules.length === 0) return undefined;
  return compile(
    {
      defaultAction: { kind: "allow" },
      badArchAction: { kind: "allow" },
      architectures: arches,
      rules,
    },
    { stats: false },
  ).program;
}

/** `program` carrying its quiet filter (when there is one). */
export function withQuiet(program: readonly Insn[], quiet: readonly Insn[] | undefined): Program {
  return quiet ? Object.assign([...program], { quiet }) : program;
}
