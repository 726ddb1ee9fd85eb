import { type Diagnostic, throwIfErrors } from "../errors.js";
import type { ArchName } from "../syscalls/arches.js";
import { argWidth, isPointerArg } from "../syscalls/args.js";
import { expandGroup } from "../syscalls/groups.js";
import { syscallNumber, syscallTable } from "../syscalls/table.js";
import { formatAction, sameAction } from "./actions.js";
import { conditionForArch, formatCondition } from "./conditions.js";
import type { Action, CmpOp, Condition, Policy, Rule } from "./model.js";

/** A condition with its value reduced to the width the kernel reads on one arch. */
export interface ResolvedCondition {
  arg: number;
  op: CmpOp;
  /** Unsigned, within `bits`. */
  value: bigint;
  /** Unsigned, within `bits`; all ones unless op is "&==". */
  mask: bigint;
  bits: 16 | 32 | 64;
  /** Ordered comparisons on this argument are signed (C `int`). */
  signed: boolean;
}

/** A rule whose conditions all hold → action. */
export interface ResolvedRule {
  action: Action;
  conditions: ResolvedCondition[];
}

/** How one syscall is decided: the first conditional rule that holds, else the fallback. */
export interface SyscallDecision {
  name: string;
  nr: number;
  conditional: ResolvedRule[];
  fallback: Action;
}

/** Everything the compiler needs for one architecture. */
export interface ArchFilter {
  arch: ArchName;
  syscalls: SyscallDecision[];
}

/** A policy with names, groups, constants and widths resolved: the compiler's input. */
export interface ResolvedPolicy {
  defaultAction: Action;
  badArchAction: Action;
  arches: ArchFilter[];
  warnings: Diagnostic[];
}

const locationIds = new WeakMap<object, number>();
let nextLocationId = 1;
function locationId(loc: object | undefined): number {
  if (!loc) return 0;
  const known = locationIds.get(loc);
  if (known !== undefined) return known;
  const id = nextLocationId++;
  locationIds.set(loc, id);
  return id;
}

/**
 * The rules that can decide each syscall, by sysfence's precedence: `direct` (rules naming the syscall)
 * wins over `viaGroup` (rules reaching it through a @group) for a syscall that has both. Among the rules
 * that apply, conditional ones are tried in file order and the unconditional one is the fallback.
 */
export function indexRules(policy: Policy): { direct: Map<string, Rule[]>; viaGroup: Map<string, Rule[]> } {
  const direct = new Map<string, Rule[]>();
  const viaGroup = new Map<string, Rule[]>();
  const add = (m: Map<string, Rule[]>, k: string, r: Rule) => {
    const list = m.get(k);
    if (!list) m.set(k, [r]);
    else if (list[list.length - 1] !== r) list.push(r);
  };
  for (const r of policy.rules) {
    for (const n of r.names) {
      if (n.startsWith("@")) for (const m of members(n)) add(viaGroup, m, r);
      else add(direct, n, r);
    }
  }
  return { direct, viaGroup };
}

const groupCache = new Map<string, string[]>();
function members(g: string): string[] {
  let m = groupCache.get(g);
  if (!m) {
    m = expandGroup(g) ?? [];
    groupCache.set(g, m);
  }
  return m;
}

/** Reduces a condition's value and mask to an argument width; an error message when it does not fit. */
export function fitCondition(c: Condition, bits: 16 | 32 | 64, signed: boolean): ResolvedCondition | string {
  const fits = (v: bigint) => v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits);
  const limit = `${bits}-bit`;
  if (!fits(c.value)) return `value ${c.value} does not fit the ${limit} argument ${c.arg}`;
  if (c.mask !== undefined && !fits(c.mask))
    return `mask ${c.mask} does not fit the ${limit} argument ${c.arg}`;
  const all = (1n << BigInt(bits)) - 1n;
  return {
    arg: c.arg,
    op: c.op,
    value: BigInt.asUintN(bits, c.value),
    mask: c.op === "&==" ? BigInt.asUintN(bits, c.mask ?? 0n) : all,
    bits,
    signed,
  };
}

type Note = (d: Diagnostic) => void;

