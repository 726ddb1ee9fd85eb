import { type Diagnostic, formatLocation, SysfenceError } from "../errors.js";
import { formatAction, sameAction } from "../policy/actions.js";
import { archDependentNames, conditionForArch, formatCondition } from "../policy/conditions.js";
import type { Action, Condition, Policy, Rule } from "../policy/model.js";
import { indexRules } from "../policy/resolve.js";
import { argWidth } from "../syscalls/args.js";
import { syscallNumber } from "../syscalls/table.js";
import { isLauncherRule } from "./launchers.js";

/** What every exporter returns: the text, and a warning for everything the format cannot express. */
export interface ExportResult {
  text: string;
  warnings: Diagnostic[];
}

/** How one syscall is decided, by sysfence's precedence, before any format-specific lowering. */
export interface SyscallPlan {
  name: string;
  conditional: Rule[];
  fallback?: Action;
  /** The rule that gives `fallback`. */
  fallbackRule?: Rule;
  /**
   * libseccomp engines: rules giving `fallback` to exactly the values no conditional rule matches, written
   * instead of the unconditional rule (complement.ts).
   */
  complement?: Rule[];
}

/** Per-syscall plans for every syscall a rule reaches on at least one of the policy's arches. */
export function planSyscalls(policy: Policy): SyscallPlan[] {
  const { direct, viaGroup } = indexRules(policy);
  const names = new Set([...direct.keys(), ...viaGroup.keys()]);
  const plans: SyscallPlan[] = [];
  for (const name of [...names].sort()) {
    if (!policy.architectures.some((a) => syscallNumber(a, name) !== undefined)) continue;
    const rules = direct.get(name) ?? viaGroup.get(name) ?? [];
    const conditional = rules.filter((r) => r.conditions.length > 0);
    const fallbackRule = rules.find((r) => r.conditions.length === 0);
    plans.push({ name, conditional, fallback: fallbackRule?.action, fallbackRule });
  }
  return plans;
}

/** Groups syscalls that share one unconditional action (not the default) into one entry each. */
export function unconditionalGroups(
  plans: SyscallPlan[],
  defaultAction: Action,
): { action: Action; names: string[]; comment?: string }[] {
  const out: { action: Action; names: string[]; comment?: string }[] = [];
  for (const p of plans) {
    if (!p.fallback || p.complement || sameAction(p.fallback, defaultAction)) continue;
    // launcher rules stay entries of their own, with their comment
    const comment = p.fallbackRule && isLauncherRule(p.fallbackRule) ? p.fallbackRule.comment : undefined;
    const g = out.find((x) => sameAction(x.action, p.fallback!) && x.comment === comment);
    if (g) g.names.push(p.name);
    else out.push({ action: p.fallback, names: [p.name], ...(comment ? { comment } : {}) });
  }
  return out;
}

/**
 * Warnings for what libseccomp-based engines (libseccomp C, Docker/OCI/runc, Kubernetes) decide
 * differently from sysfence: an unconditional rule swallows the conditional ones for the same syscall;
 * they compare all 64 bits of 32-bit arguments; SCMP_ACT_TRAP has no data; runc ORs conditions that repeat an
 * argument index.
 */
