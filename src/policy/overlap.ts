import type { Condition } from "./model.js";

// Can two sets of argument conditions hold at once? Answered exactly, per argument, over an unsigned
// `bits`-wide domain: ranges from < <= > >=, points from == and !=, and bit patterns from &== combined.
// Used to refuse OCI profiles whose meaning would depend on libseccomp's internal rule order.

/** Arguments (index → value) for which every condition holds, or undefined when none exist. */
export function commonWitness(
  conditions: readonly Condition[],
  bitsOf: (arg: number) => number,
): bigint[] | undefined {
  const byArg = new Map<number, Condition[]>();
  for (const c of conditions) byArg.set(c.arg, [...(byArg.get(c.arg) ?? []), c]);
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const [arg, list] of byArg) {
    const x = satisfyOne(list, bitsOf(arg));
    if (x === undefined) return undefined;
    args[arg] = x;
  }
  return args;
}

/** The smallest value in [0, 2^bits) that satisfies every condition (compared unsigned), if any. */
export function satisfyOne(conditions: readonly Condition[], bits: number): bigint | undefined {
  const max = (1n << BigInt(bits)) - 1n;
  const u = (v: bigint) => BigInt.asUintN(bits, v);
  let lo = 0n;
  let hi = max;
  let eq: bigint | undefined;
  const ne = new Set<bigint>();
  let mask = 0n;
  let pattern = 0n;
  for (const c of conditions) {
    const v = u(c.value);
    switch (c.op) {
      case "==":
        if (eq !== undefined && eq !== v) return undefined;
        eq = v;
        break;
      case "!=":
        ne.add(v);
        break;
      case "<":
        if (v === 0n) return undefined;
        if (v - 1n < hi) hi = v - 1n;
        break;
      case "<=":
        if (v < hi) hi = v;
        break;
      case ">":
        if (v === max) return undefined;
        if (v + 1n > lo) lo = v + 1n;
        break;
      case ">=":
        if (v > lo) lo = v;
        break;
      case "&==": {
        const m = u(c.mask ?? 0n);
        if ((v & ~m & max) !== 0n) return undefined; // can never hold: value bits outside the mask
        if (((pattern ^ v) & mask & m) !== 0n) return undefined;
        mask |= m;
        pattern |= v;
        break;
      }
    }
  }
  if (lo > hi) return undefined;
  const fits = (x: bigint) => x >= lo && x <= hi && (x & mask) === pattern && !ne.has(x);
  if (eq !== undefined) return fits(eq) ? eq : undefined;
  let x = nextWithPattern(lo, mask, pattern, bits);
  while (x !== undefined && x <= hi && ne.has(x))
    x = x === max ? undefined : nextWithPattern(x + 1n, mask, pattern, bits);
  return x !== undefined && x <= hi ? x : undefined;
}

/** The smallest x ≥ from, x < 2^bits, with (x & mask) == pattern. */
export function nextWithPattern(
  from: bigint,
  mask: bigint,
  pattern: bigint,
  bits: number,
): bigint | undefined {
  const freeBits: bigint[] = [];
  for (let b = 0n; b < BigInt(bits); b++) if (((mask >> b) & 1n) === 0n) freeBits.push(1n << b);
  // Spreading a counter over the free bits is monotonic: binary-search the first counter value that reaches `from`.
  const spread = (c: bigint) => {
    let x = pattern;
    freeBits.forEach((bit, i) => {
      if ((c >> BigInt(i)) & 1n) x |= bit;
    });
    return x;
  };
  let a = 0n;
  let b = (1n << BigInt(freeBits.length)) - 1n;
  if (spread(b) < from) return undefined;
  while (a < b) {
    const mid = (a + b) >> 1n;
    if (spread(mid) >= from) b = mid;
    else a = mid + 1n;
  }
  return spread(a);
}
