import { SysfenceError } from "../errors.js";
import { ARCHES, type ArchName } from "../syscalls/arches.js";
import { syscallTable } from "../syscalls/table.js";
import { formatAction, sameAction } from "./actions.js";
import type { Policy } from "./model.js";
import { type Query, referenceDecide } from "./reference.js";

// The check that a policy sysfence writes (import's YAML) reads back to the decisions it was made from:
// for every architecture either names and every syscall of it, the same action for a set of argument
// values drawn from the policy's own conditions (each value, its neighbours, its mask) and the extremes.

const ONES = (1n << 64n) - 1n;

/** The argument vectors asked for one syscall: zeros, all ones, and each rule's condition values. */
function probes(policies: readonly Policy[], name: string): bigint[][] {
  const out: bigint[][] = [Array(6).fill(0n), Array(6).fill(ONES)];
  for (const p of policies)
    for (const r of p.rules) {
      if (!r.conditions.length || !(r.names.includes(name) || r.names.some((n) => n.startsWith("@"))))
        continue;
      const satisfy = Array<bigint>(6).fill(0n);
      for (const c of r.conditions) {
        const v = BigInt.asUintN(64, c.value);
        satisfy[c.arg] = v;
        for (const x of [v, v + 1n, v - 1n, BigInt.asUintN(32, v), c.mask ?? 0n, ONES ^ v]) {
          const a = Array<bigint>(6).fill(0n);
          a[c.arg] = BigInt.asUintN(64, x);
          out.push(a);
        }
      }
      out.push(satisfy);
    }
  return out;
}

/** The first call the two policies decide differently, as a sentence; undefined when they agree. */
export function firstDecisionDifference(a: Policy, b: Policy): string | undefined {
  const show = (p: Policy) => `${formatAction(p.defaultAction)} / bad arch ${formatAction(p.badArchAction)}`;
  if (!sameAction(a.defaultAction, b.defaultAction) || !sameAction(a.badArchAction, b.badArchAction))
    return `the default actions differ (${show(a)} against ${show(b)})`;
  const arches = [...new Set<ArchName>([...a.architectures, ...b.architectures])];
  const missing = arches.filter((x) => !a.architectures.includes(x) || !b.architectures.includes(x));
  if (missing.length) return `architecture ${missing.join(", ")} is in one and not the other`;
  for (const arch of arches) {
    const audit = ARCHES[arch].audit;
    for (const [name, nr] of Object.entries(syscallTable(arch)))
      for (const args of probes([a, b], name)) {
        const q: Query = { arch: audit, nr, args };
        const x = referenceDecide(a, q);
        const y = referenceDecide(b, q);
        if (!sameAction(x, y))
          return `${name}(${args.map((v) => `0x${v.toString(16)}`).join(", ")}) on ${arch} is '${formatAction(x)}' against '${formatAction(y)}'`;
      }
  }
  return undefined;
}

/** Refuses a written policy text that does not read back (through `read`) to `policy`'s decisions. */
export function checkRoundTrip(
  policy: Policy,
  text: string,
  read: (text: string) => Policy,
  source: string,
): void {
  let back: Policy;
  try {
    back = read(text);
  } catch (e) {
    throw new SysfenceError(
      "E_INTERNAL",
      `${source}: the policy sysfence wrote from it does not read back (${(e as Error).message}); nothing was written. Please report this with the input.`,
      { cause: e },
    );
  }
  const diff = firstDecisionDifference(policy, back);
  if (diff)
    throw new SysfenceError(
      "E_POLICY_INVALID",
      `${source}: the policy sysfence wrote from it reads back to other decisions: ${diff} (imported against read back), so sysfence's format cannot say this policy (an OCI ordered comparison that is unsigned on a C int argument is one such); nothing was written — compile or export the original instead.`,
    );
}
