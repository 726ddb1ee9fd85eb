import { formatAction, sameAction } from "../policy/actions.js";
import { MULTIPLEXING_ARCHES, SOCKETCALL_SUBCALLS, subcallOf } from "../policy/libseccomp-semantics.js";
import type { Condition, Policy, Rule } from "../policy/model.js";
import { libseccompCondition, planSyscalls, type SyscallPlan } from "./shared.js";

// A call's argument rules with an unconditional answer of their own for every other value (a generated
// policy's argument fallback: EPERM) mean "first matching rule, else that answer". libseccomp cannot say
// that: an unconditional rule for a call wins over its argument rules, and it compares each argument once per
// rule (seccomp_rule_add(3)), so "not one of these values" is no rule of its own. What it can say is the
// complement itself: the values no argument rule matches, split into disjoint blocks — each one rule of
// masked equalities ((arg & mask) == value, one per argument) with the fallback's answer. The blocks never
// overlap an argument rule, so how libseccomp orders rules of different actions for one call (it documents
// no order: seccomp/libseccomp#118) never matters.

/** One masked equality per argument (mask 0: any value): the values of arguments 0–5 that match. */
export type Cube = { mask: bigint; value: bigint }[];

/** Above this many blocks for one call the export keeps today's answer (the default) and says so. */
export const MAX_COMPLEMENT_RULES = 256;
/** Above this many blocks for the whole policy, the largest complements are left out the same way. */
export const MAX_COMPLEMENT_TOTAL = 640;
/** Splits explored before giving up (blocks overlapping many rules can take many splits). */
const MAX_STEPS = 200_000;
const ALL64 = (1n << 64n) - 1n;

/** int63: the format holds values as int64 from 0 (Kubernetes' SeccompProfile): no mask or value with bit 63. */
export interface ComplementOptions {
  int63?: boolean;
}

const anyValue = (): Cube => Array.from({ length: 6 }, () => ({ mask: 0n, value: 0n }));

/**
 * The rule's conditions as the export writes them (libseccompCondition), as one block; undefined when they are
 * not all equalities or masked equalities, or repeat an argument (runc would OR those).
 */
export function cubeOf(policy: Policy, r: Rule): Cube | undefined {
  const cube = anyValue();
  const seen = new Set<number>();
  for (const c of r.conditions) {
    if (seen.has(c.arg) || c.arg < 0 || c.arg > 5) return undefined;
    seen.add(c.arg);
    const l = libseccompCondition(policy, r, c);
    if (l.op === "EQ") cube[c.arg] = { mask: ALL64, value: l.a };
    else if (l.op === "MASKED_EQ" && (l.b & ~l.a) === 0n) cube[c.arg] = { mask: l.a, value: l.b };
    else return undefined;
  }
  return cube;
}

const covers = (region: Cube, c: Cube) => c.every((x, i) => (x.mask & ~region[i].mask) === 0n);

/**
 * The bit to split on: one every live block fixes to the same value first (one side is then wholly outside
 * them: a single block), else the bit the most live blocks fix.
 */
function chooseBit(region: Cube, live: Cube[]): [number, bigint] {
  let best: [number, bigint] | undefined;
  let bestCount = -1;
  for (let arg = 0; arg < 6; arg++) {
    let open = 0n;
    for (const c of live) open |= c[arg].mask & ~region[arg].mask;
    for (let bit = 63n; bit >= 0n; bit--) {
      const b = 1n << bit;
      if ((open & b) === 0n) continue;
      let count = 0;
      let ones = 0;
      for (const c of live)
        if (c[arg].mask & b) {
          count++;
          if (c[arg].value & b) ones++;
        }
      if (count === live.length && (ones === 0 || ones === count)) return [arg, b];
      if (count > bestCount) {
        best = [arg, b];
        bestCount = count;
      }
    }
  }
  return best as [number, bigint];
}

/** Two disjoint blocks that differ in one fixed bit only are one block with that bit free. */
function mergeNeighbours(blocks: Cube[]): Cube[] {
  let merged = true;
  while (merged) {
    merged = false;
    outer: for (let i = 0; i < blocks.length; i++)
      for (let j = i + 1; j < blocks.length; j++) {
        const a = blocks[i];
        const b = blocks[j];
        if (!a.every((x, k) => x.mask === b[k].mask)) continue;
        const diff = a.map((x, k) => x.value ^ b[k].value);
        const at = diff.findIndex((d) => d !== 0n);
        if (at < 0 || diff.some((d, k) => k !== at && d !== 0n)) continue;
        const d = diff[at];
        if ((d & (d - 1n)) !== 0n) continue;
        blocks[i] = a.map((x, k) => (k === at ? { mask: x.mask & ~d, value: x.value & ~d } : x));
        blocks.splice(j, 1);
        merged = true;
        break outer;
      }
  }
  return blocks;
}

