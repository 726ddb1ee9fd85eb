// The argument values a recording saw together (profile.ts `combos`), for the rules of calls whose
// arguments only mean something together: socket's family, type and protocol; setsockopt's level and option.
import { INTERESTING_ARGS } from "../record/profile.js";
import type { ArchName } from "../syscalls/arches.js";
import { ascending } from "../util/order.js";
import type { SeenCall } from "./select.js";
import { parseArgValue } from "./symbols.js";

/** One pinned argument: its index, the mask its value is compared under, its values seen (masked, sorted). */
export interface PinnedArg {
  arg: number;
  mask?: bigint;
  values: readonly bigint[];
}

/** What a recording says about the values of several pinned arguments. */
export interface SeenTogether {
  /** The combinations seen together (masked), each in the pins' order, distinct and sorted. */
  together: bigint[][];
  /**
   * Per pin, the values of calls no combination stands for (a profile written before combinations, an
   * audit log, an entry without them merged in, a call whose values were read only in part): any
   * combination of them must be allowed. Undefined when the combinations stand for every call.
   */
  apart?: bigint[][];
}

/**
 * The combinations of the pinned arguments' values the recording saw together, and the values it saw
 * apart. A combination that is not made of exact numbers, or combinations that do not add up to the
 * values of `args`, are not used: every value is then "apart".
 */
export function seenTogether(
  call: Pick<SeenCall, "name" | "args" | "combos">,
  pins: readonly PinnedArg[],
  arch?: ArchName,
): SeenTogether {
  const all = { together: [], apart: pins.map((p) => [...p.values]) };
  const order = INTERESTING_ARGS[call.name] ?? [];
  const pos = pins.map((p) => order.indexOf(p.arg));
  const entries = Object.entries(call.combos ?? {});
  if (entries.length === 0 || pos.some((k) => k < 0)) return all;
  // per interesting argument: value text → calls the combinations account for
  const accounted = order.map(() => new Map<string, number>());
  const together = new Map<string, bigint[]>();
  for (const [key, n] of entries) {
    const parts = key.split(",");
    if (parts.length !== order.length) return all;
    parts.forEach((t, k) => {
      accounted[k].set(t, (accounted[k].get(t) ?? 0) + n);
    });
    const values: bigint[] = [];
    for (const [j, p] of pins.entries()) {
      const v = parseArgValue(parts[pos[j]], arch);
      if (v === undefined) return all;
      values.push(p.mask === undefined ? v : v & p.mask);
    }
    together.set(values.join(","), values);
  }
  // the values of calls without a combination: those seen more often than the combinations account for
  const residual: bigint[][] = [];
  for (const [j, p] of pins.entries()) {
    const seen = call.args[p.arg] ?? {};
    const counted = accounted[pos[j]];
    for (const t of counted.keys()) if (seen[t] === undefined) return all; // not the same calls
    const left = new Set<bigint>();
    for (const [t, n] of Object.entries(seen)) {
      if ((counted.get(t) ?? 0) >= n) continue;
      const v = parseArgValue(t, arch);
      if (v === undefined) return all;
      left.add(p.mask === undefined ? v : v & p.mask);
    }
    residual.push([...left].sort(ascending));
  }
  const out: SeenTogether = { together: [...together.values()].sort(compareTuples) };
  // (an argument none of those calls had a value for: any value seen for it)
  if (residual.some((r) => r.length > 0))
    out.apart = residual.map((r, j) => (r.length > 0 ? r : [...pins[j].values]));
  return out;
}

/** Every combination of one choice per list (one value per argument, one condition per argument …). */
export function product<T>(perArg: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const values of perArg) out = out.flatMap((a) => values.map((v) => [...a, v]));
  return out;
}

function compareTuples(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}