/** Names that exist on none of the target arches: their rules do not apply (one warning each, or one for all). */
function missingNameWarnings(policy: Policy, note: Note): void {
  // Names that exist nowhere were rejected by the parser; here we warn about names missing on a target arch.
  const missingEverywhere: { name: string; location?: Diagnostic["location"] }[] = [];
  for (const rule of policy.rules) {
    rule.names.forEach((n, i) => {
      if (n.startsWith("@")) return;
      if (policy.architectures.every((a) => syscallNumber(a, n) === undefined)) {
        missingEverywhere.push({ name: n, location: rule.nameLocations?.[i] ?? rule.location });
      }
    });
  }
  const targets = policy.architectures.join(", ");
  if (missingEverywhere.length > 3) {
    note({
      severity: "warning",
      message: `${missingEverywhere.length} syscalls named by the policy do not exist on ${targets}; their rules do not apply: ${missingEverywhere.map((m) => m.name).join(", ")}`,
      location: { file: policy.source ?? "policy" },
    });
  } else {
    for (const m of missingEverywhere)
      note({
        severity: "warning",
        message: `syscall '${m.name}' does not exist on ${targets}; the rule does not apply there`,
        location: m.location,
      });
  }
}

/** Conditions on pointer arguments compare the address, not the data: a warning each. */
function pointerWarnings(policy: Policy, note: Note): void {
  for (const rule of policy.rules) {
    for (const c of rule.conditions) {
      for (const n of rule.names)
        if (isPointerArg(n, c.arg))
          note({
            severity: "warning",
            message: `argument ${c.arg} of ${n} is a pointer: '${formatCondition(c)}' compares the address, not the data it points to`,
            location: c.location,
          });
    }
  }
}

/** A rule's conditions for `arch`, fitted to the argument's width there (an error each where one does not fit). */
function resolvedConditions(r: Rule, name: string, arch: ArchName, note: Note): ResolvedCondition[] {
  const conds: ResolvedCondition[] = [];
  for (const written of r.conditions) {
    const c = conditionForArch(written, arch);
    const w = argWidth(name, c.arg, arch);
    const fitted = fitCondition(c, w.bits, w.signed && !c.unsigned);
    if (typeof fitted === "string") {
      note({
        severity: "error",
        message: `${fitted} of ${name} on ${arch}`,
        location: c.location ?? r.location,
        hint:
          w.bits < 64
            ? `the kernel reads this argument as a ${w.bits}-bit ${w.signed ? "int" : "unsigned"}`
            : undefined,
      });
    } else conds.push(fitted);
  }
  return conds;
}

/** One syscall's decision on `arch` from its rules: the conditional rules in order, then the fallback. */
function decisionFor(
  policy: Policy,
  arch: ArchName,
  name: string,
  nr: number,
  rules: readonly Rule[],
  note: Note,
): SyscallDecision {
  const conditional: ResolvedRule[] = [];
  let fallback: Action | undefined;
  let fallbackRule: Rule | undefined;
  for (const r of rules) {
    if (r.conditions.length === 0) {
      // a needs: rule before a plain one: the plain one is its seccomp-only fallback, not a conflict
      const fallsBack = fallbackRule?.needs !== undefined && r.needs === undefined;
      if (fallback && !sameAction(fallback, r.action) && !fallsBack) {
        note({
          severity: "error",
          message: `conflicting actions for ${name}: '${formatAction(fallback)}' (line ${fallbackRule?.location?.line ?? "?"}) and '${formatAction(r.action)}'`,
          location: r.location,
          hint: "keep one unconditional rule per syscall, or add argument conditions",
        });
      }
      fallback ??= r.action;
      fallbackRule ??= r;
      continue;
    }
    conditional.push({ action: r.action, conditions: resolvedConditions(r, name, arch, note) });
  }
  return { name, nr, conditional, fallback: fallback ?? policy.defaultAction };
}

/** Resolves a policy for its architectures; throws E_POLICY_INVALID listing every problem. */
export function resolvePolicy(policy: Policy): ResolvedPolicy {
  const diags: Diagnostic[] = [];
  const seen = new Set<string>();
  const note = (d: Diagnostic) => {
    // Keyed by the location object, not its line: OCI locations resolve lazily (a YAML parse) when read.
    const key = `${d.severity}|${d.message}|${locationId(d.location)}`;
    if (!seen.has(key)) {
      seen.add(key);
      diags.push(d);
    }
  };
  missingNameWarnings(policy, note);
  pointerWarnings(policy, note);
  const index = indexRules(policy);
  const arches: ArchFilter[] = policy.architectures.map((arch) => {
    const table = Object.entries(syscallTable(arch));
    const syscalls: SyscallDecision[] = [];
    for (const [name, nr] of table) {
      const rules = index.direct.get(name) ?? index.viaGroup.get(name) ?? [];
      if (rules.length === 0) continue;
      syscalls.push(decisionFor(policy, arch, name, nr, rules, note));
    }
    syscalls.sort((a, b) => a.nr - b.nr);
    return { arch, syscalls };
  });
  throwIfErrors(diags, policy.source ?? "policy");
  return {
    defaultAction: policy.defaultAction,
    badArchAction: policy.badArchAction,
    arches,
    warnings: diags,
  };
}