const disjoint = (a: Cube, b: Cube) => a.some((x, i) => ((x.value ^ b[i].value) & x.mask & b[i].mask) !== 0n);
const within = (a: Cube, b: Cube) =>
  b.every((y, i) => (y.mask & ~a[i].mask) === 0n && ((a[i].value ^ y.value) & y.mask) === 0n);

/**
 * Each block grown by every fixed bit it can free while still matching none of `cubes`, then the blocks
 * another one holds left out: fewer, wider rules, which may overlap each other (same answer) but never `cubes`.
 */
function widen(blocks: Cube[], cubes: Cube[]): Cube[] {
  const wide = blocks.map((b) => {
    const w = b.map((x) => ({ ...x }));
    for (let arg = 0; arg < 6; arg++)
      for (let bit = 0n; bit < 64n; bit++) {
        const m = 1n << bit;
        if ((w[arg].mask & m) === 0n) continue;
        const freed = w.map((x, i) => (i === arg ? { mask: x.mask & ~m, value: x.value & ~m } : x));
        if (cubes.every((c) => disjoint(freed, c))) w[arg] = freed[arg];
      }
    return w;
  });
  return wide.filter((b, i) => !wide.some((o, j) => j !== i && within(b, o) && (!within(o, b) || j < i)));
}

/**
 * The values no block of `cubes` matches, as blocks none of which overlaps any of `cubes`; undefined when
 * that takes more than `limit` blocks. Only bits some block fixes are split on: the others decide nothing.
 */
export function complementCubes(cubes: Cube[], limit = MAX_COMPLEMENT_RULES): Cube[] | undefined {
  const out: Cube[] = [];
  let steps = 0;
  const split = (region: Cube, live: Cube[]): boolean => {
    if (++steps > MAX_STEPS) return false;
    if (live.length === 0) {
      out.push(region);
      return out.length <= limit * 4; // merging shrinks it; the limit is checked after
    }
    if (live.some((c) => covers(region, c))) return true;
    const [arg, b] = chooseBit(region, live);
    for (const side of [0n, b]) {
      const r = region.map((x, i) => (i === arg ? { mask: x.mask | b, value: x.value | side } : x));
      const l = live.filter((c) => (c[arg].mask & b) === 0n || (c[arg].value & b) === side);
      if (!split(r, l)) return false;
    }
    return true;
  };
  if (!split(anyValue(), cubes)) return undefined;
  const blocks = widen(mergeNeighbours(out), cubes);
  return blocks.length <= limit ? blocks : undefined;
}

/** A block as conditions (arg & mask == value), written in hex. */
function conditionsOf(block: Cube): Condition[] {
  const out: Condition[] = [];
  block.forEach(({ mask, value }, arg) => {
    if (mask !== 0n)
      out.push({
        arg,
        op: "&==",
        mask,
        value,
        unsigned: true,
        text: `arg${arg} & 0x${mask.toString(16)} == 0x${value.toString(16)}`,
      });
  });
  return out;
}

/**
 * The rules that give `plan`'s unconditional answer to exactly the values none of its argument rules match;
 * a reason instead when the rules are not all (masked) equalities or the blocks would be too many.
 */
export function fallbackComplement(
  policy: Policy,
  plan: SyscallPlan,
  o: ComplementOptions = {},
): { rules: Rule[] } | { reason: string } {
  const fallback = plan.fallback;
  if (!fallback || plan.conditional.length === 0) return { rules: [] };
  const multiplexed = policy.architectures.filter((a) => MULTIPLEXING_ARCHES.includes(a));
  if (multiplexed.length && subcallOf(plan.name) !== undefined)
    return {
      reason: `on ${multiplexed.join(", ")} libseccomp also writes its rules on ${Object.hasOwn(SOCKETCALL_SUBCALLS, plan.name) ? "socketcall" : "ipc"}(2), where they lose their argument comparisons and an allow and an EPERM rule for the same sub-call conflict (libseccomp refuses the filter: EEXIST)`,
    };
  const cubes: Cube[] = [];
  for (const r of plan.conditional) {
    const c = cubeOf(policy, r);
    if (!c)
      return {
        reason: `its argument rules are not all equalities or masked equalities on distinct arguments`,
      };
    cubes.push(c);
  }
  const blocks = complementCubes(cubes);
  if (!blocks) return { reason: `their complement takes more than ${MAX_COMPLEMENT_RULES} masked rules` };
  if (o.int63 && blocks.some((b) => b.some((x) => x.mask >> 63n !== 0n)))
    return {
      reason:
        "their complement compares bit 63 of a 64-bit argument, beyond the SeccompProfile CRD's int64 values",
    };
  return {
    rules: blocks.map((b, i) => ({
      names: [plan.name],
      action: fallback,
      conditions: conditionsOf(b),
      ...(plan.fallbackRule?.tier ? { tier: plan.fallbackRule.tier } : {}),
      ...(i === 0
        ? {
            comment: `${plan.name}: the argument values its other rules do not allow — ${formatAction(fallback)} (${blocks.length} masked rule${blocks.length === 1 ? "" : "s"}, disjoint from those rules)`,
          }
        : {}),
    })),
  };
}

