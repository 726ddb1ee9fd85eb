// The answers a policy gives on purpose, kept out of the shared kernel log. A filter installed with
// SECCOMP_FILTER_FLAG_LOG has the kernel log each of its errno answers — clone3 and io_uring ENOSYS
// included, one record for every new thread — and the kernel's printk budget (10 records per 5 s) is the
// whole machine's. The kernel takes the most restrictive answer over all filters and logs by the filter
// whose answer won (seccomp_log(…, match->log)). So a logging install is split in two: a quiet filter
// without the flag that gives the deliberate answers (and allows everything else), installed first, and
// the policy's own program with those calls allowed (`loud`), installed after it with the flag. Every call
// gets the policy's answer; only the deliberate ones come from the quiet filter, unlogged. The quiet filter
// goes first because the policy need not allow the seccomp() call that would install it after. Pure: the
// installs are in install.ts.
import type { Insn } from "../bpf/insn.js";
import { compile } from "../compile/compile.js";
import type { Policy, Rule } from "../policy/model.js";

/**
 * A compiled program and, when its policy answers calls on purpose, the pair a logging install uses
 * instead: `quiet` (the deliberate answers, everything else allowed) and `loud` (the program with those
 * calls allowed).
 */
export type Program = readonly Insn[] & { readonly split?: Split };

/** The two filters of a logging install (see the file's head). */
export interface Split {
  quiet: readonly Insn[];
  loud: readonly Insn[];
}

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
 * The split of `policy` (undefined when it answers nothing on purpose), compiled with `options` as its own
 * program is: the quiet filter answers the deliberate calls on its architectures and allows every other
 * call; the loud one is the policy with those calls allowed.
 */
export function splitProgram(
  policy: Policy,
  compileOptions: Parameters<typeof compile>[1],
): Split | undefined {
  const deliberate = deliberateRules(policy);
  if (deliberate.length === 0) return undefined;
  const names = new Set(deliberate.flatMap((r) => r.names));
  const quiet = compile(
    {
      defaultAction: { kind: "allow" },
      badArchAction: { kind: "allow" },
      architectures: policy.architectures,
      rules: deliberate,
    },
    { stats: false },
  ).program;
  const rest = policy.rules
    .map((r) =>
      r.conditions.length === 0 && r.action.kind === "errno"
        ? { ...r, names: r.names.filter((n) => !names.has(n)) }
        : r,
    )
    .filter((r) => r.names.length > 0);
  const loud = compile(
    { ...policy, rules: [...rest, { names: [...names], action: { kind: "allow" }, conditions: [] }] },
    compileOptions,
  ).program;
  return { quiet, loud };
}

/** `program` carrying its split (when there is one). */
export function withSplit(program: readonly Insn[], split: Split | undefined): Program {
  return split ? Object.assign([...program], { split }) : program;
}