export function libseccompCaveats(policy: Policy, plans: SyscallPlan[], engine: string): Diagnostic[] {
  const w: Diagnostic[] = [];
  const warn = (message: string, rule?: Rule) =>
    w.push({ severity: "warning", message: `${engine}: ${message}`, location: rule?.location });
  if (policy.flags?.includes("log") && engine !== "libseccomp-c")
    warn(
      "the policy's flags: [log] (SECCOMP_FILTER_FLAG_LOG) is not carried: Debian's runc 1.1 rejects linux.seccomp.flags, so errno answers are not logged under this engine",
    );
  for (const p of plans) {
    if (
      p.conditional.length &&
      p.fallback &&
      !p.complement &&
      !sameAction(p.fallback, policy.defaultAction)
    ) {
      warn(
        `${p.name} has argument rules and an unconditional '${formatAction(p.fallback)}'; libseccomp lets the unconditional rule win, so the argument rules do not apply`,
        p.conditional[0],
      );
    }
    const actions = new Set(p.conditional.map((r) => formatAction(r.action)));
    if (actions.size > 1)
      warn(
        `${p.name} has argument rules with different actions (${[...actions].join(", ")}); libseccomp does not try them in file order`,
        p.conditional[0],
      );
  }
  refuseArchDependentValues(policy, engine);
  for (const r of policy.rules) {
    if (r.action.kind === "trap" && r.action.data)
      warn(`'trap ${r.action.data}' loses its data (SCMP_ACT_TRAP has none)`, r);
    const seen = new Set<number>();
    for (const c of r.conditions) {
      if (seen.has(c.arg) && engine !== "libseccomp-c")
        warn(`two conditions on argument ${c.arg} in one rule are OR-ed by runc, not AND-ed`, r);
      seen.add(c.arg);
      if (narrowOnSomeArch(policy, r, c) && c.op !== "==" && c.op !== "&==") {
        warn(
          `'${formatCondition(c)}' compares all 64 bits of a 32-bit argument; a caller can set the upper half`,
          r,
        );
      }
    }
  }
  return w;
}

/**
 * A format with one value per condition for all its architectures cannot carry a name whose value
 * differs between them: the profile would compare x86_64's number on ppc64le. Refused, not warned: what
 * would be enforced is another filter than the file's, on some architecture.
 */
export function refuseArchDependentValues(policy: Policy, engine: string): void {
  for (const r of policy.rules)
    for (const c of r.conditions) {
      const names = archDependentNames(c, policy.architectures);
      if (names.length === 0) continue;
      const where = r.location ? `${formatLocation(c.location ?? r.location)}: ` : "";
      throw new SysfenceError(
        "E_USAGE",
        `${where}${engine}: '${c.text}' (${r.names.join(", ")}) means different values on ${policy.architectures.join(", ")} (${names.join(", ")}), and this format carries one value per condition for all its architectures; export one policy per architecture (architectures: [${policy.architectures[0]}], …), or use the bpf export, which compiles each architecture apart.`,
      );
    }
}

/** True when the condition's argument is narrower than 64 bits for one of the rule's syscalls. */
export function narrowOnSomeArch(policy: Policy, r: Rule, c: Condition): boolean {
  return r.names.some(
    (n) => !n.startsWith("@") && policy.architectures.some((a) => argWidth(n, c.arg, a).bits < 64),
  );
}

/** A condition in libseccomp terms: 32-bit == becomes masked equality on the low word (exact, like the kernel). */
export function libseccompCondition(
  policy: Policy,
  r: Rule,
  c: Condition,
): { op: string; a: bigint; b: bigint } {
  // (names resolved for the policy's architectures: refuseArchDependentValues made sure they agree)
  if (policy.architectures.length) c = conditionForArch(c, policy.architectures[0]);
  const narrow = narrowOnSomeArch(policy, r, c);
  const u64 = (v: bigint) => BigInt.asUintN(64, v);
  const u32 = (v: bigint) => BigInt.asUintN(32, v);
  if (narrow && c.op === "==") return { op: "MASKED_EQ", a: 0xffffffffn, b: u32(c.value) };
  if (narrow && c.op === "&==") return { op: "MASKED_EQ", a: u32(c.mask ?? 0n), b: u32(c.value) };
  if (c.op === "&==") return { op: "MASKED_EQ", a: u64(c.mask ?? 0n), b: u64(c.value) };
  const ops: Record<string, string> = {
    "==": "EQ",
    "!=": "NE",
    "<": "LT",
    "<=": "LE",
    ">": "GT",
    ">=": "GE",
  };
  return { op: ops[c.op], a: narrow ? u32(c.value) : u64(c.value), b: 0n };
}