/**
 * Each call's complement (or why it has none) for the plans whose argument rules sit beside an unconditional
 * answer other than the default. The smallest first, up to MAX_COMPLEMENT_TOTAL rules for the whole policy:
 * libseccomp's program grows with them (sqlite3's generated policy: 284 such rules, 338 → 1269 instructions,
 * most for the two-argument socket and setsockopt ones), and the kernel takes no filter over 4096.
 */
function complements(
  policy: Policy,
  plans: SyscallPlan[],
  o: ComplementOptions,
): Map<string, { rules: Rule[] } | { reason: string }> {
  const out = new Map<string, { rules: Rule[] } | { reason: string }>();
  for (const p of plans)
    if (p.conditional.length && p.fallback && !sameAction(p.fallback, policy.defaultAction))
      out.set(p.name, fallbackComplement(policy, p, o));
  let total = 0;
  const sized = [...out].filter(([, c]) => "rules" in c) as [string, { rules: Rule[] }][];
  for (const [name, c] of sized.sort((a, b) => a[1].rules.length - b[1].rules.length)) {
    total += c.rules.length;
    if (total > MAX_COMPLEMENT_TOTAL)
      out.set(name, {
        reason: `the policy's complements together would take more than ${MAX_COMPLEMENT_TOTAL} masked rules (libseccomp's filter would near the kernel's 4096 instructions)`,
      });
  }
  return out;
}

/**
 * Per-syscall plans for a libseccomp engine: a call whose argument rules sit beside an unconditional answer
 * other than the default gets that answer as its argument rules' complement (`complement`), where it can.
 */
export function libseccompPlans(policy: Policy, o: ComplementOptions = {}): SyscallPlan[] {
  const plans = planSyscalls(policy);
  const c = complements(policy, plans, o);
  return plans.map((p) => {
    const x = c.get(p.name);
    return x && "rules" in x ? { ...p, complement: x.rules } : p;
  });
}

/** True when a libseccomp export of `policy` decides `name` as sysfence does with respect to its fallback. */
export function canComplement(policy: Policy, name: string, int63 = false): boolean {
  const p = libseccompPlans(policy, { int63 }).find((x) => x.name === name);
  return (
    !p?.fallback || !p.conditional.length || sameAction(p.fallback, policy.defaultAction) || !!p.complement
  );
}

/**
 * A generated policy's argument-fallback rules (EPERM for the values its argument rules do not allow) that no
 * complement can carry (libseccompPlans), taken out for libseccomp-based engines: kept, the unconditional rule
 * would win over the argument rules and refuse the allowed values too. Those values then get the default
 * action (never a wider answer); `dropped` names the calls, `why` says why for each.
 */
export function withoutArgumentFallbacks(
  policy: Policy,
  o: ComplementOptions = {},
): {
  policy: Policy;
  dropped: string[];
  why: Record<string, string>;
} {
  const fallback = policy.rules.filter((r) => r.tier === "argument-fallback" && r.conditions.length === 0);
  if (fallback.length === 0) return { policy, dropped: [], why: {} };
  const why: Record<string, string> = {};
  const plans = planSyscalls(policy);
  const c = complements(policy, plans, o);
  for (const p of plans) {
    const x = c.get(p.name);
    if (p.fallbackRule && fallback.includes(p.fallbackRule) && x && "reason" in x) why[p.name] = x.reason;
  }
  const drop = fallback.filter((r) => r.names.some((n) => why[n] !== undefined));
  if (drop.length === 0) return { policy, dropped: [], why };
  return {
    policy: { ...policy, rules: policy.rules.filter((r) => !drop.includes(r)) },
    dropped: [...new Set(drop.flatMap((r) => r.names))],
    why,
  };
}
